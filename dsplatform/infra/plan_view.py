"""The offline plan as a person reads it: resources grouped by service with counts, role
assignments as principal -> role -> scope with names instead of GUIDs, in 120 columns.

Why a module of its own: a flat list of 102 resources sorted by Pulumi type token, 296
columns wide and led by 19 role assignments named by GUID, was correct and unreadable.
The JSON rendering (`plan.to_json`) stays the machine-complete contract; this module only
decides what a reviewer sees first, and never drops a resource: collapsed rows say how
many they stand for, and the group counts add up to the plan's total.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dsplatform.infra.guardrails import PolicyReport
    from dsplatform.infra.plan import Plan, PlannedResource, RoleAssignmentRow

# A terminal of 120 columns is the width CI logs and review tools show without scrolling.
MAX_WIDTH = 120
INDENT = "  "
GAP = "  "

# Service groups, in the order a reader meets the architecture: where things live, the
# network they sit in, the data, the secrets and images, the compute, then who may do what.
# Each group is chosen by the resource type's prefix (the first matching group wins).
SERVICE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Resource group", ("azure-native:resources:ResourceGroup",)),
    ("Networking", ("azure-native:network:", "azure-native:privatedns:")),
    ("Storage", ("azure-native:storage:",)),
    ("Key Vault", ("azure-native:keyvault:",)),
    ("Container registry", ("azure-native:containerregistry:",)),
    ("Identity", ("azure-native:managedidentity:",)),
    ("Azure ML", ("azure-native:machinelearningservices:",)),
    ("Databricks", ("azure-native:databricks:", "databricks:", "pulumi:providers:databricks")),
    ("AKS", ("azure-native:containerservice:", "azure-native:kubernetesconfiguration:")),
    ("Monitoring", ("azure-native:operationalinsights:", "azure-native:applicationinsights:", "azure-native:monitor:")),
    ("Cost management", ("azure-native:consumption:",)),
    ("Access", ("azure-native:authorization:",)),
    # The factory's managed virtual network is a generic ARM resource (components/data_factory.py).
    ("Data Factory", ("azure-native:datafactory:", "azure-native:resources:Resource")),
    ("AI services", ("azure-native:cognitiveservices:",)),
)
OTHER_GROUP = "Other"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"

# What to call each resource type inside its group (the full type stays in the JSON).
KIND_LABELS: dict[str, str] = {
    "azure-native:resources:ResourceGroup": "Resource group",
    "azure-native:network:VirtualNetwork": "Virtual network",
    "azure-native:network:Subnet": "Subnet",
    "azure-native:network:NetworkSecurityGroup": "Network security group",
    "azure-native:network:NatGateway": "NAT gateway",
    "azure-native:network:PublicIPAddress": "Public IP address",
    "azure-native:network:PrivateEndpoint": "Private endpoint",
    "azure-native:network:PrivateDnsZoneGroup": "Private DNS zone group",
    "azure-native:privatedns:PrivateZone": "Private DNS zone",
    "azure-native:privatedns:VirtualNetworkLink": "DNS zone VNet link",
    "azure-native:storage:StorageAccount": "Storage account",
    "azure-native:storage:BlobContainer": "Blob container",
    "azure-native:storage:BlobServiceProperties": "Blob service settings",
    "azure-native:keyvault:Vault": "Key vault",
    "azure-native:containerregistry:Registry": "Container registry",
    "azure-native:managedidentity:UserAssignedIdentity": "Managed identity",
    "azure-native:managedidentity:FederatedIdentityCredential": "Federated credential",
    "azure-native:machinelearningservices:Workspace": "ML workspace",
    "azure-native:machinelearningservices:Compute": "Compute",
    "azure-native:machinelearningservices:Datastore": "Datastore",
    "azure-native:databricks:Workspace": "Databricks workspace",
    "azure-native:databricks:AccessConnector": "Access connector",
    "databricks:index/secretScope:SecretScope": "Secret scope",
    "databricks:index/clusterPolicy:ClusterPolicy": "Cluster policy",
    "databricks:index/storageCredential:StorageCredential": "Storage credential",
    "databricks:index/externalLocation:ExternalLocation": "External location",
    "databricks:index/catalog:Catalog": "Catalog",
    "databricks:index/schema:Schema": "Schema",
    "databricks:index/grants:Grants": "Grants",
    "databricks:index/directory:Directory": "Workspace folder",
    "databricks:index/permissions:Permissions": "Permissions",
    "databricks:index/ipAccessList:IpAccessList": "IP access list",
    "databricks:index/workspaceConf:WorkspaceConf": "Workspace settings",
    "pulumi:providers:databricks": "Provider (workspace API)",
    "azure-native:containerservice:ManagedCluster": "AKS cluster",
    "azure-native:containerservice:AgentPool": "Node pool",
    "azure-native:kubernetesconfiguration:Extension": "Cluster extension",
    "azure-native:operationalinsights:Workspace": "Log Analytics",
    "azure-native:applicationinsights:Component": "App Insights",
    "azure-native:monitor:DiagnosticSetting": "Diagnostic setting",
    "azure-native:authorization:RoleAssignment": "Role assignment",
    "azure-native:consumption:Budget": "Budget",
    "azure-native:datafactory:Factory": "Data Factory",
    "azure-native:datafactory:IntegrationRuntime": "Integration runtime",
    "azure-native:datafactory:ManagedPrivateEndpoint": "Managed private endpoint",
    "azure-native:resources:Resource": "Managed virtual network",
    "azure-native:cognitiveservices:Account": "AI services account",
    "azure-native:containerservice:ManagedNamespace": "Namespace (shared test AKS)",
}
# The properties a reviewer looks for first, in this order (location is said once, above).
INTERESTING = (
    "sku", "kind", "isHnsEnabled", "publicNetworkAccess", "allowSharedKeyAccess", "allowBlobPublicAccess",
    "minimumTlsVersion", "adminUserEnabled", "anonymousPullEnabled", "disableLocalAccounts", "computeMode",
    "requiredNsgRules", "addressPrefix", "vmSize", "minCount", "maxCount", "extensionType", "backendType",
    "storageRoot", "url", "catalogName", "owner", "retentionInDays", "publicAccess", "isVersioningEnabled",
    "systemDatastoresAuthMode", "subject",
)  # fmt: skip
PRINCIPAL_TYPE_LABELS = {"Group": "group", "User": "user", "ServicePrincipal": "service principal"}


def service_of(resource_type: str) -> str:
    for title, prefixes in SERVICE_GROUPS:
        if resource_type.startswith(prefixes):
            return title
    return OTHER_GROUP


def kind_label(resource_type: str) -> str:
    if resource_type in KIND_LABELS:
        return KIND_LABELS[resource_type]
    # An unknown type still reads as words: "fooBarBaz" -> "Foo bar baz".
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", resource_type.rsplit(":", 1)[-1])
    return " ".join(words).capitalize() or resource_type


# ----------------------------------------------------------------------------- text wrapping

# Where a long cell may break, best first: a space (dropped), then after a path or list
# separator, then inside a name. An ARM id cut after a `/` stays readable and copyable.
_BREAK_TIERS = ("/,;", "-._=&?:")


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters, broken at the best place in the last two
    thirds of each line (_BREAK_TIERS), and only then anywhere: no character is lost."""
    width = max(width, 1)
    lines: list[str] = []
    text = text.strip()
    while len(text) > width:
        window = text[: width + 1]
        cut = window.rfind(" ")
        if cut < width // 3:
            cut = width
            for tier in _BREAK_TIERS:
                breaks = [index + 1 for index, char in enumerate(window[:width]) if char in tier]
                if breaks and breaks[-1] >= width // 3:
                    cut = breaks[-1]
                    break
        lines.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    lines.append(text)
    return lines


