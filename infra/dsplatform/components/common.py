"""Pieces every component shares: built-in roles, diagnostic settings, child options.

Roles are data (name → GUID, and whether the role can change anything) so that the
offline plan, the tests and later the policy pack judge "no human writes in prod" from
the same table the program assigns from.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pulumi
import pulumi_azure_native as azure_native

from dsplatform.naming import DIAGNOSTIC_SETTING_NAME

# Built-in Azure role definition GUIDs (identical in every tenant).
ROLE_DEFINITIONS: dict[str, str] = {
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "AcrPush": "8311e382-0749-4cb8-b61a-304f252e45ec",
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "Key Vault Administrator": "00482a5a-887f-4fb3-b363-3b7fe8e74483",
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Key Vault Reader": "21090545-7ca7-4776-b22c-e363652d74d2",
    "AzureML Data Scientist": "f6c7c914-8db3-469d-8ca1-694a8f32e121",
    "Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
    "Azure Kubernetes Service RBAC Writer": "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb",
    "Azure Kubernetes Service RBAC Reader": "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
    "Azure Kubernetes Service Cluster User Role": "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
}
ROLE_NAMES_BY_ID = {guid: name for name, guid in ROLE_DEFINITIONS.items()}
# Roles that only read (or, for AcrPull and Secrets User, only fetch what a workload runs
# with). Everything else counts as write access.
READ_ONLY_ROLES = frozenset(
    {
        "Reader",
        "Storage Blob Data Reader",
        "AcrPull",
        "Key Vault Secrets User",
        "Key Vault Reader",
        "Azure Kubernetes Service RBAC Reader",
        "Azure Kubernetes Service Cluster User Role",
    }
)
# Principal types Azure treats as people (a group holds people).
HUMAN_PRINCIPAL_TYPES = frozenset({"User", "Group"})

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
