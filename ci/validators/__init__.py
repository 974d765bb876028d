"""The official validator of every kind of file a generated repository holds, one function per kind.

Why one place: the template CI command, the tests and the corruption test must agree on
which validator judges which file. Files are found by location and by their `$schema`
line, so new job files (monitoring, many-models) are covered without edits here. Every
problem is one line that starts with the file's path, so a failure says where to look.

This package's own module is that place: it finds the files (`repository_files`),
decides each file's kind (`file_kind`) and hands it to its validator (`validate_files`).
The validators themselves live in a module per family, each knowing nothing of the others:
`leftovers` (template syntax left after rendering), `bundles` (Databricks), `azureml`,
`ci_schemas` (Azure Pipelines schema, actionlint), `ci_security` (pinned actions, no
pull-request cloud login), `kubernetes`, `plain` (YAML, notebooks, shell, Python) and
`datafactory`; `common` holds the path and message rules they share.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

# Every public name of the single module this package replaced stays importable from here.
from ci.validators.azureml import AZUREML_LOADERS, AZUREML_PLAIN_FILES, AZUREML_SCHEMA_URL, azureml_loader_name, validate_azureml
from ci.validators.bundles import BUNDLE_SCHEMA, validate_bundle
from ci.validators.ci_schemas import ACTIONLINT, actionlint_binary, validate_azure_pipelines, validate_github_workflows
from ci.validators.ci_security import (
    ADO_CONNECTION_INPUTS,
    ADO_LOGIN_TASK,
    CLI_LOGIN,
    PINNED_REF,
    PR_VALIDATION_ENVIRONMENT,
    PULL_REQUEST_EVENTS,
    USES_LINE,
    VERSION_COMMENT,
    ado_templates,
    validate_action_pins,
    validate_ado_pull_request_logins,
    validate_github_pull_request_logins,
)
from ci.validators.common import REPO_ROOT, relative
from ci.validators.datafactory import DATAFACTORY_RESOURCES, datafactory_problems, validate_datafactory
from ci.validators.kubernetes import IMAGE_DIGEST, KUBERNETES_IMAGE_PLACEHOLDER, validate_kubernetes
from ci.validators.leftovers import DATABRICKS_REFERENCE, LEFTOVER_JINJA, leftover_jinja
from ci.validators.plain import validate_notebook, validate_python, validate_shell, validate_yaml

__all__ = [
    "ACTIONLINT",
    "ADO_CONNECTION_INPUTS",
    "ADO_LOGIN_TASK",
    "AZUREML_LOADERS",
    "AZUREML_PLAIN_FILES",
    "AZUREML_SCHEMA_URL",
    "BUNDLE_SCHEMA",
    "CLI_LOGIN",
    "DATABRICKS_REFERENCE",
    "DATAFACTORY_RESOURCES",
    "IMAGE_DIGEST",
    "KINDS",
    "KUBERNETES_IMAGE_PLACEHOLDER",
    "LEFTOVER_JINJA",
    "PINNED_REF",
    "PR_VALIDATION_ENVIRONMENT",
    "PULL_REQUEST_EVENTS",
    "REPO_ROOT",
    "USES_LINE",
    "VERSION_COMMENT",
    "actionlint_binary",
    "ado_templates",
    "azureml_loader_name",
    "classify",
    "datafactory_problems",
    "file_kind",
    "leftover_jinja",
    "relative",
    "repository_files",
    "validate_action_pins",
    "validate_ado_pull_request_logins",
    "validate_azure_pipelines",
    "validate_azureml",
    "validate_bundle",
    "validate_datafactory",
    "validate_files",
    "validate_github_pull_request_logins",
    "validate_github_workflows",
    "validate_kubernetes",
    "validate_notebook",
    "validate_own_pipelines",
    "validate_python",
    "validate_repository",
    "validate_shell",
    "validate_yaml",
    "yaml_kind",
]


def repository_files(project: Path) -> list[Path]:
    """Every file of a repository, hidden folders included (pathlib matches hidden folders; glob.glob("**") would skip .ado/ and .cloud/)."""
    return sorted(path for path in project.rglob("*") if path.is_file() and ".git" not in path.relative_to(project).parts)


def yaml_kind(path: Path, project: Path) -> str:
    """bundle, azureml, azure-pipelines, github-workflow or yaml, by location and `$schema`."""
    parts = path.relative_to(project).parts
    name = path.relative_to(project).as_posix()
    if name == "databricks.yml" or (parts[:2] == ("pipelines", "databricks")):
        return "bundle"
    if parts[0] == ".ado":
        return "azure-pipelines"
    if parts[:2] == (".github", "workflows"):
        return "github-workflow"
    if parts[:2] == (".cloud", "kubernetes"):
        return "kubernetes"
    in_azureml_folder = parts[:2] in ((".cloud", "azureml"), ("pipelines", "azureml"))
    if in_azureml_folder and not AZUREML_PLAIN_FILES.search(path.name):
        return "azureml"
    try:
        if azureml_loader_name(path):
            return "azureml"
    except yaml.YAMLError:
        pass
    return "yaml"


KINDS = (
    "bundle",
    "azureml",
    "azure-pipelines",
    "github-workflow",
    "kubernetes",
    "yaml",
    "notebook",
    "shell",
    "python",
    "datafactory",
    "other",
)


def file_kind(path: Path, project: Path) -> str:
    if path.suffix == ".json" and path.relative_to(project).parts[:2] == (".cloud", "datafactory"):
        return "datafactory"
    if path.suffix in (".yml", ".yaml"):
        return yaml_kind(path, project)
    return {".ipynb": "notebook", ".sh": "shell", ".py": "python"}.get(path.suffix, "other")


def classify(project: Path, paths: Iterable[Path] | None = None) -> dict[str, list[Path]]:
    kinds: dict[str, list[Path]] = {kind: [] for kind in KINDS}
    for path in repository_files(project) if paths is None else paths:
        kinds[file_kind(path, project)].append(path)
    return kinds


def validate_files(project: Path, paths: Iterable[Path]) -> list[str]:
    """The problems of some files of a repository, each judged by the validator of its kind."""
    paths = list(paths)
    kinds = classify(project, paths)
    problems: list[str] = []
    for path in paths:
        problems += leftover_jinja(path, project)
    for path in kinds["bundle"]:
        problems += validate_bundle(path, project)
    for path in kinds["azureml"]:
        problems += validate_azureml(path, project)
    problems += validate_azure_pipelines(kinds["azure-pipelines"], project)
    problems += validate_ado_pull_request_logins(kinds["azure-pipelines"], project)
    problems += validate_github_workflows(kinds["github-workflow"], project)
    for path in kinds["github-workflow"]:
        problems += validate_action_pins(path, project) + validate_github_pull_request_logins(path, project)
    for path in kinds["kubernetes"]:
        problems += validate_kubernetes(path, project)
    for path in kinds["yaml"]:
        problems += validate_yaml(path, project)
    for path in kinds["notebook"]:
        problems += validate_notebook(path, project)
    for path in kinds["datafactory"]:
        problems += validate_datafactory(path, project)
    for path in kinds["shell"]:
        problems += validate_shell(path, project)
    if kinds["python"] or kinds["notebook"]:
        problems += validate_python(project)
    return problems


def validate_repository(project: Path) -> list[str]:
    """Every problem of a generated repository, each line naming its file."""
    return validate_files(project, repository_files(project))


def validate_own_pipelines(root: Path = REPO_ROOT) -> list[str]:
    """This repository's own CI definitions under ci/: the same validators as generated ones."""
    azure = sorted((root / "ci" / "azure-devops").glob("*.yml"))
    github = sorted((root / "ci" / "github").glob("*.yml"))
    problems = validate_azure_pipelines(azure, root) + validate_ado_pull_request_logins(azure, root)
    problems += validate_github_workflows(github, root)
    for path in github:
        problems += validate_action_pins(path, root) + validate_github_pull_request_logins(path, root)
    return problems