def wrapped_table(headers: list[str], rows: list[list[str] | str], max_widths: list[int | None], indent: str = INDENT) -> list[str]:
    """A plain-text table whose cells wrap inside their column. `max_widths` caps each
    column (None: the column takes what is left of MAX_WIDTH), so no line is wider than
    MAX_WIDTH whatever the names in the plan are. A row given as a string is a section
    title: printed unindented after a blank line, the columns aligned across sections."""
    cells = [row for row in rows if not isinstance(row, str)]
    natural = [max([len(header), *(len(row[index]) for row in cells)]) for index, header in enumerate(headers)]
    widths = [min(width, cap) if cap else width for width, cap in zip(natural, max_widths, strict=True)]
    for index, cap in enumerate(max_widths):
        if cap is None:
            others = sum(width for position, width in enumerate(widths) if position != index)
            room = MAX_WIDTH - len(indent) - others - len(GAP) * (len(headers) - 1)
            widths[index] = max(min(natural[index], room), 10)

    def render(cells: list[str]) -> list[str]:
        columns = [wrap(cell, width) if cell else [""] for cell, width in zip(cells, widths, strict=True)]
        height = max(len(column) for column in columns)
        out = []
        for line_number in range(height):
            parts = [
                (column[line_number] if line_number < len(column) else "").ljust(width)
                for column, width in zip(columns, widths, strict=True)
            ]
            out.append((indent + GAP.join(parts)).rstrip())
        return out

    lines = [*render(headers), (indent + GAP.join("-" * width for width in widths)).rstrip()]
    for row in rows:
        lines += ["", *paragraph(row)] if isinstance(row, str) else render(row)
    return lines


