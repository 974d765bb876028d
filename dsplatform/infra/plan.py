"""Offline plan: run the real Pulumi program under Pulumi's mock runtime and describe what
it would create, without credentials, the Pulumi CLI or any call to Azure.

The output is sorted and free of timings, so the same project file gives byte-identical
output (CI can diff it, reviewers can read it in a pull request).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from dsplatform.infra.config.schema import StackSettings
from dsplatform.infra.constraints import ConstraintContext, ConstraintReport, check_constraints
from dsplatform.infra.guardrails import PolicyReport, Resource, evaluate
from dsplatform.infra.mocks import SUBSCRIPTION_ID, PlanMocks, azure_name
from dsplatform.infra.roles import READ_ONLY_ROLES, ROLE_NAMES_BY_ID, is_human_write

OFFLINE_NOTICE = (
    "Offline plan: the Pulumi program ran under Pulumi's mock runtime. Nothing was sent to Azure or "
    "Databricks; ids, endpoints and principal ids are deterministic placeholders "
    f"(subscription {SUBSCRIPTION_ID})."
)
PULUMI_PROJECT = "dsplatform"


@dataclass
class PlannedResource:
    urn: str
    type: str
    logical_name: str
    name: str
    id: str
    custom: bool
    parent: str
    dependencies: list[str]
    properties: dict[str, Any]
    state: dict[str, Any]


@dataclass
class RoleAssignmentRow:
    principal: str
    principal_type: str
    role: str
    scope: str
    scope_type: str
    writes: bool


@dataclass
class Plan:
    settings: StackSettings
    resources: list[PlannedResource]
    components: list[PlannedResource]
    outputs: dict[str, Any]
    role_assignments: list[RoleAssignmentRow] = field(default_factory=list)
    policy: PolicyReport | None = None
    constraints: ConstraintReport | None = None

    @property
    def human_write_assignments(self) -> list[RoleAssignmentRow]:
        return [row for row in self.role_assignments if is_human_write(row.principal_type, row.role)]

    def resources_of(self, resource_type: str) -> list[PlannedResource]:
        return [resource for resource in self.resources if resource.type == resource_type]


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, also keeping each registration's parent and dependencies (the
    plain one drops them), which the resource graph needs."""

    def __init__(self, mocks: PlanMocks):
        super().__init__(mocks)
        self.registrations: dict[str, dict[str, Any]] = {}

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            dependencies = set(request.dependencies)
            for urns in request.propertyDependencies.values():
                dependencies.update(urns.urns)
            self.registrations[response.urn] = {
                "type": request.type,
                "logical_name": request.name,
                "custom": bool(request.custom),
                "parent": request.parent,
                "dependencies": sorted(dependencies),
            }
        return response


def _plain(value: Any) -> Any:
    """Make mock state JSON-friendly and stable (sorted keys happen at dump time)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items() if not str(key).startswith("__")}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the mock wire format turns every number into a float
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _without_api_version_aliases(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult:
    """Drop the aliases azure-native attaches to every resource (one per past API version).

    Aliases only match a resource against state from an earlier deployment; a plan has no
    state, so they change nothing in what is planned. Resolving them is most of the SDK's
    per-resource cost (about 1.5 s of 1.7 s per stack here), so the plan skips them.
    `pulumi up` runs the program without this transformation and keeps them.
    """
    options = args.opts._copy()
    options.aliases = None
    return pulumi.ResourceTransformationResult(args.props, options)


def policy_report(plan: Plan, today: date | None = None) -> PolicyReport:
    """The guardrails over the planned resources, with the project file's waivers."""
    resources = [
        Resource(resource.type, resource.name, resource.properties)
        for resource in plan.resources
        if not resource.type.startswith("pulumi:providers:")
    ]
    return evaluate(resources, plan.settings.environment, plan.settings.waiver_terms(), today)


def constraint_report(plan: Plan) -> ConstraintReport:
    """Azure's documented limits over the planned resources, providers included (the
    Databricks provider's auth type is one of them). No waivers apply."""
    resources = [Resource(resource.type, resource.name, resource.properties) for resource in plan.resources]
    return check_constraints(resources, ConstraintContext.from_settings(plan.settings))


