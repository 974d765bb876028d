"""Role assignments per environment, in one place so they can be reviewed as a list.

- dev: the data-science group contributes to the workspaces and the data;
- prod (and staging): only the CI service principal writes; people get read roles at most;
- workload identities get exactly what they use.

Anything that needs a role to work (the Databricks secret scope, the Unity Catalog
storage credential, the ML datastore) is created after this component and depends on the
specific assignments it needs, because roles take a while to propagate and the first call
otherwise fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native

from dsplatform.infra.components.ai_services import AIServices
from dsplatform.infra.components.common import assign_role
from dsplatform.infra.components.container_registry import ContainerRegistry
from dsplatform.infra.components.data_factory import DataFactory
from dsplatform.infra.components.data_lake import DataLake
from dsplatform.infra.components.databricks import DatabricksWorkspace
from dsplatform.infra.components.foundation import Foundation
from dsplatform.infra.components.key_vault import KeyVault
from dsplatform.infra.components.kubernetes import KubernetesCluster
from dsplatform.infra.components.machine_learning import MachineLearningWorkspace
from dsplatform.infra.config.schema import Principals, StackSettings
from dsplatform.infra.roles import is_human_write
from dsplatform.naming import LANDING_CONTAINER, ResourceNames


@dataclass(frozen=True)
class Grant:
    """One intended role assignment, readable before any id is known."""

    principal: str  # a key such as "data_science_group" or "workload_identity"
    principal_type: str  # Group, User or ServicePrincipal
    role: str
    scope: str  # a key such as "lake" or "resource_group"

    @property
    def key(self) -> str:
        return f"{self.principal}:{self.scope}:{self.role}"

    @property
    def is_human_write(self) -> bool:
        return is_human_write(self.principal_type, self.role)


def planned_grants(settings: StackSettings) -> list[Grant]:
    """The environment's role assignments as data: the program creates exactly these, and
    tests and policies can check them without running Pulumi."""
    features = settings.features
    private = settings.is_private
    grants: list[Grant] = []

    def grant(principal: str, principal_type: str, role: str, scope: str) -> None:
        grants.append(Grant(principal, principal_type, role, scope))

    people = "data_science_group"
    if settings.is_production or settings.environment == "staging":
        grant(people, "Group", "Reader", "resource_group")
        grant(people, "Group", "Storage Blob Data Reader", "lake")
        if features.aks:
            grant(people, "Group", "Azure Kubernetes Service RBAC Reader", "aks_cluster")
        grant("platform_admins", "Group", "Reader", "resource_group")
        grant("platform_admins", "Group", "Key Vault Reader", "key_vault")
    else:
        grant(people, "Group", "Reader", "resource_group")
        grant(people, "Group", "Storage Blob Data Contributor", "lake")
        grant(people, "Group", "Key Vault Secrets Officer", "key_vault")
        grant(people, "Group", "AcrPush", "container_registry")
        if features.azureml:
            grant(people, "Group", "AzureML Data Scientist", "machine_learning_workspace")
        if features.databricks:
            grant(people, "Group", "Contributor", "databricks_workspace")
        if features.aks:
            grant(people, "Group", "Azure Kubernetes Service RBAC Writer", "aks_cluster")
        grant("platform_admins", "Group", "Contributor", "resource_group")

    # The CI service principal deploys models and data in every environment.
    ci = "ci_service_principal"
    grant(ci, "ServicePrincipal", "Storage Blob Data Contributor", "lake")
    grant(ci, "ServicePrincipal", "AcrPush", "container_registry")
    grant(ci, "ServicePrincipal", "Key Vault Secrets Officer", "key_vault")
    if features.azureml:
        grant(ci, "ServicePrincipal", "AzureML Data Scientist", "machine_learning_workspace")
    if features.databricks:
        grant(ci, "ServicePrincipal", "Contributor", "databricks_workspace")
    if features.aks:
        grant(ci, "ServicePrincipal", "Azure Kubernetes Service RBAC Writer", "aks_cluster")

    # The ML workspace's own storage has shared keys off, so the studio, CI and jobs need data
    # roles on it ("Disable shared key access for the workspace storage account"): people
    # read only outside dev.
    if features.azureml:
        if settings.is_production or settings.environment == "staging":
            grant(people, "Group", "Storage Blob Data Reader", "machine_learning_storage")
        else:
            grant(people, "Group", "Storage Blob Data Contributor", "machine_learning_storage")
            grant(people, "Group", "Storage File Data Privileged Contributor", "machine_learning_storage")
        for principal in (ci, "workload_identity"):
            grant(principal, "ServicePrincipal", "Storage Blob Data Contributor", "machine_learning_storage")
            grant(principal, "ServicePrincipal", "Storage File Data Privileged Contributor", "machine_learning_storage")

    # Workload identities: exactly what they use.
    grant("workload_identity", "ServicePrincipal", "Storage Blob Data Contributor", "lake")
    grant("workload_identity", "ServicePrincipal", "AcrPull", "container_registry")
    grant("workload_identity", "ServicePrincipal", "Key Vault Secrets User", "key_vault")
    if features.azureml:
        grant("machine_learning_workspace_identity", "ServicePrincipal", "Storage Blob Data Reader", "lake")
    if features.databricks:
        grant("databricks_access_connector", "ServicePrincipal", "Storage Blob Data Contributor", "lake")
        grant("azure_databricks_application", "ServicePrincipal", "Key Vault Secrets User", "key_vault")
    if features.aks:
        grant("aks_kubelet_identity", "ServicePrincipal", "AcrPull", "container_registry")
        if private:
            # Created by KubernetesCluster itself: the cluster needs it before it exists.
            grant("aks_control_plane_identity", "ServicePrincipal", "Network Contributor", "aks_subnet")

    # Data Factory orchestration (components/data_factory.py): the factory's own identity
    # invokes the Azure ML batch scoring and reads the landing container, nothing else. CI
    # publishes the generated pipeline definitions, and subscribing a storage-event trigger
    # to the lake's events needs Microsoft.EventGrid/EventSubscriptions/Write on the account
    # ("Create a trigger that runs a pipeline in response to a storage event",
    # https://learn.microsoft.com/azure/data-factory/how-to-create-event-trigger).
    if features.data_factory and features.azureml:
        grant("data_factory_identity", "ServicePrincipal", "AzureML Data Scientist", "machine_learning_workspace")
        grant("data_factory_identity", "ServicePrincipal", "Storage Blob Data Reader", "lake_landing")
        grant(ci, "ServicePrincipal", "Data Factory Contributor", "data_factory")
        grant(ci, "ServicePrincipal", "EventGrid EventSubscription Contributor", "lake")
        if not (settings.is_production or settings.environment == "staging"):
            grant(people, "Group", "Data Factory Contributor", "data_factory")
    # Azure AI services (components/ai_services.py): the project's workload identity only.
    if features.ai_services:
        grant("workload_identity", "ServicePrincipal", "Cognitive Services User", "ai_services")
    return grants


@dataclass(frozen=True)
class AccessArgs:
    """The grants to make (planned_grants, computed by program.py) and what they join: the
    people and service principals by id, and the components that hold the scopes and the
    managed identities. Components are passed whole here, unlike elsewhere, because Access
    is the one place that joins every scope with every identity, and each assignment must
    wait for its scope resource itself (depends_on), not only for its id."""

    stack_name: str  # role assignment names derive from it
    names: ResourceNames
    principals: Principals
    subscription_id: pulumi.Input[str]
    grants: tuple[Grant, ...]
    foundation: Foundation
    lake: DataLake
    key_vault: KeyVault
    registry: ContainerRegistry
    machine_learning: MachineLearningWorkspace | None = None
    databricks: DatabricksWorkspace | None = None
    kubernetes: KubernetesCluster | None = None
    data_factory: DataFactory | None = None
    ai_services: AIServices | None = None


class Access(pulumi.ComponentResource):
    assignments: dict[str, azure_native.authorization.RoleAssignment]

    def __init__(self, name: str, args: AccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dsplatform:azure:Access", name, None, opts)
        principals = args.principals
        names = args.names
        foundation, lake, key_vault, registry = args.foundation, args.lake, args.key_vault, args.registry
        machine_learning, databricks, kubernetes = args.machine_learning, args.databricks, args.kubernetes
        data_factory, ai_services = args.data_factory, args.ai_services
        principal_ids: dict[str, pulumi.Input[str]] = {
            "data_science_group": principals.data_science_group.object_id,
            "platform_admins": principals.platform_admins.object_id,
            "ci_service_principal": principals.ci_service_principal.object_id,
            "workload_identity": foundation.workload_identity.principal_id,
        }
        principal_labels = {
            "data_science_group": principals.data_science_group.display_name,
            "platform_admins": principals.platform_admins.display_name,
            "ci_service_principal": principals.ci_service_principal.display_name,
            "workload_identity": names.user_assigned_identity,
        }
        scopes: dict[str, tuple[pulumi.Input[str], str, list[pulumi.Resource]]] = {
            "resource_group": (foundation.resource_group.id, names.resource_group, [foundation.resource_group]),
            "lake": (lake.storage_account.id, names.storage_account, [lake.storage_account]),
            "key_vault": (key_vault.vault.id, names.key_vault, [key_vault.vault]),
            "container_registry": (registry.registry.id, names.container_registry, [registry.registry]),
        }
        if machine_learning is not None:
            principal_ids["machine_learning_workspace_identity"] = machine_learning.principal_id
            principal_labels["machine_learning_workspace_identity"] = f"{names.machine_learning_workspace} (system identity)"
            scopes["machine_learning_workspace"] = (
                machine_learning.workspace.id,
                names.machine_learning_workspace,
                [machine_learning.workspace],
            )
            scopes["machine_learning_storage"] = (
                machine_learning.storage_account.id,
                names.machine_learning_storage_account,
                [machine_learning.storage_account],
            )
        if databricks is not None:
            principal_ids["databricks_access_connector"] = databricks.access_connector_principal_id
            principal_labels["databricks_access_connector"] = names.databricks_access_connector
            if principals.azure_databricks_object_id:
                principal_ids["azure_databricks_application"] = principals.azure_databricks_object_id
                principal_labels["azure_databricks_application"] = "AzureDatabricks (first-party application)"
            scopes["databricks_workspace"] = (databricks.workspace.id, names.databricks_workspace, [databricks.workspace])
        if kubernetes is not None:
            principal_ids["aks_kubelet_identity"] = kubernetes.kubelet_object_id
            principal_labels["aks_kubelet_identity"] = f"{names.aks_cluster} (kubelet identity)"
            scopes["aks_cluster"] = (kubernetes.cluster.id, names.aks_cluster, [kubernetes.cluster])

        if data_factory is not None:
            principal_ids["data_factory_identity"] = data_factory.principal_id
            principal_labels["data_factory_identity"] = f"{names.data_factory} (system identity)"
            scopes["data_factory"] = (data_factory.factory.id, names.data_factory, [data_factory.factory])
            landing = lake.containers[LANDING_CONTAINER]
            scopes["lake_landing"] = (landing.id, f"{names.storage_account}/{LANDING_CONTAINER}", [landing])
        if ai_services is not None:
            scopes["ai_services"] = (ai_services.account.id, names.ai_services, [ai_services.account])

        # Grants whose principal or scope is not here belong to a component that makes them itself.
        self.grants = [grant for grant in args.grants if grant.scope in scopes and grant.principal in principal_ids]
        self.assignments = {}
        for grant in self.grants:
            scope_id, scope_label, scope_resources = scopes[grant.scope]
            self.assignments[grant.key] = assign_role(
                f"{name}-{grant.principal}-{grant.scope}-{grant.role}".replace(" ", "-").replace("_", "-").lower(),
                args.stack_name,
                grant.role,
                scope_id,
                scope_label,
                principal_ids[grant.principal],
                principal_labels[grant.principal],
                grant.principal_type,
                args.subscription_id,
                parent=self,
                depends_on=scope_resources,
            )
        self.register_outputs({"assignment_count": len(self.assignments)})

    def needed_by(self, *keys: str) -> list[pulumi.Resource]:
        """The assignments a consumer must wait for, by Grant.key."""
        missing = [key for key in keys if key not in self.assignments]
        if missing:
            raise KeyError(f"no role assignment planned for {', '.join(missing)}")
        return [self.assignments[key] for key in keys]
