"""Pulumi entry point: stack `<project>-<env>` builds projects/<project>.yaml's <env>."""

from pathlib import Path

import pulumi
from dsplatform.config import settings_for_stack
from dsplatform.program import build

settings = settings_for_stack(pulumi.get_stack(), Path(__file__).parent / "projects")
build(settings)
