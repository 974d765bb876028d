"""Azure built-in roles as data, and which of them count as write access.

Standard library only: the Pulumi program assigns roles from this table, and the offline
plan, the guardrails and the policy pack (which runs without the provider SDKs' weight)
judge "no human writes in prod" from the very same table.
"""

from __future__ import annotations

# Built-in Azure role definition GUIDs (identical in every tenant).
ROLE_DEFINITIONS: dict[str, str] = {
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    "Role Based Access Control Administrator": "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Storage File Data Privileged Contributor": "69566ab7-960f-475b-8e7c-b3118f30c6bd",
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
    # Data Factory orchestration and Azure AI services (issue 14).
    "Data Factory Contributor": "673868aa-7521-48a0-acc6-0f60742d39f5",
    "EventGrid EventSubscription Contributor": "428e0ff0-5e57-4d9c-a221-2c70d0e0a443",
    "Cognitive Services User": "a97b65f3-24c7-4388-baec-2e87135dc908",
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
# Roles that can grant roles: whoever holds one can give themselves anything.
PRIVILEGED_ROLES = frozenset({"Owner", "User Access Administrator", "Role Based Access Control Administrator"})
# Principal types Azure treats as people (a group holds people).
HUMAN_PRINCIPAL_TYPES = frozenset({"User", "Group"})


def is_human_write(principal_type: str, role: str) -> bool:
    """A person (or a group of people) holding a role that can change something."""
    return principal_type in HUMAN_PRINCIPAL_TYPES and role not in READ_ONLY_ROLES
