"""Which settings a Pulumi stack builds: stack `<project>-<env>` → projects/<project>.yaml's <env>.

Why here, next to the entry point and not in the config package: only a Pulumi run (and the
policy pack, which runs inside one) knows a stack name; the request CLI and the offline
plan name the project file and environment directly. It is not in program.py either,
because the policy pack needs the stack name's rules without importing the Pulumi program
and its provider SDKs. infra/__main__.py is the one caller that builds from it.
"""

from __future__ import annotations

from pathlib import Path

from dsplatform.infra.config.load import load_stack_settings
from dsplatform.infra.config.problems import ProjectFileError
from dsplatform.infra.config.schema import StackSettings
from dsplatform.vocabulary import ENVIRONMENTS


def split_stack_name(stack: str) -> tuple[str, str]:
    """`churn-model-prod` → (`churn-model`, `prod`): the environment is the last segment
    because slugs may themselves contain hyphens."""
    project, _, environment = stack.rpartition("-")
    if not project or environment not in ENVIRONMENTS:
        raise ProjectFileError(
            f"stack '{stack}'",
            [f"stack name: expected <project>-<env> with env one of {', '.join(ENVIRONMENTS)}, e.g. churn-model-dev"],
        )
    return project, environment


def settings_for_stack(
    stack: str, projects_directory: str | Path, project_file: str | Path | None = None, environment: str | None = None
) -> StackSettings:
    """The settings a stack builds. The stack's own settings (`dsplatform:projectFile`,
    `dsplatform:environment`, written by `dsplatform request stacks`) name the file and
    environment; without them the stack name `<project>-<env>` does."""
    project, stack_environment = split_stack_name(stack)
    if environment is not None and environment != stack_environment:
        raise ProjectFileError(
            f"stack '{stack}'", [f"dsplatform:environment: is '{environment}' but the stack name says '{stack_environment}'"]
        )
    path = Path(projects_directory).parent / project_file if project_file else Path(projects_directory) / f"{project}.yaml"
    settings = load_stack_settings(path, stack_environment)
    if settings.project != project:
        raise ProjectFileError(str(path), [f"project: is '{settings.project}' but the stack is for '{project}'"])
    return settings