def run_plan(settings: StackSettings, today: date | None = None, stage: str = "all") -> Plan:
    """Build the stack under mocks, collect every registration and judge it by the
    guardrails (`today` decides which waivers have expired; tests pass a fixed date)."""
    from dsplatform.infra.program import build  # imported here: it pulls in the provider SDKs

    mocks = PlanMocks()
    monitor = _RecordingMonitor(mocks)
    pulumi_settings.ROOT.set(None)  # a fresh root Stack per plan, so plans never share state
    pulumi.runtime.set_mocks(mocks, project=PULUMI_PROJECT, stack=settings.stack_name, preview=False, monitor=monitor)
    pulumi_settings.SETTINGS.rpc_manager.clear()
    pulumi_settings.SETTINGS.outputs.clear()
    resolved: dict[str, Any] = {}

    def program() -> None:
        pulumi.runtime.register_stack_transformation(_without_api_version_aliases)
        environment = build(settings, stage=stage, today=today)
        resolved.update(_sync_await(pulumi.Output.from_input(environment.outputs).future()) or {})

    _sync_await(run_pulumi_func(program))

    resources: list[PlannedResource] = []
    components: list[PlannedResource] = []
    for urn, registration in monitor.get_registered_resources().items():
        recorded = monitor.registrations.get(urn, {})
        state = _plain(registration.state)
        inputs = {key: value for key, value in state.items()}
        resource_type = recorded.get("type", urn.split("::")[2].split("$")[-1])
        entry = PlannedResource(
            urn=urn,
            type=resource_type,
            logical_name=recorded.get("logical_name", urn.split("::")[-1]),
            name=azure_name(resource_type, urn.split("::")[-1], inputs),
            id=registration.id or "",
            custom=recorded.get("custom", True),
            parent=recorded.get("parent", ""),
            dependencies=recorded.get("dependencies", []),
            properties=inputs,
            state=state,
        )
        (resources if entry.custom else components).append(entry)
    resources.sort(key=lambda resource: (resource.type, resource.name, resource.logical_name))
    components.sort(key=lambda component: component.urn)
    plan = Plan(settings=settings, resources=resources, components=components, outputs=_plain(resolved))
    plan.role_assignments = _role_assignments(plan, mocks)
    plan.policy = policy_report(plan, today)
    plan.constraints = constraint_report(plan)
    return plan


def _role_assignments(plan: Plan, mocks: PlanMocks) -> list[RoleAssignmentRow]:
    principals = plan.settings.principals
    known = {
        principals.data_science_group.object_id: (principals.data_science_group.display_name, "Group"),
        principals.platform_admins.object_id: (principals.platform_admins.display_name, "Group"),
        principals.ci_service_principal.object_id: (principals.ci_service_principal.display_name, "ServicePrincipal"),
    }
    if principals.azure_databricks_object_id:
        known[principals.azure_databricks_object_id] = ("AzureDatabricks (first-party application)", "ServicePrincipal")
    by_id = {resource.id: resource for resource in plan.resources}
    rows = []
    for assignment in plan.resources_of("azure-native:authorization:RoleAssignment"):
        properties = assignment.properties
        principal_id = properties.get("principalId", "")
        if principal_id in known:
            principal = known[principal_id][0]
        elif principal_id in mocks.principals:
            label = mocks.principals[principal_id][1]
            principal = label if label.endswith(")") else f"{label} (managed identity)"
        else:
            principal = principal_id
        role = ROLE_NAMES_BY_ID.get(str(properties.get("roleDefinitionId", "")).rsplit("/", 1)[-1], "unknown role")
        target = by_id.get(properties.get("scope", ""))
        rows.append(
            RoleAssignmentRow(
                principal=principal,
                principal_type=str(properties.get("principalType", "")),
                role=role,
                scope=target.name if target else _outside_scope(str(properties.get("scope", "")))[0],
                scope_type=target.type.split(":")[-1] if target else _outside_scope(str(properties.get("scope", "")))[1],
                writes=role not in READ_ONLY_ROLES,
            )
        )
    rows.sort(key=lambda row: (row.principal, row.role, row.scope))
    return rows


