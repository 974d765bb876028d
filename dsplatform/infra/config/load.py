"""Reading a project file: the bounded safe loader, the schema, the request limits, and
each environment resolved from the defaults and the file's overrides.

Every command reads a project file through load_located, so every problem is reported the
same way (config.problems) and a bad prod override fails the dev plan too, instead of
waiting for the prod deployment.
"""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dsplatform.infra.config.defaults import ENVIRONMENT_DEFAULTS, EXPLORATION_FEATURES
from dsplatform.infra.config.limits import kind_problems, waiver_limit_problems
from dsplatform.infra.config.problems import Problem, ProjectFileError, located_lines, only_keys_in_the_file, validation_problems
from dsplatform.infra.config.schema import EnvironmentSettings, Principals, ProjectFile, StackSettings
from dsplatform.infra.platform_policy import POLICY_PATH, PlatformPolicyError, platform_policy
from dsplatform.safe_yaml import Document, DocumentError, load_document


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def resolve_environment(project_file: ProjectFile, environment: str, source: str = "project file") -> StackSettings:
    if environment not in project_file.environments:
        raise ProjectFileError(
            source,
            [
                Problem(
                    f"environments: has no '{environment}'; this file defines {', '.join(sorted(project_file.environments))}",
                    ("environments",),
                )
            ],
        )
    features = project_file.features.model_dump()
    if project_file.kind == "exploration":
        # Small and cheap unless asked (EXPLORATION_FEATURES); the file's own switches win.
        features = EXPLORATION_FEATURES | project_file.features.model_dump(include=project_file.features.model_fields_set)
    merged = _deep_merge(ENVIRONMENT_DEFAULTS[environment], {"features": features})
    merged = _deep_merge(merged, project_file.environments[environment] or {})
    try:
        settings = EnvironmentSettings.model_validate(merged)
    except ValidationError as error:
        problems = validation_problems(error, EnvironmentSettings, ("environments", environment))
        raise ProjectFileError(source, only_keys_in_the_file(problems, project_file.environments[environment]) or problems) from None
    if settings.features.databricks and project_file.principals.azure_databricks_object_id is None:
        raise ProjectFileError(
            source,
            [
                Problem(
                    "principals.azure_databricks_object_id: is required when databricks is on "
                    f"(expected {Principals.model_fields['azure_databricks_object_id'].description})",
                    ("principals",),
                )
            ],
        )
    return StackSettings(
        project=project_file.project,
        environment=environment,
        location=project_file.location,
        tags=project_file.tags,
        principals=project_file.principals,
        settings=settings,
        waivers=tuple(project_file.waivers),
        kind=project_file.kind,
        end_date=project_file.end_date,
        budget_contacts=tuple(
            dict.fromkeys(
                [*([request.contact_email, *request.owners] if (request := project_file.request) else []), *settings.budget.contact_emails]
            )
        ),
        data_scientists=tuple(project_file.data_scientists),
        data_products=tuple(project_file.data_products),
    )


def _raw_environment_problems(data: dict[str, Any]) -> list[str]:
    environments = data.get("environments")
    features = data.get("features") if isinstance(data.get("features"), dict) else {}
    if not isinstance(environments, dict):
        return []
    problems = []
    for environment, overrides in environments.items():
        if environment not in ENVIRONMENT_DEFAULTS or not isinstance(overrides, (dict, type(None))):
            continue
        merged = _deep_merge(_deep_merge(ENVIRONMENT_DEFAULTS[environment], {"features": features}), overrides or {})
        try:
            EnvironmentSettings.model_validate(merged)
        except ValidationError as error:
            problems += only_keys_in_the_file(validation_problems(error, EnvironmentSettings, ("environments", environment)), overrides)
    return problems


def parse_project(data: Any, source: str = "project file", today: date | None = None) -> ProjectFile:
    """Validate a project file's content and every environment in it, so that a bad prod
    override fails the dev plan too instead of waiting for the prod deployment."""
    try:
        policy = platform_policy()
    except PlatformPolicyError as error:
        raise ProjectFileError(str(POLICY_PATH), error.lines, lines=error.lines) from None
    if not isinstance(data, dict):
        raise ProjectFileError(source, [Problem("(file): expected a YAML mapping with project, location, tags, principals, environments")])
    limits = waiver_limit_problems(data, today or date.today(), policy.waiver_max_days)
    limits += kind_problems(data, today or date.today(), policy.exploration_max_days)
    try:
        project_file = ProjectFile.model_validate(data)
    except ValidationError as error:
        # Report the environments' and waivers' problems too, so one run shows everything to fix.
        raise ProjectFileError(source, validation_problems(error, ProjectFile) + limits + _raw_environment_problems(data)) from None
    from dsplatform.infra.request.scaffold import template_answer_problems  # the template's rules; imported late (it imports this module)

    problems = list(limits) + template_answer_problems(project_file)
    for environment in project_file.environments:
        try:
            resolve_environment(project_file, environment, source)
        except ProjectFileError as error:
            problems += [problem for problem in error.problems if problem not in problems]
    if problems:
        raise ProjectFileError(source, problems)
    return project_file


def load_located(path: str | Path, today: date | None = None) -> tuple[Document, ProjectFile]:
    """The one way every command reads a project file: the bounded safe loader
    (dsplatform.safe_yaml), then the schema; every problem is a located line."""
    try:
        document = load_document(path)
    except DocumentError as error:
        raise ProjectFileError(str(path), list(error.lines), lines=error.lines) from None
    try:
        return document, parse_project(document.data, str(document.path), today)
    except ProjectFileError as error:
        raise ProjectFileError(error.source, error.problems, lines=located_lines(document, error.problems)) from None


def load_project_file(path: str | Path, today: date | None = None) -> ProjectFile:
    return load_located(path, today)[1]


def load_stack_settings(path: str | Path, environment: str) -> StackSettings:
    """One environment's settings; every problem located like `request validate`'s."""
    document, project_file = load_located(path)
    try:
        return resolve_environment(project_file, environment, str(path))
    except ProjectFileError as error:
        raise ProjectFileError(error.source, error.problems, lines=located_lines(document, error.problems)) from None
