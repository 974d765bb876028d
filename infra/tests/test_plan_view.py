"""The plan a person reads: grouped by service with counts, 120 columns, names not GUIDs."""

from __future__ import annotations

import copy
import re

import pytest

from dsplatform.infra.plan import to_json, to_markdown, to_table
from dsplatform.infra.plan_view import MAX_WIDTH, SERVICE_GROUPS, service_groups, service_of, wrap, wrapped_table
from dsplatform.infra.roles import ROLE_DEFINITIONS
from dsplatform.vocabulary import ENVIRONMENTS

from .conftest import plan_of, settings_from

GUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def with_staging(data: dict) -> dict:
    """example.yaml defines dev and prod; staging is optional, so add it to plan all three."""
    data = copy.deepcopy(data)
    data["environments"].setdefault("staging", {})
    return data


@pytest.fixture(scope="module")
def plans(example_data_module):
    return {environment: plan_of(settings_from(example_data_module, environment)) for environment in ENVIRONMENTS}


@pytest.fixture(scope="module")
def example_data_module():
    import yaml

    from .conftest import EXAMPLE

    return with_staging(yaml.safe_load(EXAMPLE.read_text()))


def section(text: str, title: str) -> str:
    start = text.index(title)
    end = text.find("\n\n", text.index("------", start))
    return text[start:end]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_table_fits_120_columns_in_every_environment(plans, environment):
    lines = to_table(plans[environment]).splitlines()
    too_wide = [line for line in lines if len(line) > MAX_WIDTH]
    assert not too_wide, too_wide[:3]
    assert all(line == line.rstrip() for line in lines)


def test_the_longest_slug_still_fits(example_data):
    # The longest names the naming rules allow: wrapping, not luck, keeps the width.
    example_data["project"] = "a" * 11 + "-" + "b" * 12
    example_data["principals"]["data_science_group"]["display_name"] = "grp-" + "x" * 120
    table = to_table(plan_of(settings_from(example_data, "prod")))
    assert max(len(line) for line in table.splitlines()) <= MAX_WIDTH
    assert "x" * 60 in "".join(table.split())  # wrapped, not cut: every character is still there


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_resource_is_in_exactly_one_group_and_the_counts_add_up(plans, environment):
    plan = plans[environment]
    groups = service_groups(plan)
    assert sum(len(group.resources) for group in groups) == len(plan.resources)
    assert sorted(id(resource) for group in groups for resource in group.resources) == sorted(map(id, plan.resources))
    for group in groups:
        if group.title != "Access":
            assert sum(row.count for row in group.rows) == len(group.resources), group.title
    assert "Other" not in [group.title for group in groups], "a resource type without a service group"
    table = to_table(plan)
    for group in groups:
        if group.title != "Access":
            assert f"\n{group.title} ({len(group.resources)})\n" in table
    assert f"Access: {len(plan.role_assignments)} role assignments" in table


def test_groups_follow_the_architecture(plans):
    titles = [group.title for group in service_groups(plans["prod"])]
    assert titles == [title for title, _ in SERVICE_GROUPS]  # prod has every service
    dev = [group.title for group in service_groups(plans["dev"])]
    assert dev == [title for title in titles if title in dev]  # the same order in every environment
    assert service_of("databricks:index/catalog:Catalog") == service_of("azure-native:databricks:Workspace") == "Databricks"
    assert service_of("azure-native:privatedns:PrivateZone") == "Networking"
    assert service_of("example:unknown:Thing") == "Other"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_role_assignments_read_principal_role_scope_without_guids(plans, environment):
    plan = plans[environment]
    table = to_table(plan)
    access = section(table, "Access:")
    assert not GUID.search(access), GUID.search(access)
    # A role assignment's Azure name is a GUID: none may appear anywhere in the table.
    for resource in plan.resources_of("azure-native:authorization:RoleAssignment"):
        assert resource.name not in table
    principals = plan.settings.principals
    assert f"{principals.ci_service_principal.display_name} (service principal)" in access
    assert f"{principals.data_science_group.display_name} (group)" in access
    for row in plan.role_assignments:
        assert row.role in ROLE_DEFINITIONS
        # A long scope wraps inside its column (at a '/' too, beside the next row's role), so
        # each part of its name must be there; a scope in this stack reads "name (kind)" on one line.
        compact = " ".join(access.split())
        assert all(part in compact for part in row.scope.split("/")), row.scope
        assert "another stack" in row.scope_type or f"{row.scope} (" in compact


def test_known_principal_ids_read_as_names_in_details(plans):
    table = to_table(plans["prod"])
    client_id = plans["prod"].settings.principals.ci_service_principal.client_id
    assert client_id not in table
    assert "owner=sp-example-ci" in table


def test_markdown_is_collapsible_per_service_and_keeps_every_role(plans):
    plan = plans["prod"]
    markdown = to_markdown(plan)
    for group in service_groups(plan):
        if group.title != "Access":
            assert f"<details><summary><b>{group.title}</b> ({len(group.resources)})</summary>" in markdown
    role_lines = markdown.split("## Role assignments", 1)[1].split("## Policy", 1)[0]
    assert role_lines.count("\n| ") - 1 == len(plan.role_assignments)  # header + one line per assignment
    assert not GUID.search(role_lines)


def test_json_stays_machine_complete(plans):
    import json

    document = json.loads(to_json(plans["prod"]))
    assert len(document["resources"]) == len(plans["prod"].resources)
    assert {"type", "name", "logicalName", "id", "parent", "dependsOn", "properties"} <= set(document["resources"][0])
    assert {"principal", "principal_type", "role", "scope", "scope_type", "writes"} == set(document["roleAssignments"][0])


def test_wrap_keeps_every_character_and_prefers_separators():
    arm_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-example-prd/providers/Microsoft.Web"
    lines = wrap(arm_id, 40)
    assert all(len(line) <= 40 for line in lines)
    assert "".join(lines) == arm_id
    assert lines[0].endswith("/")  # cut after a separator, not mid-word
    assert wrap("two words", 4) == ["two", "word", "s"]
    assert wrap("short", 40) == ["short"]


def test_wrapped_table_caps_columns_even_for_huge_cells():
    rows = [["k" * 300, "v" * 500, "w" * 700]]
    lines = wrapped_table(["key", "value", "more"], rows, [24, 34, None])
    assert max(len(line) for line in lines) <= MAX_WIDTH
    assert "".join(lines).count("w") == 700
