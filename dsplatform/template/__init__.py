"""Rules for the cookiecutter template's answers and the files each answer selects.

Why here and not in the hooks: the pre- and post-generation hooks, the Jinja filters
that derive defaults, the template tests and CI all need the same rules. Keeping them
in one importable, standard-library-only module stops them drifting apart.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from dsplatform.naming import (
    KUBERNETES_COMPUTE_NAME,
    SCORING_NAMESPACE,
    _ascii_words,
    project_slug_problems,
    resource_names,
    slug_from_name,
)
from dsplatform.vocabulary import (
    AZURE_LOCATIONS,
    CHOICES,
    ENVIRONMENTS,
    TEMPLATE_SYNTAX,
    control_characters,
    email_problems,
    location_problems,
    single_line_problems,
    tag_value_problems,
)

PERSON_FOLDER_PATTERN = re.compile(r"^[a-z][a-z0-9._-]{0,39}$")

# Paths (relative to the generated repository) that exist only for some answers.
# The post-generation hook deletes the ones the answers did not select. Each option's
# text in the README and the docs is a folder of fragments, .fragments/<option>/<file>/NN-*.md
# (.fragments/all/ for every project), pruned the same way and then assembled into <file>
# (`assemble_fragments`), so the README and docs describe what was generated.
FRAGMENTS = ".fragments"
OPTIONAL_PATHS: dict[str, dict[str, tuple[str, ...]]] = {
    "cicd": {
        "azure_devops": (".ado", ".fragments/azure_devops"),
        "github": (".github", ".fragments/github"),
    },
    "compute": {
        "databricks": (
            ".fragments/databricks",
            "databricks.yml",
            # Unity Catalog feature tables (the batch-scoring sample's) and their contract test.
            "code/{package}/batch_scoring/feature_store_databricks.py",
            "tests/batch_scoring/test_feature_store_databricks.py",
            "pipelines/databricks",
            ".cloud/databricks",
            ".ado/databricks.yml",
            ".ado/databricks-cli.yml",
            ".github/workflows/databricks.yml",
        ),
        "azureml": (
            ".fragments/azureml",
            ".cloud/azureml",
            # Data Factory runs the Azure ML batch scoring: it needs azureml and batch_scoring.
            ".cloud/datafactory",
            "pipelines/azureml",
            # Building and submitting an Azure ML job from Python (the batch-scoring sample's).
            "code/{package}/batch_scoring/azureml_job.py",
            "tests/batch_scoring/test_azureml_job.py",
            "notebooks/examples/03_submit_training_job.ipynb",
            ".ado/azureml.yml",
            ".ado/azureml-deploy.yml",
            ".github/workflows/azureml.yml",
            # The forecast service's controlled rollout on the managed online endpoint (many-models sample).
            ".ado/serving-azureml.yml",
            ".github/workflows/serving-azureml.yml",
        ),
    },
    "sample": {
        # Each sample is one package folder, one tests folder, its docs and its deployment
        # definitions; core/ and the entry point that finds whichever samples remain are shared.
        "batch_scoring": (
            ".fragments/batch_scoring",
            # Its page's compute-specific parts live with the compute's fragments.
            ".fragments/databricks/docs/feature-tables.md",
            ".fragments/azureml/docs/feature-tables.md",
            "code/{package}/batch_scoring",
            "tests/batch_scoring",
            "notebooks/examples",
            *(f"docs/{name}.md" for name in ("data-contracts", "monitoring", "steps-on-databricks-and-azureml")),
            # Its jobs, components, pipelines, endpoints and the CI/CD that deploys them.
            *(f"pipelines/databricks/{job}.yml" for job in ("training", "batch_scoring", "monitoring", "feature_refresh")),
            *(
                f"pipelines/azureml/{name}"
                for name in ("training.yml", "monitoring.yml", "monitoring-schedule.yml", "feature-refresh.yml", "feature-refresh-schedule.yml", "deploy.sh")
            ),
            ".cloud/azureml/components/batch_scoring",
            ".cloud/azureml/endpoints/batch",
            ".cloud/azureml/endpoints/online",
            ".cloud/datafactory",
            ".ado/azureml.yml",
            ".ado/azureml-deploy.yml",
            ".github/workflows/azureml.yml",
        ),
        "many_models": (
            ".fragments/many_models",
            "code/{package}/many_models",
            "tests/many_models",
            "docs/many-models.md",
            "benchmarks/many_models.py",
            # Its serving container, jobs, components, pipeline and endpoint.
            ".cloud/docker/many-models.Dockerfile",
            ".cloud/kubernetes/many-models-serving.yml",
            # Its stress-test profile, the canary and the pipelines that gate and roll out the service.
            ".cloud/kubernetes/many-models-canary.yml",
            ".cloud/serving-profile.json",
            ".github/workflows/serving.yml",
            ".ado/serving.yml",
            ".github/workflows/serving-azureml.yml",
            ".ado/serving-azureml.yml",
            ".cloud/azureml/endpoints/many-models",
            ".cloud/azureml/components/many_models",
            "pipelines/databricks/many_models.yml",
            "pipelines/azureml/many_models.yml",
        ),
    },
}  # fmt: skip
# "both" selects the union of its parts.
COMPUTE_PARTS = {"databricks": ("databricks",), "azureml": ("azureml",), "both": ("databricks", "azureml")}
SAMPLE_PARTS = {"batch_scoring": ("batch_scoring",), "many_models": ("many_models",), "both": ("batch_scoring", "many_models")}


def person_folder(text: str) -> str:
    """Derive a notebook folder name from an e-mail address or a person's name in any
    language, transliterated as project names are: 'Max Müller' -> 'max.muller'."""
    local_part = str(text).split("@", 1)[0]
    folder = ".".join(_ascii_words(local_part)) or "analyst"
    if not folder[0].isalpha():
        folder = f"u{folder}"
    return folder[:40]


def author_names(answer: str) -> list[str]:
    """The notebook_authors answer as given: comma-separated names, folder names or e-mails."""
    return [name.strip() for name in str(answer).split(",") if name.strip()]


def author_folder(name: str) -> str:
    """A name already written as a folder name stays as it is; any other becomes one."""
    return name if PERSON_FOLDER_PATTERN.match(name) else person_folder(name)


def notebook_authors(answer: str) -> list[str]:
    """One notebook folder per author."""
    return [author_folder(name) for name in author_names(answer)]


def normalise_answers(answers: Mapping[str, object]) -> dict[str, str]:
    """The answers whose meaning is clear though their form is not: a choice in another case
    ('Confidential', 'GitHub') or a region written as the portal shows it ('West Europe').
    Returns only the answers that change, with their normal form."""
    changes = {}
    for answer, allowed in CHOICES.items():
        value = answers.get(answer)
        if isinstance(value, str) and value not in allowed:
            matches = [option for option in allowed if option.lower() == value.strip().lower()]
            if matches:
                changes[answer] = matches[0]
    location = answers.get("azure_location")
    if isinstance(location, str) and location not in AZURE_LOCATIONS:
        compact = re.sub(r"[\s-]", "", location).lower()
        if compact in AZURE_LOCATIONS:
            changes["azure_location"] = compact
    return changes


def _tag_value_problems(field: str, value: object, *, required: bool = True) -> list[str]:
    return [f"{field}: {problem}" for problem in tag_value_problems(value, required=required)]


def has_template_syntax(text: object) -> bool:
    return any(mark in str(text) for mark in TEMPLATE_SYNTAX)


def template_syntax_problem(answer: str) -> str:
    return f"{answer}: contains template syntax ({{{{, {{% or {{#); answers are text, never run as templates: write it without them"


def answer_problems(answers: Mapping[str, object]) -> list[str]:
    """Every problem with a set of answers, one line each, naming the answer and its allowed form."""
    problems: list[str] = []
    for answer, value in answers.items():
        if not answer.startswith("_") and isinstance(value, str) and has_template_syntax(value):
            problems.append(template_syntax_problem(answer))
    # Derived, never asked: only a replay file can carry its own value, which names a folder.
    if "__package" in answers and answers["__package"] != package_name(str(answers.get("project", ""))):
        problems.append("__package: is derived from project; remove it from the replay file")
    project_name = str(answers.get("project_name", ""))
    if not project_name.strip():
        problems.append("project_name: is empty; give the project's human name, for example 'Predictive Maintenance'")
    else:
        problems += [f"project_name: {problem}" for problem in single_line_problems(project_name, 80)]

    problems += [f"project: {problem}" for problem in project_slug_problems(str(answers.get("project", "")))]

    problems += [f"description: {problem}" for problem in single_line_problems(str(answers.get("description", "")), 300)]

    problems += _tag_value_problems("owner", answers.get("owner", ""))
    problems += _tag_value_problems("cost_center", answers.get("cost_center", ""))

    problems += [f"owner_email: {problem}" for problem in email_problems(answers.get("owner_email", ""))]

    for answer, allowed in CHOICES.items():
        value = str(answers.get(answer, ""))
        if value not in allowed:
            problems.append(f"{answer}: '{value}' is not allowed; use one of: {', '.join(allowed)}")

    problems += [f"azure_location: {problem}" for problem in location_problems(str(answers.get("azure_location", "")))]

    names = author_names(str(answers.get("notebook_authors", "")))
    if not names:
        problems.append("notebook_authors: is empty; give at least one name, for example 'Alice Martin, bob.smith'")
    for name in names:
        if not _ascii_words(name.split("@", 1)[0]) or control_characters(name):
            problems.append(f"notebook_authors: '{name}' has no letters or digits to name a folder with; write the person's name")
        elif author_folder(name) in {"examples", "shared"}:
            problems.append(
                f"notebook_authors: '{name}' would be the folder '{author_folder(name)}', which the template uses; give a person's name"
            )
    folders = [author_folder(name) for name in names]
    if len(set(folders)) != len(folders):
        problems.append("notebook_authors: lists a person twice (names that make the same folder); give each person once")
    return problems


def package_name(project: str) -> str:
    """The generated Python package: the slug with underscores."""
    return project.replace("-", "_")


def problems_message(problems: list[str]) -> str:
    lines = ["The template cannot be generated from these answers:"]
    lines += [f"  - {problem}" for problem in problems]
    lines.append("Nothing was written. Correct the answers above and run cookiecutter again.")
    return "\n".join(lines)


def paths_to_prune(answers: Mapping[str, object]) -> list[str]:
    """Paths the answers did not select, relative to the generated repository."""
    selected = {
        "cicd": {str(answers["cicd"])},
        "compute": set(COMPUTE_PARTS[str(answers["compute"])]),
        "sample": set(SAMPLE_PARTS[str(answers.get("sample", "both"))]),
    }
    package = package_name(str(answers.get("project", "")))
    return sorted(
        path.format(package=package)
        for answer, options in OPTIONAL_PATHS.items()
        for option, paths in options.items()
        if option not in selected[answer]
        for path in paths
    )


def selected_options(answers: Mapping[str, object]) -> set[str]:
    """Every option the answers select, with "both" as its parts."""
    return {
        str(answers["cicd"]),
        *COMPUTE_PARTS[str(answers["compute"])],
        *SAMPLE_PARTS[str(answers.get("sample", "both"))],
    }


def combined_fragments_to_prune(project_dir: Path, answers: Mapping[str, object]) -> list[str]:
    """Fragment folders for a pair of options (`.fragments/databricks+many_models/`: the
    many-models job on Databricks) stay only when every option they name was selected."""
    chosen = selected_options(answers)
    folder = project_dir / FRAGMENTS
    combined = sorted(path.name for path in folder.glob("*+*")) if folder.is_dir() else []
    return [f"{FRAGMENTS}/{name}" for name in combined if not set(name.split("+")) <= chosen]


def prune(project_dir: Path, answers: Mapping[str, object]) -> list[str]:
    removed = []
    for relative in [*paths_to_prune(answers), *combined_fragments_to_prune(project_dir, answers)]:
        target = project_dir / relative
        if target.is_dir():
            shutil.rmtree(target)
            removed.append(relative)
        elif target.exists():
            target.unlink()
            removed.append(relative)
    return removed


def assemble_fragments(project_dir: Path) -> list[str]:
    """Write each file that has fragments from the ones pruning kept, ordered by their numbered names."""
    folder = project_dir / FRAGMENTS
    if not folder.is_dir():
        return []
    targets: dict[str, list[Path]] = {}
    # .fragments/<option>/<target path>/<NN-name>.md; the target folders are named like files (README.md).
    for fragment in (path for path in folder.rglob("*.md") if path.is_file()):
        target = fragment.parent.relative_to(folder).as_posix().split("/", 1)[1]
        targets.setdefault(target, []).append(fragment)
    for target, fragments in targets.items():
        fragments.sort(key=lambda path: (path.name, path.as_posix()))
        (project_dir / target).write_text("".join(path.read_text(encoding="utf-8") for path in fragments), encoding="utf-8")
    shutil.rmtree(folder)
    return sorted(targets)


def first_run_command(answers: Mapping[str, object]) -> str:
    """The make target that runs the generated project's sample end to end, for the hook's hint."""
    samples = SAMPLE_PARTS[str(answers.get("sample", "both"))]
    return "make pipeline" if "batch_scoring" in samples else "make many-models"


def create_notebook_folders(project_dir: Path, answers: Mapping[str, object]) -> None:
    """Give every author a personal notebook folder, so exploration never lands in examples/."""
    for author in notebook_authors(str(answers["notebook_authors"])):
        folder = project_dir / "notebooks" / author
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".gitkeep").touch()


def initialise_git(project_dir: Path, answers: Mapping[str, object]) -> str:
    """Start the repository with one commit, so model versions can record a commit from the first run."""
    if shutil.which("git") is None:
        return "git is not installed; run 'git init' yourself later"
    identity = ["-c", f"user.name={answers['owner']}", "-c", f"user.email={answers['owner_email']}"]
    steps = [
        ["git", "init", "--quiet", "--initial-branch=main"],
        ["git", "add", "--all"],
        ["git", *identity, "commit", "--quiet", "--no-verify", "-m", "Generate project from the data-science template"],
    ]
    for step in steps:
        result = subprocess.run(step, cwd=project_dir, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            return f"git step '{' '.join(step[:2])}' failed ({result.stderr.strip()}); the files are complete"
    return "initialised git with one commit on 'main'"


def azure_names(project: str) -> dict[str, dict[str, str]]:
    """Every environment's Azure names as `infra/` derives them, for the deployment files.

    Names that carry the overridable suffix (storage, Key Vault, registry) are the
    defaults; the deployment files take them as variables so an override still works.
    """
    names = {}
    for environment in ENVIRONMENTS:
        derived = resource_names(project, environment).as_dict()
        derived |= {"kubernetes_compute": KUBERNETES_COMPUTE_NAME, "scoring_namespace": SCORING_NAMESPACE}
        names[environment] = derived
    return names


def slug_filter(name: str) -> str:
    return slug_from_name(name)