def paragraph(text: str, first: str = "", rest: str | None = None) -> list[str]:
    """`text` wrapped to MAX_WIDTH, the first line after `first`, the others after `rest`
    (default: as many spaces as `first`, a hanging indent)."""
    rest = " " * len(first) if rest is None else rest
    head, *tail = wrap(text, MAX_WIDTH - len(first))
    if not tail:
        return [first + head]
    return [first + head, *(rest + line for line in wrap(" ".join(tail), MAX_WIDTH - len(rest)))]


# ----------------------------------------------------------------------------- the model


@dataclass
class Row:
    """One line of a service group: one resource, or several that read as one (the same
    kind under the same name, such as the diagnostic setting each service sends)."""

    kind: str
    name: str
    details: str
    count: int = 1


@dataclass
class ServiceGroup:
    title: str
    resources: list[PlannedResource]
    rows: list[Row]


class _Names:
    """Readable names for what the plan knows only by id: principals (from the project
    file) and resources (their Azure names)."""

    def __init__(self, plan: Plan):
        principals = plan.settings.principals
        self.principals: dict[str, str] = {
            principals.data_science_group.object_id: principals.data_science_group.display_name,
            principals.platform_admins.object_id: principals.platform_admins.display_name,
            principals.ci_service_principal.object_id: principals.ci_service_principal.display_name,
            principals.ci_service_principal.client_id: principals.ci_service_principal.display_name,
        }
        if principals.azure_databricks_object_id:
            self.principals[principals.azure_databricks_object_id] = "AzureDatabricks"
        self.by_id = {resource.id: resource for resource in plan.resources if resource.id}
        self.kind_by_name = {(resource.name, resource.type.rsplit(":", 1)[-1]): resource.type for resource in plan.resources}
        self.location = plan.settings.location

    def value(self, value: Any) -> str:
        if isinstance(value, dict):
            return str(value.get("name") or value.get("tier") or json.dumps(value, sort_keys=True))
        if isinstance(value, list):
            return ", ".join(self.value(item) for item in value)
        text = str(value)
        return self.principals.get(text) or self.resource(text) or text

    def resource(self, arm_id: str, nested: bool = False) -> str:
        """An ARM id as the short name of what it points at: the resource's name, or with
        `nested` every name on the path ("st.../default" for a storage account's blob service)."""
        if arm_id in self.by_id and not nested:
            return self.by_id[arm_id].name
        if "/providers/" not in arm_id:
            return ""
        segments = arm_id.split("/providers/", 1)[1].split("/")[1:]
        return "/".join(segments[1::2])

    def scope(self, row: RoleAssignmentRow) -> str:
        resource_type = self.kind_by_name.get((row.scope, row.scope_type))
        kind = kind_label(resource_type) if resource_type else row.scope_type
        return f"{row.scope} ({kind[0].lower() + kind[1:] if not kind[:2].isupper() else kind})"


