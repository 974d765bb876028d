"""Jinja filters and globals for the template, loaded by cookiecutter as an extension.

Cookiecutter puts the template repository on `sys.path` while it loads extensions, so
this module is importable as `hooks.template_filters`. The rules themselves live in
`dsplatform.template`, shared with the hooks, the tests and CI.
"""

import logging
import sys
from pathlib import Path

from jinja2 import TemplateSyntaxError
from jinja2.ext import Extension

DSPLATFORM_PATH = Path(__file__).resolve().parent.parent / "infra"
sys.path.insert(0, str(DSPLATFORM_PATH))

from dsplatform.template import answer_problems, azure_names, package_name, person_folder, problems_message, slug_filter  # noqa: E402


class _HookFailureWithoutTraceback(logging.Filter):
    """Our pre-generation hook already printed one line per bad answer; cookiecutter
    would add a Python traceback of its own internals after it, which helps nobody."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Stopping generation because"):
            record.exc_info = None
            record.exc_text = None
        return True


def checked_package(answers) -> str:
    """Validate every answer while cookiecutter still renders its variables.

    This runs before cookiecutter creates the project directory, so an answer such as
    an empty or path-like slug never produces a directory at all. The pre-generation
    hook applies the same rules again for runs that bypass this filter.
    """
    problems = answer_problems(dict(answers))
    if problems:
        print(problems_message(problems), file=sys.stderr)
        raise SystemExit(1)
    return package_name(answers["project"])


def _refusing_unparsable_answers(from_string):
    """Cookiecutter renders every answer as a Jinja template; an answer such as '{{' would
    end in a bare TemplateSyntaxError traceback. Our own files always parse, so a syntax
    error here is an answer's: refuse it like any other bad answer."""

    def parse(source, *args, **kwargs):
        try:
            return from_string(source, *args, **kwargs)
        except TemplateSyntaxError as error:
            answer = str(source)[:60]
            problem = f"answer {answer!r}: contains template syntax Jinja cannot read ({error.message}); write it without {{{{, {{% or {{#"
            print(problems_message([problem]), file=sys.stderr)
            raise SystemExit(1) from None

    return parse


class TemplateFilters(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["project_slug"] = slug_filter
        environment.filters["person_folder"] = person_folder
        environment.filters["checked_package"] = checked_package
        # Deployment files name Azure resources exactly as infra/ creates them.
        environment.globals["azure_names"] = azure_names
        environment.from_string = _refusing_unparsable_answers(environment.from_string)
        # Hooks run as copies in a temporary folder; this tells them where dsplatform is.
        environment.globals["dsplatform_path"] = str(DSPLATFORM_PATH)
        hooks_logger = logging.getLogger("cookiecutter.hooks")
        if not any(isinstance(existing, _HookFailureWithoutTraceback) for existing in hooks_logger.filters):
            hooks_logger.addFilter(_HookFailureWithoutTraceback())
