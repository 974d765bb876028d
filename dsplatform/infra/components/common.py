"""Pieces every component shares: built-in roles, diagnostic settings, child options.

Roles are data (name → GUID, and whether the role can change anything) so that the
offline plan, the tests and later the policy pack judge "no human writes in prod" from
the same table the program assigns from.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_azure_native as azure_native

# The role table lives in dsplatform.infra.roles (no provider SDK import) so that the guardrails
# and the policy pack read the same data the program assigns from.
from dsplatform.infra.roles import HUMAN_PRINCIPAL_TYPES, READ_ONLY_ROLES, ROLE_DEFINITIONS, ROLE_NAMES_BY_ID, is_human_write  # noqa: F401
from dsplatform.naming import DIAGNOSTIC_SETTING_NAME

if TYPE_CHECKING:  # annotations only: the network component itself builds on this module
    from dsplatform.infra.components.network import Network
    from dsplatform.naming import ResourceNames

# A fixed namespace so role assignment GUIDs are the same on every run and machine.
ROLE_ASSIGNMENT_NAMESPACE = uuid.UUID("5d0f3c59-2f5e-4b8e-9a59-3c1b6d1a0e11")

# Which services support which diagnostic categories (allLogs / AllMetrics).
DIAGNOSTICS = {
    "log_analytics": (True, True),
    "application_insights": (True, True),
    "storage_account": (False, True),
    "blob_service": (True, True),
    "key_vault": (True, True),
    "container_registry": (True, True),
    "machine_learning_workspace": (True, True),
    "databricks_workspace": (True, False),
    "aks_cluster": (True, True),
    "network_security_group": (True, False),
    "virtual_network": (True, True),
    "data_factory": (True, True),
    "ai_services": (True, True),
}


def role_definition_id(subscription_id: pulumi.Input[str], role: str) -> pulumi.Output[str]:
    guid = ROLE_DEFINITIONS[role]
    return pulumi.Output.from_input(subscription_id).apply(
        lambda subscription: f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
    )


def role_assignment_name(stack: str, scope_key: str, principal_key: str, role: str) -> str:
    """Role assignment names must be GUIDs; deriving them from stable keys (not from ids
    only known after creation) makes re-runs idempotent and previews exact."""
    return str(uuid.uuid5(ROLE_ASSIGNMENT_NAMESPACE, f"{stack}|{scope_key}|{principal_key}|{role}"))


def assign_role(
    logical_name: str,
    stack: str,
    role: str,
    scope_id: pulumi.Input[str],
    scope_label: str,
    principal_id: pulumi.Input[str],
    principal_label: str,
    principal_type: str,
    subscription_id: pulumi.Input[str],
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource],
) -> azure_native.authorization.RoleAssignment:
    """Every role assignment goes through here, so names, descriptions and principal types
    are uniform and the plan can label each one."""
    return azure_native.authorization.RoleAssignment(
        logical_name,
        role_assignment_name=role_assignment_name(stack, scope_label, principal_label, role),
        principal_id=principal_id,
        principal_type=principal_type,
        role_definition_id=role_definition_id(subscription_id, role),
        scope=scope_id,
        description=f"{principal_label} -> {role} -> {scope_label}",
        # Explicit: the scope must exist before the assignment, even where the id comes
        # from configuration rather than from the resource's output.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )


def child(parent: pulumi.Resource, depends_on: Sequence[pulumi.Resource] | None = None) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on or []))


def diagnostic_setting(
    logical_name: str,
    service: str,
    resource_id: pulumi.Input[str],
    log_analytics_workspace_id: pulumi.Input[str],
    parent: pulumi.Resource,
) -> azure_native.monitor.DiagnosticSetting:
    """Send a service's logs and metrics to the project's Log Analytics workspace.

    Category groups (allLogs) rather than category lists, so new log categories Azure adds
    are captured without a code change.
    """
    logs_supported, metrics_supported = DIAGNOSTICS[service]
    return azure_native.monitor.DiagnosticSetting(
        f"{logical_name}-diagnostics",
        name=DIAGNOSTIC_SETTING_NAME,
        resource_uri=resource_id,
        workspace_id=log_analytics_workspace_id,
        log_analytics_destination_type="Dedicated",
        logs=[{"category_group": "allLogs", "enabled": True}] if logs_supported else [],
        metrics=[{"category": "AllMetrics", "enabled": True}] if metrics_supported else [],
        opts=pulumi.ResourceOptions(parent=parent),
    )


def require_private_network(component: str, private: bool, network: object | None) -> None:
    """A private component is reached through private endpoints in the project's network, so
    it needs that network; a public one must not be given it. `private` is decided once
    (StackSettings.is_private, passed on by program.py): a component never infers it from
    whether a network came along, and a wiring mistake fails here instead of deploying a
    service that is public, or private with no way in."""
    if private and network is None:
        raise ValueError(f"{component}: private is true but no private network was given for its endpoints")
    if not private and network is not None:
        raise ValueError(f"{component}: private is false but a private network was given; public services get no endpoints")


@dataclass(frozen=True, kw_only=True)
class PlacedArgs:
    """What every component inside the project's resource group reads: its names, region and
    tags, the group, and the Log Analytics workspace its diagnostics go to."""

    names: ResourceNames
    location: str
    tags: Mapping[str, str]
    resource_group_name: pulumi.Input[str]
    log_analytics_workspace_id: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class PrivateCapableArgs(PlacedArgs):
    """A component that is private (reached through endpoints in the project's network) or
    public; `require_private_network` checks the two agree as soon as the Args are made."""

    private: bool
    network: Network | None = None  # the private network, given exactly when private

    def __post_init__(self) -> None:
        require_private_network(type(self).__name__.removesuffix("Args"), self.private, self.network)
