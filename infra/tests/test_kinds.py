"""Two kinds of request (issue 14): an exploration is one non-prod environment with an end
date and a budget cap; a project is the full request. Also the budget every environment
gets and the personal compute instances of the listed data scientists, tested both ways."""

from __future__ import annotations

import copy
import io
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from dsplatform import cli
from dsplatform.infra.config import EXPLORATION_COST_CENTER, ProjectFileError, parse_project, resolve_environment
from dsplatform.infra.constraints import ConstraintContext, check_constraints
from dsplatform.infra.guardrails import Resource, check_stack
from dsplatform.infra.plan import run_plan
from dsplatform.naming import COMPUTE_INSTANCE_RULE, budget_name, compute_instance_name, name_suffix
from dsplatform.vocabulary import EXIT_INVALID, EXIT_OK

from .conftest import EXAMPLE, INFRA

EXPLORATION = INFRA / "projects" / "exploration-example.yaml"
# A fixed clock: the committed example's end date is 2027-02-15.
TODAY = date(2026, 11, 26)
BUDGET = "azure-native:consumption:Budget"
COMPUTE = "azure-native:machinelearningservices:Compute"


def exploration() -> dict:
    return yaml.safe_load(EXPLORATION.read_text())


def problems_of(data: dict, today: date = TODAY) -> list[str]:
    with pytest.raises(ProjectFileError) as error:
        parse_project(copy.deepcopy(data), today=today)
    return [str(problem) for problem in error.value.problems]


def run_cli(*arguments) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main([str(argument) for argument in arguments])
    return code, out.getvalue(), err.getvalue()


# ----------------------------------------------------------------------------- validation


def test_the_exploration_example_is_valid_and_small():
    project_file = parse_project(exploration(), today=TODAY)
    assert project_file.kind == "exploration" and list(project_file.environments) == ["dev"]
    settings = resolve_environment(project_file, "dev")
    assert (settings.features.databricks, settings.features.aks, settings.features.azureml) == (False, False, True)
    # No cost center or formal owner: the contact and the exploration cost center tag it.
    assert settings.resource_tags()["cost-center"] == EXPLORATION_COST_CENTER
    assert settings.resource_tags()["owner"] == "data-science@example.com"
    assert settings.budget_thresholds == (80, 100)


@pytest.mark.parametrize(
    ("mutate", "field", "fix"),
    [
        (lambda data: data.pop("end_date"), "end_date: is required for an exploration", "add end_date: 2027-02-24 or earlier"),
        (
            lambda data: data.update(end_date="2027-02-25"),
            "end_date: 2027-02-25 is more than 90 days after 2026-11-26",
            "end the exploration by 2027-02-24",
        ),
        (
            lambda data: data["environments"].update(prod={}),
            "environments.prod: an exploration never gets prod",
            "remove environments.prod",
        ),
        (
            lambda data: data["environments"]["dev"].pop("budget"),
            "environments.dev.budget.amount: an exploration needs a budget cap",
            "add budget",
        ),
        (
            lambda data: data["environments"].update(staging={"budget": {"amount": 5}}),
            "environments: an exploration has exactly one",
            "keep one",
        ),
        (lambda data: data.pop("request"), "tags.owner: an exploration needs someone to answer for it", "add request.contact_email"),
    ],
)
def test_an_exploration_is_refused_with_one_line_naming_the_field(mutate, field, fix):
    data = exploration()
    mutate(data)
    problems = problems_of(data)
    assert len(problems) == 1, problems
    assert problems[0].startswith(field) and fix in problems[0] and "\n" not in problems[0]


def test_ninety_days_exactly_is_accepted():
    data = exploration()
    data["end_date"] = (TODAY + timedelta(days=90)).isoformat()
    assert parse_project(data, today=TODAY).end_date == date(2027, 2, 24)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda data: data.update(end_date="2027-01-01"), "end_date: only an exploration ends"),
        (lambda data: data["tags"].pop("cost_center"), "tags.cost_center: is required for a project"),
        (lambda data: data["environments"].pop("prod"), "environments: missing prod"),
    ],
)
def test_a_project_still_needs_prod_a_cost_center_and_no_end_date(example_data, mutate, expected):
    mutate(example_data)
    assert any(problem.startswith(expected) for problem in problems_of(example_data)), problems_of(example_data)


