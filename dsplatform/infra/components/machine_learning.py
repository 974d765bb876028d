"""Azure ML workspace wired to the project's Key Vault, storage, registry and telemetry,
with a CPU cluster that costs nothing while idle and an identity-based lake datastore."""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure_native

from dsplatform.infra.components.common import child, diagnostic_setting
from dsplatform.infra.components.container_registry import ContainerRegistry
from dsplatform.infra.components.data_lake import DataLake, hardened_storage_account
from dsplatform.infra.components.foundation import Foundation
from dsplatform.infra.components.key_vault import KeyVault
from dsplatform.infra.components.network import Network
from dsplatform.infra.config.schema import StackSettings
from dsplatform.vocabulary import SENSITIVE_CLASSIFICATIONS

machine_learning = azure_native.machinelearningservices


class MachineLearningWorkspace(pulumi.ComponentResource):
    storage_account: azure_native.storage.StorageAccount
    workspace: machine_learning.Workspace
    cpu_cluster: machine_learning.Compute
    lake_datastore: machine_learning.Datastore | None

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        foundation: Foundation,
        key_vault: KeyVault,
        registry: ContainerRegistry,
        network: Network | None,
        opts: pulumi.ResourceOptions | None = None,
        lake: DataLake | None = None,
    ):
        super().__init__("dsplatform:azure:MachineLearningWorkspace", name, None, opts)
        self._name = name
        self._settings = settings
        self._foundation = foundation
        names = settings.names
        private = settings.settings.private_networking
        self.lake_datastore = None

        # The workspace's own storage: Azure ML rejects hierarchical namespace here, so the
        # lake cannot double as it. Same hardening as the lake.
        self.storage_account = hardened_storage_account(
            f"{name}-storage-account",
            names.machine_learning_storage_account,
            settings,
            foundation,
            self,
            hierarchical_namespace=False,
        )
        self.workspace = machine_learning.Workspace(
            f"{name}-workspace",
            workspace_name=names.machine_learning_workspace,
            resource_group_name=foundation.resource_group.name,
            location=settings.location,
            sku={"name": "Basic", "tier": "Basic"},
            kind="Default",
            identity={"type": "SystemAssigned"},
            key_vault=key_vault.vault.id,
            storage_account=self.storage_account.id,
            container_registry=registry.registry.id,
            application_insights=foundation.application_insights.id,
            # Datastores authenticate as the workspace identity, never with account keys.
            system_datastores_auth_mode="identity",
            public_network_access="Disabled" if private else "Enabled",
            # The managed network gets private endpoints to the workspace's own resources by
            # itself, but not to the lake: its jobs reach the private lake through these
            # user-defined outbound rules ("Workspace managed network isolation",
            # https://learn.microsoft.com/azure/machine-learning/how-to-managed-network).
            managed_network=({"isolation_mode": "AllowInternetOutbound", "outbound_rules": self._lake_rules(lake)} if private else None),
            # High business impact: less diagnostic data collected, scratch disks encrypted.
            hbi_workspace=settings.tags.data_classification in SENSITIVE_CLASSIFICATIONS,
            v1_legacy_mode=False,
            tags=settings.resource_tags(),
            opts=child(self),
        )
        self.cpu_cluster = machine_learning.Compute(
            f"{name}-cpu-cluster",
            compute_name=names.machine_learning_compute,
            workspace_name=self.workspace.name,
            resource_group_name=foundation.resource_group.name,
            location=settings.location,
            identity={"type": "UserAssigned", "user_assigned_identities": [foundation.workload_identity.id]},
            properties=machine_learning.AmlComputeArgs(
                compute_type="AmlCompute",
                disable_local_auth=True,
                properties=machine_learning.AmlComputePropertiesArgs(
                    vm_size=settings.settings.azureml.cpu_cluster_vm_size,
                    # Low priority in dev: a fraction of the price, and a pre-empted dev run is cheap to repeat.
                    vm_priority="Dedicated" if settings.is_production else "LowPriority",
                    os_type="Linux",
                    scale_settings=machine_learning.ScaleSettingsArgs(
                        min_node_count=0,
                        max_node_count=settings.settings.azureml.cpu_cluster_max_nodes,
                        node_idle_time_before_scale_down="PT15M",
                    ),
                    enable_node_public_ip=not private,
                    remote_login_port_public_access="Disabled",
                ),
            ),
            tags=settings.resource_tags(),
            # The first compute in a managed-network workspace waits for the managed network,
            # which takes about 30 minutes to provision (docs/infra.md, deploy readiness).
            opts=child(self).merge(pulumi.ResourceOptions(custom_timeouts=pulumi.CustomTimeouts(create="60m"))),
        )
        self.private_endpoints = {}
        if network is not None:
            self.private_endpoints["amlworkspace"] = network.private_endpoint(
                names.machine_learning_workspace,
                self.workspace.id,
                "amlworkspace",
                ["amlworkspace", "amlnotebooks"],
                self,
            )
            # The studio needs both blob and file endpoints on the workspace storage.
            for group_id in ("blob", "file"):
                self.private_endpoints[group_id] = network.private_endpoint(
                    names.machine_learning_storage_account, self.storage_account.id, group_id, [group_id], self
                )
        self.diagnostics = diagnostic_setting(
            f"{name}-workspace", "machine_learning_workspace", self.workspace.id, foundation.log_analytics.id, self
        )
        # The workspace's own account holds run artefacts and snapshots: its access is logged too.
        self.storage_diagnostics = diagnostic_setting(
            f"{name}-storage-account", "storage_account", self.storage_account.id, foundation.log_analytics.id, self
        )
        self.principal_id = self.workspace.identity.apply(lambda identity: identity.principal_id)
        self.studio_url = self.workspace.id.apply(lambda workspace_id: f"https://ml.azure.com/?wsid={workspace_id}")
        self.register_outputs({"workspace_id": self.workspace.id})

    @staticmethod
    def _lake_rules(lake: DataLake | None) -> dict:
        if lake is None:
            return {}
        return {
            f"lake-{group_id}": {
                "type": "PrivateEndpoint",
                "category": "UserDefined",
                "destination": {
                    "service_resource_id": lake.storage_account.id,
                    "subresource_target": group_id,
                    "spark_enabled": True,
                },
            }
            for group_id in ("dfs", "blob")
        }

    def attach_lake(
        self, lake: DataLake, subscription_id: pulumi.Input[str], depends_on: list[pulumi.Resource]
    ) -> machine_learning.Datastore:
        """Register the lake's curated container as an identity-based datastore. Called after
        the workspace identity holds its lake role, so the first access does not fail."""
        self.lake_datastore = machine_learning.Datastore(
            f"{self._name}-lake-datastore",
            name=self._settings.names.machine_learning_datastore,
            workspace_name=self.workspace.name,
            resource_group_name=self._foundation.resource_group.name,
            properties=machine_learning.AzureDataLakeGen2DatastoreArgs(
                datastore_type="AzureDataLakeGen2",
                account_name=lake.storage_account.name,
                filesystem="curated",
                endpoint="core.windows.net",
                protocol="https",
                subscription_id=subscription_id,
                resource_group=self._foundation.resource_group.name,
                credentials=machine_learning.NoneDatastoreCredentialsArgs(credentials_type="None"),
                service_data_access_auth_identity="WorkspaceSystemAssignedIdentity",
                description="Curated zone of the project data lake; identity-based access, no keys.",
            ),
            opts=child(self, depends_on),
        )
        return self.lake_datastore
