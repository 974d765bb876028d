"""Jinja filters and globals for the template, loaded by cookiecutter as an extension;
and the guard that keeps answers data.

Cookiecutter puts the template repository on `sys.path` while it loads extensions, so
this module is importable as `hooks.template_filters`, and the `dsplatform` package beside
it too, with no path edits. The rules themselves live in `dsplatform.template` and
`dsplatform.escaping`, shared with the hooks, the tests and CI.
"""

import json
import logging
import re
import sys
from pathlib import Path

from jinja2 import TemplateSyntaxError
from jinja2.ext import Extension

from dsplatform.escaping import FILTERS
from dsplatform.template import (
    answer_problems,
    azure_names,
    has_template_syntax,
    normalise_answers,
    package_name,
    person_folder,
    problems_message,
    slug_filter,
    template_syntax_problem,
)
from dsplatform.vocabulary import CHOICE_LABELS, CHOICES

TEMPLATE_DIR = Path(__file__).resolve().parent.parent


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

    `answers` is cookiecutter's own dictionary of answers, which it goes on to generate
    from: answers whose meaning is clear ('Confidential') are put in their normal form there.
    """
    problems = _normalised_answer_problems(answers)
    if problems:
        _refuse(problems, saved=_save_typed_answers(answers) if _prompt_loop_value("no_input") is False else None)
    return package_name(answers["project"])


def _normalised_answer_problems(answers: dict) -> list[str]:
    """Put the answers whose meaning is clear in their normal form, in place; return every problem left."""
    answers.update(normalise_answers(answers))
    return answer_problems(dict(answers))


ANSWERS_FILE = "cookiecutter-answers.yaml"


def _save_typed_answers(answers) -> Path | None:
    """Keep a person's typed answers when they are refused, as a cookiecutter config file
    whose `default_context` makes them the defaults of the next run: one typo no longer
    costs every answer. Answers holding template syntax are left out (asked afresh)."""
    import yaml  # cookiecutter's own dependency: this runs inside cookiecutter

    kept = {key: value for key, value in answers.items() if not key.startswith("_") and not has_template_syntax(value)}
    # Derived answers left as derived follow the corrected answers they come from.
    derived = {"project": slug_filter(str(answers.get("project_name"))), "notebook_authors": person_folder(str(answers.get("owner_email")))}
    kept = {key: value for key, value in kept.items() if derived.get(key) != value}
    path = Path.cwd() / ANSWERS_FILE
    try:
        path.write_text(yaml.safe_dump({"default_context": kept}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    except OSError:
        return None
    return path


def _refuse(problems: list[str], saved: Path | None = None):
    message = problems_message(problems)
    if saved is not None:
        message = message.rsplit("\n", 1)[0] + (
            f"\nNothing was generated. Your answers are saved in {saved}; correct them there, or start again from them with:"
            f"\n  cookiecutter --config-file {saved} {TEMPLATE_DIR}"
        )
    print(message, file=sys.stderr)
    raise SystemExit(1)


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in (*_strings(key), *_strings(item))]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def template_sources(template_dir: Path = TEMPLATE_DIR) -> tuple[frozenset[str], frozenset[str]]:
    """What this template itself asks Jinja to render through `from_string`: the strings
    in its cookiecutter.json and its hook scripts (whole sources), and the names of the
    files and folders under its project folder (path components)."""
    sources = set(_strings(json.loads((template_dir / "cookiecutter.json").read_text(encoding="utf-8"))))
    sources |= {path.read_text(encoding="utf-8") for path in (template_dir / "hooks").glob("*_project.*") if path.is_file()}
    names = set()
    for project_folder in template_dir.glob("*{{*cookiecutter*}}*"):
        names.add(project_folder.name)
        names |= {path.name for path in project_folder.rglob("*")}
    return frozenset(sources), frozenset(name for name in names if has_template_syntax(name))


def _prompt_loop_value(name: str):
    """A variable of cookiecutter's prompt loop (cookiecutter.prompt.prompt_for_config):
    `key`, the answer being rendered, so a refusal can name it; `no_input`, whether a person
    is typing the answers. None outside the loop."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "prompt_for_config" and name in frame.f_locals:
            return frame.f_locals[name]
        frame = frame.f_back
    return None


class _Literal:
    """A 'template' that renders to its own text: what every source without template syntax is."""

    def __init__(self, text: str):
        self.text = text

    def render(self, *args, **kwargs) -> str:
        return self.text


class _CheckedPathName:
    """A template-owned file or folder path whose rendered names must stay single names:
    an answer (a replayed `project` or `__package` of '../x') may not move a file or folder."""

    def __init__(self, template, parts: list[str]):
        self.template, self.parts = template, parts

    def render(self, *args, **kwargs) -> str:
        rendered = self.template.render(*args, **kwargs)
        parts = re.split(r"[\\/]", rendered)
        moved = len(parts) != len(self.parts) or any(
            has_template_syntax(source) and (name in {"", ".", ".."} or "\0" in name)
            for source, name in zip(self.parts, parts, strict=True)
        )
        if moved:
            answer = ", ".join(sorted(set(re.findall(r"cookiecutter\.(\w+)", "/".join(self.parts))))) or "answer"
            _refuse([f"{answer}: makes the file or folder name {rendered!r}, which leaves its folder; use a single name"])
        return rendered