def details(resource: PlannedResource, names: _Names) -> str:
    """One line of what a reviewer checks first, with names where the plan has ids."""
    properties = resource.properties
    kind = resource.type
    if kind == "azure-native:monitor:DiagnosticSetting":
        return names.resource(str(properties.get("resourceUri", "")), nested=True)
    if kind == "azure-native:network:PrivateDnsZoneGroup":
        return "registers its private endpoint in the private DNS zone"
    if kind == "azure-native:privatedns:VirtualNetworkLink":
        return f"links a private DNS zone to {names.value(properties.get('virtualNetwork', {}).get('id', ''))}"
    if kind == "azure-native:network:VirtualNetwork":
        return "addressSpace=" + ", ".join(properties.get("addressSpace", {}).get("addressPrefixes", []))
    if kind == "azure-native:network:PrivateEndpoint":
        connection = (properties.get("privateLinkServiceConnections") or [{}])[0]
        target = names.value(connection.get("privateLinkServiceId", ""))
        subnet = names.value(properties.get("subnet", {}).get("id", ""))
        return f"{'+'.join(connection.get('groupIds', []))} of {target}, in {subnet}"
    if kind == "azure-native:managedidentity:FederatedIdentityCredential":
        return f"identity={properties.get('resourceName')}, subject={properties.get('subject')}"
    if kind == "azure-native:machinelearningservices:Compute":
        compute = properties.get("properties", {})
        text = f"{compute.get('computeType')}: {compute.get('description', '')}".rstrip(": ")
        if compute.get("computeType") == "ComputeInstance":
            inner = compute.get("properties", {})
            ssh = inner.get("sshSettings", {}).get("sshPublicAccess")
            text += f", {inner.get('vmSize')}, idle shutdown {inner.get('idleTimeBeforeShutdown')}, SSH {ssh}"
        return text
    if kind == "azure-native:consumption:Budget":
        return budget_summary(properties)
    if kind == "azure-native:datafactory:Factory":
        return f"identity={properties.get('identity', {}).get('type')}, publicNetworkAccess={properties.get('publicNetworkAccess')}"
    if kind == "azure-native:datafactory:IntegrationRuntime":
        runtime = properties.get("properties", {})
        return f"{runtime.get('type')}, in managed VNet {runtime.get('managedVirtualNetwork', {}).get('referenceName', '(none)')}"
    if kind == "azure-native:datafactory:ManagedPrivateEndpoint":
        endpoint = properties.get("properties", {})
        return f"{endpoint.get('groupId')} of {names.value(endpoint.get('privateLinkResourceId', ''))} (approve once on the target)"
    if kind == "azure-native:resources:Resource":
        return f"{properties.get('resourceType')} of {properties.get('parentResourcePath')}"
    if kind == "azure-native:cognitiveservices:Account":
        account = properties.get("properties", {})
        return (
            f"kind={properties.get('kind')}, sku={names.value(properties.get('sku', {}))}, "
            f"customSubDomainName={account.get('customSubDomainName')}, disableLocalAuth={account.get('disableLocalAuth')}, "
            f"publicNetworkAccess={account.get('publicNetworkAccess')}"
        )
    if kind == "databricks:index/grants:Grants":
        return "; ".join(
            f"{names.value(grant.get('principal'))}: {', '.join(grant.get('privileges', []))}" for grant in properties.get("grants", [])
        )
    if kind == "databricks:index/permissions:Permissions":
        return "; ".join(
            f"{names.value(control.get('groupName') or control.get('servicePrincipalName') or control.get('userName'))}: "
            f"{control.get('permissionLevel')}"
            for control in properties.get("accessControls", [])
        )
    parts = []
    if properties.get("location") not in (None, "", names.location, "Global"):
        parts.append(f"location={properties['location']}")
    for key in INTERESTING:
        if key in properties and properties[key] not in (None, "", [], {}):
            parts.append(f"{key}={names.value(properties[key])}")
    vault = properties.get("properties") if kind == "azure-native:keyvault:Vault" else None
    if isinstance(vault, dict):
        for key in ("enableRbacAuthorization", "enablePurgeProtection", "publicNetworkAccess"):
            parts.append(f"{key}={vault.get(key)}")
    return ", ".join(parts)


def budget_summary(properties: dict[str, Any]) -> str:
    """`300 a month from 2026-11-01, alerts at 80%, 100% to 2 contact(s)`: what a reviewer
    (and the diagram) needs to know about a budget."""
    notifications = properties.get("notifications") or {}
    thresholds = sorted(item.get("threshold", 0) for item in notifications.values())
    contacts = {email for item in notifications.values() for email in item.get("contactEmails") or []}
    roles = {role for item in notifications.values() for role in item.get("contactRoles") or []}
    whom = f"{len(contacts)} contact(s)" if contacts else "role " + ", ".join(sorted(roles)) if roles else "nobody"
    start = str(properties.get("timePeriod", {}).get("startDate", ""))[:10]
    return f"{properties.get('amount')} a month from {start}, alerts at {', '.join(f'{t}%' for t in thresholds)} to {whom}"