def test_request_validate_refuses_on_the_command_line_without_a_traceback(tmp_path):
    data = exploration()
    data["end_date"] = (date.today() + timedelta(days=120)).isoformat()
    data["environments"]["prod"] = {}
    path = tmp_path / "exploration.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    code, _, err = run_cli("request", "validate", path)
    lines = err.strip().splitlines()
    assert code == EXIT_INVALID and "Traceback" not in err
    assert [line.split(": ", 1)[1].split(":", 1)[0] for line in lines] == ["end_date", "environments.prod"]
    data["end_date"] = (date.today() + timedelta(days=30)).isoformat()
    del data["environments"]["prod"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert run_cli("request", "validate", path)[0] == EXIT_OK


def test_promotion_keeps_every_name():
    """Promotion changes kind (and adds prod); the names must not move, or promotion
    would orphan the storage, the vault and each person's compute instance."""
    data = exploration()
    before = resolve_environment(parse_project(copy.deepcopy(data), today=TODAY), "dev")
    data.update(kind="project")
    data.pop("end_date")
    data["tags"].update(owner="Churn Team", cost_center="CC-4242")
    data["environments"]["prod"] = {}
    # A project's features default to everything on; keep the exploration's footprint explicit.
    data["features"] = {"databricks": False, "aks": False}
    after = resolve_environment(parse_project(data, today=TODAY), "dev")
    assert after.kind == "project" and before.kind == "exploration"
    assert after.names == before.names
    assert after.names.storage_account.endswith(f"dev{name_suffix('churn-explore', 'dev')}")
    people = [person.object_id for person in before.data_scientists]
    assert [compute_instance_name(after.project, "dev", p) for p in people] == [
        compute_instance_name(before.project, "dev", p) for p in people
    ]
    assert budget_name(after.project, "dev") == budget_name(before.project, "dev")


# ----------------------------------------------------------------------------- the plan


@pytest.fixture(scope="module")
def exploration_plan():
    return run_plan(resolve_environment(parse_project(exploration(), today=TODAY), "dev"), TODAY)


def test_the_exploration_plans_clean_with_a_budget_and_personal_compute(exploration_plan):
    plan = exploration_plan
    assert plan.constraints.passed and plan.policy.passed and plan.policy.mandatory_count == 0
    types = {resource.type for resource in plan.resources}
    assert "azure-native:databricks:Workspace" not in types and "azure-native:containerservice:ManagedCluster" not in types
    (budget,) = plan.resources_of(BUDGET)
    assert budget.properties["amount"] == 300 and budget.properties["timePeriod"]["startDate"] == "2026-11-01T00:00:00Z"
    assert budget.properties["scope"].endswith("/resourceGroups/rg-churn-explore-dev")
    assert sorted(n["threshold"] for n in budget.properties["notifications"].values()) == [80, 100]
    for notification in budget.properties["notifications"].values():
        assert notification["contactEmails"] == ["data-science@example.com", "alice.smith@example.com"]
    instances = [r for r in plan.resources_of(COMPUTE) if r.properties["properties"]["computeType"] == "ComputeInstance"]
    assigned = sorted(
        r.properties["properties"]["properties"]["personalComputeInstanceSettings"]["assignedUser"]["objectId"] for r in instances
    )
    assert assigned == ["66666666-6666-4666-8666-666666666666", "77777777-7777-4777-8777-777777777777"]
    for instance in instances:
        inner = instance.properties["properties"]["properties"]
        assert inner["sshSettings"]["sshPublicAccess"] == "Disabled" and inner["idleTimeBeforeShutdown"] == "PT60M"
        assert not COMPUTE_INSTANCE_RULE.problems(instance.name)
    readers = [row for row in plan.role_assignments if row.role == "Storage Blob Data Reader" and "stsalesprd" in row.scope]
    assert len(readers) == 2 and not any(row.writes for row in readers)


def test_prod_gets_no_personal_compute_even_with_data_scientists(example_data):
    example_data["data_scientists"] = [{"object_id": "66666666-6666-4666-8666-666666666666", "display_name": "Alice"}]
    project_file = parse_project(example_data, today=TODAY)
    assert len(resolve_environment(project_file, "dev").personal_compute) == 1
    assert resolve_environment(project_file, "prod").personal_compute == ()
    assert resolve_environment(project_file, "staging").personal_compute == ()


def test_data_scientists_must_be_guids(example_data):
    example_data["data_scientists"] = [{"object_id": "alice", "display_name": "Alice"}]
    assert any(problem.startswith("data_scientists.0.object_id: 'alice' is not a GUID") for problem in problems_of(example_data))


# ----------------------------------------------------------------------------- guardrails and constraints, both ways


def resources(plan) -> list[Resource]:
    return [Resource(r.type, r.name, r.properties) for r in plan.resources]


def rules_broken(items, environment="dev") -> set[str]:
    return {violation.rule for violation in check_stack(items, environment)}


def constraints_broken(items, environment="dev") -> set[str]:
    return {violation.rule for violation in check_constraints(items, ConstraintContext(environment)).violations}


def with_props(item: Resource, change) -> Resource:
    properties = copy.deepcopy(dict(item.properties))
    change(properties)
    return replace(item, properties=properties)


def test_an_environment_without_a_budget_breaks_the_guardrail(exploration_plan):
    items = resources(exploration_plan)
    assert "budget-on-every-environment" not in rules_broken(items)
    assert "budget-on-every-environment" in rules_broken([r for r in items if r.type != BUDGET])


def test_a_budget_that_alerts_nobody_breaks_the_guardrail(exploration_plan):
    items = resources(exploration_plan)
    muted = [
        with_props(r, lambda p: [n.update(enabled=False) for n in p["notifications"].values()]) if r.type == BUDGET else r for r in items
    ]
    assert "budget-alerts-owners" in rules_broken(muted) and "budget-alerts-owners" not in rules_broken(items)


@pytest.mark.parametrize(
    ("change", "constraint"),
    [
        (lambda p: p["timePeriod"].update(startDate="2026-11-15T00:00:00Z"), "budget-start-first-of-month"),
        (lambda p: p.update(amount=0), "budget-amount-positive"),
        (lambda p: p["notifications"]["actual-gte-100-percent"].update(threshold=1200), "budget-notification-limits"),
        (
            lambda p: p["notifications"].update({f"n{i}": {"threshold": i, "contactEmails": ["a@example.com"]} for i in range(4)}),
            "budget-notification-limits",
        ),
        (lambda p: p["notifications"]["actual-gte-80-percent"].update(contactEmails=[]), "budget-notification-recipients"),
        (
            lambda p: p["notifications"]["actual-gte-80-percent"].update(contactEmails=[f"p{i}@example.com" for i in range(51)]),
            "budget-notification-recipients",
        ),
    ],
)
def test_budget_constraints_both_ways(exploration_plan, change, constraint):
    items = resources(exploration_plan)
    assert constraint not in constraints_broken(items)
    mutated = [with_props(r, change) if r.type == BUDGET else r for r in items]
    assert constraint in constraints_broken(mutated)


def _instance(items):
    return next(r for r in items if r.type == COMPUTE and r.properties["properties"]["computeType"] == "ComputeInstance")


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda p: p["properties"]["properties"].pop("idleTimeBeforeShutdown"), "ml-compute-instance-idle-shutdown"),
        (lambda p: p["properties"]["properties"]["sshSettings"].update(sshPublicAccess="Enabled"), "ml-compute-instance-ssh-disabled"),
        (lambda p: p["properties"]["properties"].pop("personalComputeInstanceSettings"), "ml-compute-instance-personal"),
    ],
)
def test_compute_instance_guardrails_both_ways(exploration_plan, change, rule):
    items = resources(exploration_plan)
    assert rule not in rules_broken(items)
    target = _instance(items)
    assert rule in rules_broken([with_props(r, change) if r is target else r for r in items])


