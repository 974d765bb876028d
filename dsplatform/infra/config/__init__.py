"""The project file: its schema, its defaults, how it is read and how its problems are told.

One concern per module:
- schema: the pydantic models (ProjectFile as written, EnvironmentSettings once resolved,
  StackSettings for the Pulumi program);
- defaults: what each environment (and an exploration) gets when the file says nothing;
- problems: Problem and ProjectFileError, and the one-line, located error messages;
- limits: what the kind of request and the platform's limits demand, read from the raw file;
- load: reading a file and resolving an environment (defaults merged with overrides);
- json_schema: the JSON Schema for editors and CI.

The names below are re-exported so that `from dsplatform.infra.config import X` reads the
public surface; code inside the package imports from the module that owns a name.
"""

from dsplatform.infra.config.defaults import ENVIRONMENT_DEFAULTS, EXPLORATION_COST_CENTER, EXPLORATION_FEATURES
from dsplatform.infra.config.json_schema import request_json_schema
from dsplatform.infra.config.limits import kind_problems, requester_emails, waiver_limit_problems
from dsplatform.infra.config.load import load_located, load_project_file, load_stack_settings, parse_project, resolve_environment
from dsplatform.infra.config.problems import Problem, ProjectFileError, located_lines
from dsplatform.infra.config.schema import (
    AZURE_DATABRICKS_APPLICATION_ID,
    AksSettings,
    AzureMLSettings,
    BudgetSettings,
    DatabricksSettings,
    DataProduct,
    EnvironmentSettings,
    Features,
    NetworkSettings,
    NodePool,
    Principal,
    Principals,
    ProjectFile,
    Request,
    ServicePrincipal,
    SharedTestAks,
    StackSettings,
    Tags,
    Waiver,
    allowlist_size,
)

__all__ = [
    "AZURE_DATABRICKS_APPLICATION_ID",
    "ENVIRONMENT_DEFAULTS",
    "EXPLORATION_COST_CENTER",
    "EXPLORATION_FEATURES",
    "AksSettings",
    "AzureMLSettings",
    "BudgetSettings",
    "DataProduct",
    "DatabricksSettings",
    "EnvironmentSettings",
    "Features",
    "NetworkSettings",
    "NodePool",
    "Principal",
    "Principals",
    "Problem",
    "ProjectFile",
    "ProjectFileError",
    "Request",
    "ServicePrincipal",
    "SharedTestAks",
    "StackSettings",
    "Tags",
    "Waiver",
    "allowlist_size",
    "kind_problems",
    "load_located",
    "load_project_file",
    "load_stack_settings",
    "located_lines",
    "parse_project",
    "request_json_schema",
    "requester_emails",
    "resolve_environment",
    "waiver_limit_problems",
]
