"""Pulumi entry point: stack `<project>-<env>` builds projects/<project>.yaml's <env>.

The stack settings written by `dsplatform request stacks` (Pulumi.<stack>.yaml) name the
project file and environment explicitly; the stack name is the fallback."""

from pathlib import Path

import pulumi

from dsplatform.infra.program import build
from dsplatform.infra.stack import settings_for_stack

config = pulumi.Config("dsplatform")
settings = settings_for_stack(
    pulumi.get_stack(),
    Path(__file__).parent / "projects",
    project_file=config.get("projectFile"),
    environment=config.get("environment"),
)
# "platform" leaves out the Databricks workspace configuration, for a first run from a
# runner outside the VNet (docs/infra.md, deploy readiness); the default applies everything.
build(settings, stage=config.get("stage") or "all")