def test_a_compute_instance_in_prod_breaks_the_guardrail(exploration_plan):
    instance = _instance(resources(exploration_plan))
    assert "ml-compute-instance-not-in-prod" in rules_broken([instance], "prod")
    assert "ml-compute-instance-not-in-prod" not in rules_broken([instance], "dev")


@pytest.mark.parametrize(
    ("name", "idle", "constraint"),
    [
        ("ci-" + "x" * 22, "PT60M", "compute-instance-name"),
        ("9-starts-with-digit", "PT60M", "compute-instance-name"),
        ("ci-ends-dash-1", "PT60M", "compute-instance-name"),
        (None, "PT10M", "compute-instance-idle-shutdown-range"),
        (None, "P4D", "compute-instance-idle-shutdown-range"),
        (None, "an hour", "compute-instance-idle-shutdown-range"),
    ],
)
def test_compute_instance_constraints_both_ways(exploration_plan, name, idle, constraint):
    items = resources(exploration_plan)
    instance = _instance(items)
    assert constraint not in constraints_broken(items)
    changed = with_props(instance, lambda p: p["properties"]["properties"].update(idleTimeBeforeShutdown=idle))
    changed = with_props(changed, lambda p: p.update(computeName=name or instance.name))
    assert constraint in constraints_broken([changed if r is instance else r for r in items])


