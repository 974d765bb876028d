"""Azure ML workspace wired to the project's Key Vault, storage, registry and telemetry,
with a CPU cluster that costs nothing while idle and an identity-based lake datastore."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native

from dsplatform.infra.components.common import PrivateCapableArgs, child, diagnostic_setting
from dsplatform.infra.components.data_lake import hardened_storage_account
from dsplatform.infra.config.schema import AzureMLSettings
from dsplatform.vocabulary import SENSITIVE_CLASSIFICATIONS

machine_learning = azure_native.machinelearningservices


@dataclass(frozen=True, kw_only=True)
class MachineLearningWorkspaceArgs(PrivateCapableArgs):
    """Only what the workspace reads: the ids of the resources it is wired to (vault,
    registry, telemetry, the workload identity its cluster runs as, and the lake its managed
    network reaches), its cluster's size, and the data classification that makes it a
    high-business-impact workspace."""

    application_insights_id: pulumi.Input[str]
    workload_identity_id: pulumi.Input[str]
    key_vault_id: pulumi.Input[str]
    container_registry_id: pulumi.Input[str]
    data_classification: str
    cpu_cluster: AzureMLSettings
    production: bool
    allowed_ip_ranges: tuple[str, ...] = ()  # for the workspace's own storage account
    lake_account_id: pulumi.Input[str] | None = None


class MachineLearningWorkspace(pulumi.ComponentResource):
    storage_account: azure_native.storage.StorageAccount
    workspace: machine_learning.Workspace
    cpu_cluster: machine_learning.Compute
    lake_datastore: machine_learning.Datastore | None

    def __init__(self, name: str, args: MachineLearningWorkspaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dsplatform:azure:MachineLearningWorkspace", name, None, opts)
        self._name = name
        self._names = args.names
        self._resource_group_name = args.resource_group_name
        names = args.names
        private = args.private
        network = args.network
        self.lake_datastore = None

        # The workspace's own storage: Azure ML rejects hierarchical namespace here, so the
        # lake cannot double as it. Same hardening as the lake.
        self.storage_account = hardened_storage_account(
            f"{name}-storage-account",
            names.machine_learning_storage_account,
            self,
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=args.tags,
            production=args.production,
            private=private,
            allowed_ip_ranges=args.allowed_ip_ranges,
            hierarchical_namespace=False,
        )
        self.workspace = machine_learning.Workspace(
            f"{name}-workspace",
            workspace_name=names.machine_learning_workspace,
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku={"name": "Basic", "tier": "Basic"},
            kind="Default",
            identity={"type": "SystemAssigned"},
            key_vault=args.key_vault_id,
            storage_account=self.storage_account.id,
            container_registry=args.container_registry_id,
            application_insights=args.application_insights_id,
            # Datastores authenticate as the workspace identity, never with account keys.
            system_datastores_auth_mode="identity",
            public_network_access="Disabled" if private else "Enabled",
            # The managed network gets private endpoints to the workspace's own resources by
            # itself, but not to the lake: its jobs reach the private lake through these
            # user-defined outbound rules ("Workspace managed network isolation",
            # https://learn.microsoft.com/azure/machine-learning/how-to-managed-network).
            managed_network=(
                {"isolation_mode": "AllowInternetOutbound", "outbound_rules": self._lake_rules(args.lake_account_id)} if private else None
            ),
            # High business impact: less diagnostic data collected, scratch disks encrypted.
            hbi_workspace=args.data_classification in SENSITIVE_CLASSIFICATIONS,
            v1_legacy_mode=False,
            tags=dict(args.tags),
            opts=child(self),
        )
        self.cpu_cluster = machine_learning.Compute(
            f"{name}-cpu-cluster",
            compute_name=names.machine_learning_compute,
            workspace_name=self.workspace.name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            identity={"type": "UserAssigned", "user_assigned_identities": [args.workload_identity_id]},
            properties=machine_learning.AmlComputeArgs(
                compute_type="AmlCompute",
                disable_local_auth=True,
                properties=machine_learning.AmlComputePropertiesArgs(
                    vm_size=args.cpu_cluster.cpu_cluster_vm_size,
                    # Low priority in dev: a fraction of the price, and a pre-empted dev run is cheap to repeat.
                    vm_priority="Dedicated" if args.production else "LowPriority",
                    os_type="Linux",
                    scale_settings=machine_learning.ScaleSettingsArgs(
                        min_node_count=0,
                        max_node_count=args.cpu_cluster.cpu_cluster_max_nodes,
                        node_idle_time_before_scale_down="PT15M",
                    ),
                    enable_node_public_ip=not private,
                    remote_login_port_public_access="Disabled",
                ),
            ),
            tags=dict(args.tags),
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
            f"{name}-workspace", "machine_learning_workspace", self.workspace.id, args.log_analytics_workspace_id, self
        )
        # The workspace's own account holds run artefacts and snapshots: its access is logged too.
        self.storage_diagnostics = diagnostic_setting(
            f"{name}-storage-account", "storage_account", self.storage_account.id, args.log_analytics_workspace_id, self
        )
        self.principal_id = self.workspace.identity.apply(lambda identity: identity.principal_id)
        self.studio_url = self.workspace.id.apply(lambda workspace_id: f"https://ml.azure.com/?wsid={workspace_id}")
        self.register_outputs({"workspace_id": self.workspace.id})

    @staticmethod
    def _lake_rules(lake_account_id: pulumi.Input[str] | None) -> dict:
        if lake_account_id is None:
            return {}
        return {
            f"lake-{group_id}": {
                "type": "PrivateEndpoint",
                "category": "UserDefined",
                "destination": {
                    "service_resource_id": lake_account_id,
                    "subresource_target": group_id,
                    "spark_enabled": True,
                },
            }
            for group_id in ("dfs", "blob")
        }

    def attach_lake(
        self, lake_account_name: pulumi.Input[str], subscription_id: pulumi.Input[str], depends_on: list[pulumi.Resource]
    ) -> machine_learning.Datastore:
        """Register the lake's curated container as an identity-based datastore. Called after
        the workspace identity holds its lake role, so the first access does not fail."""
        self.lake_datastore = machine_learning.Datastore(
            f"{self._name}-lake-datastore",
            name=self._names.machine_learning_datastore,
            workspace_name=self.workspace.name,
            resource_group_name=self._resource_group_name,
            properties=machine_learning.AzureDataLakeGen2DatastoreArgs(
                datastore_type="AzureDataLakeGen2",
                account_name=lake_account_name,
                filesystem="curated",
                endpoint="core.windows.net",
                protocol="https",
                subscription_id=subscription_id,
                resource_group=self._resource_group_name,
                credentials=machine_learning.NoneDatastoreCredentialsArgs(credentials_type="None"),
                service_data_access_auth_identity="WorkspaceSystemAssignedIdentity",
                description="Curated zone of the project data lake; identity-based access, no keys.",
            ),
            opts=child(self, depends_on),
        )
        return self.lake_datastore