def _every_problem(first: str) -> list[str]:
    """`first` (an answer holding template syntax) and the problems of every other answer given
    as plain text, so one run names every mistake instead of one per run.

    The refusal comes while cookiecutter renders its answers, before the later ones are
    rendered; the answers as given are in its prompt loop's `context`. Answers the template
    derives ('{{ cookiecutter.project_name|slugify }}') cannot be known yet and are left out.
    """
    context = _prompt_loop_value("context")
    given = context.get("cookiecutter", {}) if isinstance(context, dict) else {}
    sources, _ = template_sources()
    plain = {key: value for key, value in given.items() if not key.startswith("_") and isinstance(value, str) and value not in sources}
    others = [problem for problem in _normalised_answer_problems(plain) if problem.split(":", 1)[0] in plain and problem != first]
    return [first, *others]


def _rendering_only_template_sources(from_string):
    """Cookiecutter renders every answer that arrives through `--no-input key=value`, a
    config file's `default_context` or a replay as a Jinja template, before any check of
    ours: `{{ 7*7 }}` became 49 and an expression reaching Python's globals ran a command.
    Jinja's sandbox would still evaluate expressions. So Jinja renders only what this
    template wrote; any other text holding template syntax is refused before anything
    runs, and text without it is returned as it is."""

    owned: dict[str, frozenset[str]] = {}

    def parse(source, *args, **kwargs):
        text = str(source)
        if not has_template_syntax(text):
            return _Literal(text)
        if not owned:
            owned["sources"], owned["names"] = template_sources()
        sources, names = owned["sources"], owned["names"]
        parts = re.split(r"[\\/]", text)
        if text in sources:
            path_parts = None
        elif all(part in names for part in parts if has_template_syntax(part)):
            path_parts = parts
        else:
            answer = _prompt_loop_value("key")
            _refuse(_every_problem(template_syntax_problem(answer) if answer else template_syntax_problem(f"answer {text[:60]!r}")))
        try:
            template = from_string(source, *args, **kwargs)
        except TemplateSyntaxError as error:  # only when a replay changed Jinja's delimiters
            _refuse([f"template: cannot be read with these settings ({error.message}); do not override _jinja2_env_vars"])
        return _CheckedPathName(template, path_parts) if path_parts else template

    return parse


def _menu_for(read_user_variable, read_user_choice):
    """Ask the fixed-choice questions as cookiecutter's numbered menus, which re-ask on a typo.

    They stay plain strings in cookiecutter.json on purpose: cookiecutter checks a list
    answer given through `--no-input key=value` before any code of ours runs and stops with
    a Python traceback (cookiecutter.generate.apply_overwrites_to_context raises ValueError),
    whereas a string reaches our one-line refusal. So only the interactive question, which
    cookiecutter asks through `read_user_variable`, is turned into its own menu here, with
    the current default first (Enter keeps it), as cookiecutter orders a list's default.
    """

    def ask(var_name, default_value, prompts=None, prefix=""):
        allowed = CHOICES.get(var_name)
        if allowed is None:
            return read_user_variable(var_name, default_value, prompts, prefix)
        default = normalise_answers({var_name: default_value}).get(var_name, default_value)
        options = [default, *(option for option in allowed if option != default)] if default in allowed else list(allowed)
        question = (prompts or {}).get(var_name) or var_name
        labels = CHOICE_LABELS.get(var_name, {})
        menu = {var_name: {"__prompt__": question, **{option: labels.get(option, option) for option in options}}}
        return read_user_choice(var_name, options, menu, prefix)

    ask.asks_choices_as_menus = True
    return ask


def _ask_choices_as_menus() -> None:
    import cookiecutter.prompt as prompt  # this module is only ever loaded by cookiecutter

    if not getattr(prompt.read_user_variable, "asks_choices_as_menus", False):
        prompt.read_user_variable = _menu_for(prompt.read_user_variable, prompt.read_user_choice)


class TemplateFilters(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["project_slug"] = slug_filter
        environment.filters["person_folder"] = person_folder
        environment.filters["checked_package"] = checked_package
        # Free-text answers are escaped for the format of the file they land in.
        environment.filters.update(FILTERS)
        # Deployment files name Azure resources exactly as infra/ creates them.
        environment.globals["azure_names"] = azure_names
        environment.from_string = _rendering_only_template_sources(environment.from_string)
        # Hooks run as copies in a temporary folder; this tells them where dsplatform is
        # when cookiecutter runs from a plain clone (no `pip install -e .`): the one injected path.
        environment.globals["dsplatform_path"] = str(TEMPLATE_DIR)
        _ask_choices_as_menus()
        hooks_logger = logging.getLogger("cookiecutter.hooks")
        if not any(isinstance(existing, _HookFailureWithoutTraceback) for existing in hooks_logger.filters):
            hooks_logger.addFilter(_HookFailureWithoutTraceback())