def test_the_longest_slug_still_gives_valid_instance_names():
    slug = "a" * 10 + "-" + "b" * 13
    for environment in ("dev", "staging"):
        name = compute_instance_name(slug, environment, "66666666-6666-4666-8666-666666666666")
        assert not COMPUTE_INSTANCE_RULE.problems(name), name
    assert compute_instance_name("churn", "dev", "66666666-6666-4666-8666-666666666666") != compute_instance_name(
        "churn", "dev", "77777777-7777-4777-8777-777777777777"
    )


def test_the_example_project_also_has_a_budget_per_environment():
    data = yaml.safe_load(Path(EXAMPLE).read_text())
    prod = run_plan(resolve_environment(parse_project(data, today=TODAY), "prod"), TODAY)
    (budget,) = prod.resources_of(BUDGET)
    assert budget.properties["amount"] == 5000 and budget.name == "budget-example-prd"
    assert not [r for r in prod.resources_of(COMPUTE) if r.properties["properties"]["computeType"] == "ComputeInstance"]


# ----------------------------------------------------------------------------- expiry


@pytest.mark.parametrize(
    ("today", "listed", "stacks"),
    [
        ("2026-11-26", "No exploration", ""),
        ("2027-02-10", "ending\tchurn-explore\t2027-02-15\tends in 5 day(s)", ""),
        ("2027-02-16", "expired\tchurn-explore\t2027-02-15\tended 1 day(s) ago", "churn-explore-dev"),
    ],
)
def test_expiry_lists_explorations_by_a_fixed_clock(today, listed, stacks):
    code, out, err = run_cli("expiry", INFRA / "projects", "--today", today)
    assert code == EXIT_OK and err == "" and out.startswith(listed)
    code, out, _ = run_cli("expiry", INFRA / "projects", "--today", today, "--stacks")
    assert code == EXIT_OK and out.strip() == stacks  # the project example never expires


def test_expiry_still_finds_a_request_that_no_longer_validates_and_reports_unreadable_ones(tmp_path):
    (tmp_path / "old.yaml").write_text("project: old-sandbox\nkind: exploration\nend_date: 2026-01-31\nenvironments: {dev: {}}\n")
    (tmp_path / "broken.yaml").write_text("project: x\nkind: exploration\nend_date: someday\n")
    code, out, err = run_cli("expiry", tmp_path, "--today", "2026-02-01", "--stacks")
    assert out.strip() == "old-sandbox-dev"
    assert code == EXIT_INVALID and "end_date: 'someday' is not a date" in err and "Traceback" not in err
    assert run_cli("expiry", tmp_path / "missing")[0] == EXIT_INVALID


def test_the_plan_view_and_the_diagram_show_the_budget_and_personal_compute(exploration_plan):
    from dsplatform.infra.diagram import picture
    from dsplatform.infra.plan import to_table

    table = to_table(exploration_plan)
    assert "Cost management (1)" in table
    assert "300 a month from 2026-11-01, alerts at 80%, 100% to 2 contact(s)" in table
    assert "idle shutdown PT60M, SSH Disabled" in table
    drawn = picture(exploration_plan)
    labels = [label for _, label in drawn.nodes.values()]
    assert any(label.startswith("budget-churn-explore-dev\nBudget\n300 a month") for label in labels)
    assert any("personal compute of Bob Jones" in label for label in labels)
    assert "Cost management" in drawn.boxes