def _outside_scope(scope: str) -> tuple[str, str]:
    """A scope in another stack (the shared test AKS cluster) as `name/child-type/child`
    and a type word, rather than a full ARM id nobody reads."""
    if "/providers/" not in scope:
        return scope, "scope"
    parts = scope.split("/providers/", 1)[1].split("/")[1:]  # type/name pairs after the namespace
    label = "/".join([parts[1], *parts[2:]]) if len(parts) >= 2 else scope
    return label, f"{parts[-2].rstrip('s')} in another stack" if len(parts) >= 2 else "scope"


# ----------------------------------------------------------------------------- rendering


def to_json(plan: Plan) -> str:
    document = {
        "offline": True,
        "notice": OFFLINE_NOTICE,
        "stack": plan.settings.stack_name,
        "project": plan.settings.project,
        "environment": plan.settings.environment,
        "privateNetworking": plan.settings.is_private,
        "resources": [
            {
                "type": resource.type,
                "name": resource.name,
                "logicalName": resource.logical_name,
                "id": resource.id,
                "parent": _short_urn(resource.parent),
                "dependsOn": [_short_urn(urn) for urn in resource.dependencies],
                "properties": resource.properties,
            }
            for resource in plan.resources
        ],
        "roleAssignments": [row.__dict__ for row in plan.role_assignments],
        "humanWriteAssignments": [row.__dict__ for row in plan.human_write_assignments],
        "outputs": plan.outputs,
        "policy": plan.policy.as_dict() if plan.policy else None,
        "constraints": plan.constraints.as_dict() if plan.constraints else None,
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _short_urn(urn: str) -> str:
    return urn.split("::")[-1] if urn else ""


def _table(headers: list[str], rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
        return lines
    widths = [max([len(header), *(len(row[index]) for row in rows)]) for index, header in enumerate(headers)]
    widths[-1] = 0  # the last column is not padded, so lines have no trailing spaces

    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    return [line(headers), line(["-" * len(header) for header in headers]), *(line(row) for row in rows)]


def policy_lines(report: PolicyReport | None, markdown: bool) -> list[str]:
    """The guardrail results: a verdict line, then one row per finding (waived ones too,
    with their approver and expiry, so a reviewer sees every accepted exception)."""
    if report is None:
        return ["(not evaluated)"]
    verdict = "passed" if report.passed else "FAILED"
    lines = [f"Guardrails {verdict}: {report.summary()} (as of {report.today.isoformat()})."]
    if not report.findings:
        return lines
    rows = []
    for finding in report.findings:
        violation = finding.violation
        status = finding.status
        if finding.waiver is not None:
            status += f" ({finding.waiver.approver}: {finding.waiver.reason})"
        rows.append([violation.severity, violation.rule, violation.resource, violation.message, violation.remediation, status])
    return [*lines, "", *_table(["severity", "rule", "resource", "problem", "fix", "status"], rows, markdown)]


def constraint_lines(report: ConstraintReport | None) -> list[str]:
    from dsplatform.infra.constraints import report_lines

    return report_lines(report)


def to_table(plan: Plan) -> str:
    """Grouped by service, 120 columns wide (dsplatform.infra.plan_view)."""
    from dsplatform.infra.plan_view import to_table as grouped_table

    return grouped_table(plan)


def to_markdown(plan: Plan) -> str:
    """One collapsible section per service (dsplatform.infra.plan_view)."""
    from dsplatform.infra.plan_view import to_markdown as grouped_markdown

    return grouped_markdown(plan)


def to_mermaid(plan: Plan) -> str:
    """The architecture picture as Mermaid text (dsplatform.infra.diagram): services and the
    private-endpoint subnet as subgraphs, edges where one resource references another.
    Creation-order dependencies are left out: every resource waits for the resource group,
    and drawing that hid the shape behind a fan of edges."""
    from dsplatform.infra.diagram import mermaid_lines

    lines = [f"%% {OFFLINE_NOTICE}", *mermaid_lines(plan)]
    # The guardrail verdict rides along as Mermaid comments, so every format reports it.
    lines += [f"%% {line}" for line in policy_lines(plan.policy, markdown=False) if line]
    lines += [f"%% {line}" for line in constraint_lines(plan.constraints) if line]
    return "\n".join(lines) + "\n"


RENDERERS = {"table": to_table, "json": to_json, "markdown": to_markdown, "mermaid": to_mermaid}