def _rows(resources: list[PlannedResource], names: _Names) -> list[Row]:
    """Rows in plan order; resources of one kind that share a name collapse into one row
    (with a count), and so do those that share every detail (their names are listed)."""
    rows: list[Row] = []
    by_kind: dict[str, list[PlannedResource]] = {}
    for resource in resources:
        by_kind.setdefault(resource.type, []).append(resource)
    for resource_type, members in by_kind.items():
        label = kind_label(resource_type)
        if len(members) > 1 and len({member.name for member in members}) == 1:
            listed = sorted({details(member, names) for member in members} - {""})
            rows.append(Row(label, members[0].name, "; ".join(listed), len(members)))
            continue
        same_details: dict[str, list[str]] = {}
        for member in members:
            same_details.setdefault(details(member, names), []).append(member.name)
        for text, member_names in same_details.items():
            if len(member_names) > 1 and text:
                rows.append(Row(label, ", ".join(member_names), text, len(member_names)))
            else:
                rows += [Row(label, name, text) for name in member_names]
    return rows


def service_groups(plan: Plan) -> list[ServiceGroup]:
    """The plan's resources by service, in SERVICE_GROUPS order; every resource lands in
    exactly one group."""
    names = _Names(plan)
    order = [title for title, _ in SERVICE_GROUPS] + [OTHER_GROUP]
    grouped: dict[str, list[PlannedResource]] = {}
    for resource in plan.resources:
        grouped.setdefault(service_of(resource.type), []).append(resource)
    return [
        ServiceGroup(title, grouped[title], [] if title == "Access" else _rows(grouped[title], names))
        for title in order
        if title in grouped
    ]


def principal_label(row: RoleAssignmentRow) -> str:
    if row.principal.endswith(")"):
        return row.principal
    return f"{row.principal} ({PRINCIPAL_TYPE_LABELS.get(row.principal_type, row.principal_type or 'principal')})"


def role_rows(plan: Plan) -> list[list[str]]:
    """principal, role, scope, access: each principal named once, above its roles."""
    names = _Names(plan)
    rows, previous = [], None
    for row in plan.role_assignments:
        principal = principal_label(row)
        rows.append([principal if principal != previous else "", row.role, names.scope(row), "write" if row.writes else "read"])
        previous = principal
    return rows


# ----------------------------------------------------------------------------- renderers


def _count_line(groups: list[ServiceGroup]) -> str:
    return ", ".join(f"{group.title} {len(group.resources)}" for group in groups)


def _header(plan: Plan, markdown: bool) -> list[str]:
    from dsplatform.infra.plan import OFFLINE_NOTICE

    settings = plan.settings
    groups = service_groups(plan)
    mode = (
        "private (VNet injection, private endpoints)"
        if settings.is_private
        else ("public behind IP allowlist " + ", ".join(settings.settings.allowed_ip_ranges))
    )
    human = str(len(plan.human_write_assignments)) if plan.human_write_assignments else "none"
    verdict = "not evaluated"
    if plan.policy is not None:
        verdict = ("passed" if plan.policy.passed else "FAILED") + f" ({plan.policy.summary()})"
    facts = [
        f"Location: {settings.location}",
        f"Networking: {mode}",
        f"Resources: {len(plan.resources)} in {len(groups)} services ({_count_line(groups)})",
        f"Role assignments: {len(plan.role_assignments)}; human principals with a write role: {human}",
        f"Guardrails: {verdict}",
    ]
    if markdown:
        return [f"# Offline plan: {settings.stack_name}", "", f"> {OFFLINE_NOTICE}", "", *(f"- {fact}" for fact in facts)]
    lines = [f"Offline plan: {settings.stack_name}", "", *paragraph(OFFLINE_NOTICE), ""]
    for fact in facts:
        lines += paragraph(fact, first="- ")
    return lines


def _heading(text: str) -> list[str]:
    return [text, "=" * len(text)]


def _resource_cells(row: Row) -> list[str]:
    name = row.name if row.count == 1 or ", " in row.name else f"{row.name} (x{row.count})"
    return [row.kind, name, row.details]