def test_the_pull_request_summary_says_it_is_an_exploration_and_shows_its_budget(exploration_plan):
    from dsplatform.infra.request.summary import summary_markdown

    project_file = parse_project(exploration(), today=TODAY)
    text = summary_markdown(project_file, [exploration_plan], "projects/exploration-example.yaml")
    assert "- Kind: exploration until 2027-02-15; the scheduled expiry pipeline tears it down" in text
    assert "- Budget (dev): 300 a month from 2026-11-01, alerts at 80&#37;, 100&#37; to 2 contact&#40;s&#41;" in text
    project = parse_project(yaml.safe_load(EXAMPLE.read_text()), today=TODAY)
    assert "- Kind: exploration" not in summary_markdown(project, [exploration_plan], "projects/example.yaml")


def test_every_reference_in_the_published_schema_resolves():
    """Editors (yaml-language-server) and check-jsonschema stop at a dangling `$ref`: the
    partial environment definitions must refer to each other, not to missing names."""
    import json
    import re

    from dsplatform.infra.config import request_json_schema

    schema = request_json_schema()
    references = set(re.findall(r'"#/\$defs/([^"]+)"', json.dumps(schema)))
    assert references and references <= set(schema["$defs"]), references - set(schema["$defs"])
    assert "NodePoolOverride" in references
    # Exploration: end_date required and prod forbidden; project: dev, prod and the cost tags required.
    (rule,) = schema["allOf"]
    assert rule["then"]["required"] == ["end_date"] and rule["then"]["properties"]["environments"] == {"not": {"required": ["prod"]}}
    assert rule["else"]["properties"]["tags"]["required"] == ["owner", "cost_center", "data_classification"]


# ----------------------------------------------------------------------------- the components on their own


@pytest.fixture
def mocked(example_settings):
    from .conftest import use_mocks

    use_mocks(example_settings["dev"])


def _budget_args(**changes):
    from dsplatform.infra.components.budget import BudgetArgs

    values = dict(
        budget_name="budget-x-dev",
        resource_group_id="/subscriptions/0/resourceGroups/rg-x-dev",
        amount=50,
        thresholds=(50, 90, 120),
        contact_emails=("owner@example.com",),
        start_date=date(2026, 12, 1),
    )
    return BudgetArgs(**(values | changes))


def test_a_budget_alerts_its_contacts_at_each_threshold(mocked):
    import pulumi

    from dsplatform.infra.components.budget import EnvironmentBudget

    @pulumi.runtime.test
    def run():
        budget = EnvironmentBudget("b", _budget_args()).budget

        def check(values):
            notifications, period, scope = values
            assert sorted(notifications) == ["actual-gte-120-percent", "actual-gte-50-percent", "actual-gte-90-percent"]
            assert {n["contact_emails"][0] for n in notifications.values()} == {"owner@example.com"}
            assert period["start_date"] == "2026-12-01T00:00:00Z" and scope.endswith("rg-x-dev")

        return pulumi.Output.all(budget.notifications, budget.time_period, budget.scope).apply(check)

    run()


def test_a_budget_with_nobody_named_alerts_the_owners_role(mocked):
    import pulumi

    from dsplatform.infra.components.budget import EnvironmentBudget

    @pulumi.runtime.test
    def run():
        budget = EnvironmentBudget("b", _budget_args(contact_emails=())).budget

        def check(notifications):
            for notification in notifications.values():
                assert notification["contact_roles"] == ["Owner"] and not notification.get("contact_emails")

        return budget.notifications.apply(check)

    run()


def test_personal_compute_has_no_public_ip_in_private_networking(mocked):
    import pulumi

    from dsplatform.infra.components.personal_compute import Person, PersonalCompute, PersonalComputeArgs

    @pulumi.runtime.test
    def run():
        compute = PersonalCompute(
            "pc",
            PersonalComputeArgs(
                project="churn",
                environment="dev",
                people=(Person("66666666-6666-4666-8666-666666666666", "Alice"),),
                workspace_name="mlw-churn-dev",
                resource_group_name="rg-churn-dev",
                location="westeurope",
                tenant_id="00000000-0000-0000-0000-000000000001",
                vm_size="Standard_DS3_v2",
                idle_minutes=30,
                private_networking=True,
                tags={},
            ),
        )
        (instance,) = compute.instances.values()

        def check(properties):
            from .conftest import read

            assert read(properties, "properties.enable_node_public_ip") is False
            assert read(properties, "properties.idle_time_before_shutdown") == "PT30M"
            assigned = read(properties, "properties.personal_compute_instance_settings.assigned_user.object_id")
            assert assigned == "66666666-6666-4666-8666-666666666666"

        return instance.properties.apply(check)

    run()
