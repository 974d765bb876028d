"""Shared fixtures: project files, and running the program under the plan's mocks.

Plans are cached per project file content and environment: building a stack is the
expensive part, and the assertions only read the result.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pulumi
import pytest
import yaml
from pulumi.runtime import settings as pulumi_settings

from dsplatform.infra.config import StackSettings, parse_project, resolve_environment
from dsplatform.infra.mocks import PlanMocks

INFRA = Path(__file__).resolve().parents[1]
EXAMPLE = INFRA / "projects" / "example.yaml"


@pytest.fixture
def example_data() -> dict:
    return yaml.safe_load(EXAMPLE.read_text())


def settings_from(data: dict, environment: str) -> StackSettings:
    return resolve_environment(parse_project(copy.deepcopy(data)), environment)


@pytest.fixture(scope="session")
def example_settings():
    data = yaml.safe_load(EXAMPLE.read_text())
    return {env: settings_from(data, env) for env in ("dev", "prod")}


_plans: dict[str, object] = {}


def plan_of(settings: StackSettings):
    from dsplatform.infra.plan import run_plan

    key = settings.model_dump_json()
    if key not in _plans:
        _plans[key] = run_plan(settings)
    return _plans[key]


@pytest.fixture(scope="session")
def prod_plan(example_settings):
    return plan_of(example_settings["prod"])


@pytest.fixture(scope="session")
def dev_plan(example_settings):
    return plan_of(example_settings["dev"])


def use_mocks(settings: StackSettings, keep_aliases: bool = False) -> PlanMocks:
    """Point the Pulumi runtime at fresh mocks for one stack (state must not leak between
    tests: the root stack is global)."""
    from dsplatform.infra.plan import _without_api_version_aliases

    mocks = PlanMocks()
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project="dsplatform", stack=settings.stack_name, preview=False)
    if not keep_aliases:
        pulumi.runtime.register_stack_transformation(_without_api_version_aliases)
    return mocks


def read(value, path: str):
    """Read a nested output value by snake_case path ("network_acls.default_action").

    Pulumi gives typed output objects where the mock state has every field the response
    type requires and plain camelCase dicts otherwise; tests should not care which.
    """
    for name in path.split("."):
        if isinstance(value, dict):
            camel = name.split("_")[0] + "".join(part.title() for part in name.split("_")[1:])
            value = value[camel] if camel in value else value[name]
        elif isinstance(value, list) and name.isdigit():
            value = value[int(name)]
        else:
            value = getattr(value, name)
    return value
