"""The team's repository, generated from the cookiecutter template with answers taken
from the request (`dsplatform request scaffold`).

A module of its own because it is where the request meets the template: it maps request
fields to template answers (and back, so the template's own rules report at the request's
line and column, which `request validate` uses) and renders into a staging folder so a
failure leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from pathlib import Path

from dsplatform.infra import PULUMI_PROJECT_DIRECTORY
from dsplatform.infra.config.load import resolve_environment
from dsplatform.infra.config.problems import Problem
from dsplatform.infra.config.schema import ProjectFile
from dsplatform.infra.request import RequestError

# The cookiecutter template is the folder that holds the Pulumi project (infra/).
TEMPLATE_DIRECTORY = PULUMI_PROJECT_DIRECTORY.parent


def scaffold_answers(project_file: ProjectFile, environment: str | None = None, source: str = "request") -> dict[str, str]:
    """The cookiecutter answers a request implies, so that the repository's names, tags and
    services agree with the platform's."""
    from dsplatform.template import person_folder

    request = project_file.request
    if request is None:
        raise RequestError(
            [
                f"{source}: request: is required to scaffold (expected display_name, contact_email, owners, and optionally description, cicd, python_version, sample)"
            ]
        )
    features = resolve_environment(project_file, environment, source).features if environment else project_file.features
    if features.databricks and features.azureml:
        compute = "both"
    elif features.databricks or features.azureml:
        compute = "databricks" if features.databricks else "azureml"
    else:
        raise RequestError([f"{source}: features: turn on databricks or azureml (or both); the repository needs a compute target"])
    authors = list(dict.fromkeys(person_folder(owner) for owner in request.owners))
    return {
        "project_name": request.display_name,
        "project": project_file.project,
        "description": request.description or f"{request.display_name} on the data-science platform.",
        "owner": project_file.tags.owner,
        "owner_email": request.contact_email,
        "cost_center": project_file.tags.cost_center,
        "data_classification": project_file.tags.data_classification,
        "cicd": request.cicd,
        "compute": compute,
        "python_version": request.python_version,
        "sample": request.sample,
        "azure_location": project_file.location,
        "notebook_authors": ", ".join(authors),
    }


# Which request field each template answer comes from, so the template's own rules can
# report at the request's line and column.
ANSWER_FIELDS: dict[str, tuple[str, ...]] = {
    "project_name": ("request", "display_name"),
    "project": ("project",),
    "description": ("request", "description"),
    "owner": ("tags", "owner"),
    "owner_email": ("request", "contact_email"),
    "cost_center": ("tags", "cost_center"),
    "data_classification": ("tags", "data_classification"),
    "cicd": ("request", "cicd"),
    "compute": ("features",),
    "python_version": ("request", "python_version"),
    "sample": ("request", "sample"),
    "azure_location": ("location",),
    "notebook_authors": ("request", "owners"),
}


def template_answer_problems(project_file: ProjectFile) -> list:
    """The template's answer rules (dsplatform.template.answer_problems) applied to the
    answers this request implies, reported at the request's own fields. `request validate`
    runs them, so a request it accepts is never refused later by `request scaffold`,
    whatever the template decides to allow."""
    from dsplatform.template import answer_problems

    if project_file.request is None:
        return []
    try:
        answers = scaffold_answers(project_file)
    except RequestError:
        return []  # no compute target: scaffold says so itself; the infrastructure is still valid
    problems = []
    for problem in answer_problems(answers):
        answer, _, message = problem.partition(": ")
        location = ANSWER_FIELDS.get(answer, ("request",))
        field = ".".join(location)
        problems.append(Problem(f"{field}: {message} (the repository's {answer} answer)", location))
    return problems


def scaffold(answers: dict[str, str], output: Path, source: str = "request", template: Path = TEMPLATE_DIRECTORY) -> Path:
    """Render the template into a temporary folder next to the target and move it into
    place only when complete: a failure leaves nothing behind (mlops-v2 #106)."""
    from dsplatform.template import answer_problems

    problems = answer_problems(answers)
    if problems:
        raise RequestError([f"{source}: template answer {problem}" for problem in problems] + ["Nothing was written."])
    if not (template / "cookiecutter.json").is_file():
        raise RequestError([f"error: no cookiecutter template at {template} (cookiecutter.json is missing)"])
    target = output / answers["project"]
    if target.exists():
        raise RequestError([f"error: {target} already exists; choose another --output or remove it"])
    # The topmost folder this call creates: on failure it goes, with everything below it.
    created = next((folder for folder in reversed([output, *output.parents]) if not folder.exists()), None)
    try:
        output.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".scaffold-", dir=output))
    except OSError as error:
        raise RequestError([f"error: cannot write to {output} ({error.strerror})"]) from None
    try:
        from cookiecutter.main import cookiecutter

        captured = io.StringIO()
        # The hooks run as processes of their own, past redirect_stdout; this one line tells
        # them the summary and the next step are ours to print.
        previous = os.environ.get("DSPLATFORM_CALLER_REPORTS")
        os.environ["DSPLATFORM_CALLER_REPORTS"] = "1"
        try:
            with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
                generated = Path(cookiecutter(str(template), no_input=True, extra_context=answers, output_dir=str(staging)))
        finally:
            if previous is None:
                os.environ.pop("DSPLATFORM_CALLER_REPORTS", None)
            else:
                os.environ["DSPLATFORM_CALLER_REPORTS"] = previous
        generated.rename(target)
    except (Exception, SystemExit) as error:  # cookiecutter raises many types; none may become a traceback
        detail = captured.getvalue().strip().splitlines() if "captured" in locals() else []
        reason = detail[-1] if detail else f"{type(error).__name__}: {error}"
        shutil.rmtree(staging, ignore_errors=True)
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise RequestError([f"error: generating the repository failed ({reason}); nothing was written"]) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
