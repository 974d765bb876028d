"""ADLS Gen2 data lake with the hardened defaults of Azure Verified Modules, plus the
helper the ML workspace reuses for its own (non-HNS) storage account."""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure_native

from dsplatform.infra.components.common import child, diagnostic_setting
from dsplatform.infra.components.foundation import Foundation
from dsplatform.infra.components.network import Network
from dsplatform.infra.config.schema import StackSettings
from dsplatform.naming import STORAGE_CONTAINERS


def network_rules(
    settings: StackSettings,
    databricks_subnet_ids: list[pulumi.Input[str]] | None = None,
    access_connector_id: pulumi.Input[str] | None = None,
    tenant_id: pulumi.Input[str] | None = None,
) -> dict:
    """Deny by default. Public mode lets in the allowlist only; private mode lets in nothing
    but private endpoints (and trusted Azure services, which Databricks and AML need).

    In public mode the VNet-injected Databricks clusters come in through their subnets'
    service endpoints, and Unity Catalog through a resource-instance rule for the access
    connector ("Configure trusted access to Azure Storage based on your managed identity",
    https://learn.microsoft.com/azure/databricks/data-governance/unity-catalog/azure-managed-identities)."""
    ip_rules = (
        []
        if settings.settings.private_networking
        else [{"i_p_address_or_range": address.removesuffix("/32"), "action": "Allow"} for address in settings.settings.allowed_ip_ranges]
    )
    rules: dict = {"default_action": "Deny", "bypass": "AzureServices", "ip_rules": ip_rules}
    if databricks_subnet_ids:
        rules["virtual_network_rules"] = [{"virtual_network_resource_id": subnet, "action": "Allow"} for subnet in databricks_subnet_ids]
    if access_connector_id is not None:
        rules["resource_access_rules"] = [{"resource_id": access_connector_id, "tenant_id": tenant_id}]
    return rules


def hardened_storage_account(
    logical_name: str,
    account_name: str,
    settings: StackSettings,
    foundation: Foundation,
    parent: pulumi.Resource,
    hierarchical_namespace: bool,
    rules: dict | None = None,
) -> azure_native.storage.StorageAccount:
    private = settings.settings.private_networking
    return azure_native.storage.StorageAccount(
        logical_name,
        account_name=account_name,
        resource_group_name=foundation.resource_group.name,
        location=settings.location,
        kind="StorageV2",
        # Zone-redundant in prod (a zone outage must not lose data); locally redundant in dev.
        sku={"name": "Standard_ZRS" if settings.is_production else "Standard_LRS"},
        access_tier="Hot",
        is_hns_enabled=hierarchical_namespace,
        minimum_tls_version="TLS1_2",
        enable_https_traffic_only=True,
        allow_blob_public_access=False,
        # Entra ID only: no account keys, no SAS signed with them.
        allow_shared_key_access=False,
        default_to_o_auth_authentication=True,
        allow_cross_tenant_replication=False,
        public_network_access="Disabled" if private else "Enabled",
        network_rule_set=rules or network_rules(settings),
        identity={"type": "SystemAssigned"},
        tags=settings.resource_tags(),
        opts=child(parent),
    )


class DataLake(pulumi.ComponentResource):
    storage_account: azure_native.storage.StorageAccount
    blob_service: azure_native.storage.BlobServiceProperties
    containers: dict[str, azure_native.storage.BlobContainer]

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        foundation: Foundation,
        network: Network | None,
        opts: pulumi.ResourceOptions | None = None,
        databricks_network: Network | None = None,
        subscription_id: pulumi.Input[str] | None = None,
        tenant_id: pulumi.Input[str] | None = None,
    ):
        super().__init__("dsplatform:azure:DataLake", name, None, opts)
        names = settings.names
        retention_days = 30 if settings.is_production else 7
        rules = None
        if databricks_network is not None and not settings.settings.private_networking:
            connector_id = pulumi.Output.from_input(subscription_id).apply(
                lambda subscription: (
                    f"/subscriptions/{subscription}/resourceGroups/{names.resource_group}"
                    f"/providers/Microsoft.Databricks/accessConnectors/{names.databricks_access_connector}"
                )
            )
            rules = network_rules(
                settings,
                [databricks_network.subnets[key].id for key in ("databricks_host", "databricks_container")],
                connector_id,
                tenant_id,
            )

        self.storage_account = hardened_storage_account(
            f"{name}-storage-account", names.storage_account, settings, foundation, self, hierarchical_namespace=True, rules=rules
        )
        self.blob_service = azure_native.storage.BlobServiceProperties(
            f"{name}-blob-service",
            account_name=self.storage_account.name,
            resource_group_name=foundation.resource_group.name,
            blob_services_name="default",
            delete_retention_policy={"enabled": True, "days": retention_days},
            container_delete_retention_policy={"enabled": True, "days": retention_days},
            is_versioning_enabled=True,
            opts=child(self),
        )
        self.containers = {
            container: azure_native.storage.BlobContainer(
                f"{name}-container-{container}",
                container_name=container,
                account_name=self.storage_account.name,
                resource_group_name=foundation.resource_group.name,
                public_access="None",
                opts=child(self, [self.blob_service]),
            )
            for container in STORAGE_CONTAINERS
        }
        self.private_endpoints = {}
        if network is not None:
            for group_id in ("blob", "dfs"):
                self.private_endpoints[group_id] = network.private_endpoint(
                    names.storage_account, self.storage_account.id, group_id, [group_id], self
                )
        self.account_diagnostics = diagnostic_setting(
            f"{name}-storage-account", "storage_account", self.storage_account.id, foundation.log_analytics.id, self
        )
        self.blob_diagnostics = diagnostic_setting(
            f"{name}-blob-service",
            "blob_service",
            self.storage_account.id.apply(lambda account_id: f"{account_id}/blobServices/default"),
            foundation.log_analytics.id,
            self,
        )
        self.dfs_endpoint = self.storage_account.primary_endpoints.apply(lambda endpoints: endpoints.dfs)
        self.blob_endpoint = self.storage_account.primary_endpoints.apply(lambda endpoints: endpoints.blob)
        self.register_outputs({"dfs_endpoint": self.dfs_endpoint})