def to_table(plan: Plan) -> str:
    """Fits MAX_WIDTH columns: long names and details wrap inside their column."""
    groups = service_groups(plan)
    lines = _header(plan, markdown=False)
    lines += ["", *_heading("Resources by service"), ""]
    rows: list[list[str] | str] = []
    for group in groups:
        if group.title != "Access":
            rows += [f"{group.title} ({_group_count(group)})", *(_resource_cells(row) for row in group.rows)]
    lines += wrapped_table(["resource", "name", "details"], rows, [24, 34, None])
    lines += ["", *_heading(f"Access: {len(plan.role_assignments)} role assignments (principal -> role -> scope)"), ""]
    lines += wrapped_table(["principal", "role", "scope", "access"], role_rows(plan), [None, 30, 38, 6])
    lines += ["", *_heading("Policy"), ""]
    lines += policy_text(plan.policy)
    for line in _constraint_lines(plan):
        lines += paragraph(line, rest="  ")
    lines += ["", *_heading("Outputs"), ""]
    lines += wrapped_table(["output", "value"], [[key, str(value)] for key, value in sorted(plan.outputs.items())], [30, None])
    return "\n".join(lines) + "\n"


def _constraint_lines(plan: Plan) -> list[str]:
    """The Azure constraints section, where the plan carries a constraint report
    (`Plan.constraints`, from dsplatform.infra.constraints); nothing otherwise."""
    report = getattr(plan, "constraints", None)
    if report is None:
        return []
    from dsplatform.infra.constraints import report_lines

    return ["", "Azure constraints", "=================", "", *report_lines(report)]


def _group_count(group: ServiceGroup) -> str:
    if group.title == "Access":
        return f"{len(group.resources)} role assignments"
    return str(len(group.resources))


def policy_text(report: PolicyReport | None) -> list[str]:
    """The guardrail verdict, then each finding as a short block (a six-column table of
    sentences cannot fit 120 columns)."""
    if report is None:
        return ["(not evaluated)"]
    verdict = "passed" if report.passed else "FAILED"
    lines = paragraph(f"Guardrails {verdict}: {report.summary()} (as of {report.today.isoformat()}).")
    for finding in report.findings:
        violation = finding.violation
        status = finding.status
        if finding.waiver is not None:
            status += f" ({finding.waiver.approver}: {finding.waiver.reason})"
        resource_type, _, name = violation.resource.partition(" ")
        resource = f"{name} ({kind_label(resource_type)})" if ":" in resource_type and name else violation.resource
        lines += ["", *paragraph(f"[{violation.severity}] {violation.rule}: {resource}", first="- ")]
        lines += paragraph(f"status: {status}", first="    ", rest="      ")
        lines += paragraph(f"problem: {violation.message}", first="    ", rest="      ")
        lines += paragraph(f"fix: {violation.remediation}", first="    ", rest="      ")
    return lines


def _markdown_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;") if text else " "

    return [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
        *("| " + " | ".join(cell(value) for value in row) + " |" for row in rows),
    ]


def to_markdown(plan: Plan) -> str:
    """For pull requests and wikis: one collapsible section per service, the role
    assignments open (they are what a reviewer must read)."""
    from dsplatform.infra.plan import policy_lines, to_mermaid

    groups = service_groups(plan)
    lines = _header(plan, markdown=True)
    lines += ["", "## Resources by service", ""]
    for group in groups:
        if group.title == "Access":
            continue
        lines += [f"<details><summary><b>{group.title}</b> ({_group_count(group)})</summary>", ""]
        lines += _markdown_table(["resource", "name", "details"], [_resource_cells(row) for row in group.rows])
        lines += ["", "</details>", ""]
    lines += [f"## Role assignments (principal -> role -> scope): {len(plan.role_assignments)}", ""]
    lines += _markdown_table(["principal", "role", "scope", "access"], role_rows(plan))
    lines += ["", "## Policy", ""]
    lines += policy_lines(plan.policy, markdown=True)
    constraint_lines = _constraint_lines(plan)
    if constraint_lines:
        lines += ["", "## Azure constraints", "", *constraint_lines[4:]]
    lines += ["", "## Outputs", ""]
    lines += _markdown_table(["output", "value"], [[key, f"`{value}`"] for key, value in sorted(plan.outputs.items())])
    lines += ["", "## Resource graph", "", "```mermaid", to_mermaid(plan).rstrip("\n"), "```"]
    return "\n".join(lines) + "\n"
