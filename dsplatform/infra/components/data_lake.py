"""ADLS Gen2 data lake with the hardened defaults of Azure Verified Modules, plus the
helper the ML workspace reuses for its own (non-HNS) storage account."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native

from dsplatform.infra.components.common import PrivateCapableArgs, child, diagnostic_setting
from dsplatform.naming import STORAGE_CONTAINERS


def network_rules(
    private: bool,
    allowed_ip_ranges: Sequence[str],
    databricks_subnet_ids: Sequence[pulumi.Input[str]] | None = None,
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
        [] if private else [{"i_p_address_or_range": address.removesuffix("/32"), "action": "Allow"} for address in allowed_ip_ranges]
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
    parent: pulumi.Resource,
    *,
    resource_group_name: pulumi.Input[str],
    location: str,
    tags: Mapping[str, str],
    production: bool,
    private: bool,
    allowed_ip_ranges: Sequence[str],
    hierarchical_namespace: bool,
    rules: dict | None = None,
) -> azure_native.storage.StorageAccount:
    return azure_native.storage.StorageAccount(
        logical_name,
        account_name=account_name,
        resource_group_name=resource_group_name,
        location=location,
        kind="StorageV2",
        # Zone-redundant in prod (a zone outage must not lose data); locally redundant in dev.
        sku={"name": "Standard_ZRS" if production else "Standard_LRS"},
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
        network_rule_set=rules or network_rules(private, allowed_ip_ranges),
        identity={"type": "SystemAssigned"},
        tags=dict(tags),
        opts=child(parent),
    )


@dataclass(frozen=True, kw_only=True)
class DataLakeArgs(PrivateCapableArgs):
    """Only what the lake reads. In a public environment with Databricks, the clusters'
    subnets and the access connector (by its name in `names`, under `subscription_id`) are
    let through the firewall; everything else stays behind the allowlist."""

    production: bool
    allowed_ip_ranges: tuple[str, ...] = ()
    databricks_subnet_ids: tuple[pulumi.Input[str], ...] = ()  # the injected workspace's subnets, if any
    subscription_id: pulumi.Input[str] | None = None
    tenant_id: pulumi.Input[str] | None = None


class DataLake(pulumi.ComponentResource):
    storage_account: azure_native.storage.StorageAccount
    blob_service: azure_native.storage.BlobServiceProperties
    containers: dict[str, azure_native.storage.BlobContainer]

    def __init__(self, name: str, args: DataLakeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dsplatform:azure:DataLake", name, None, opts)
        names = args.names
        retention_days = 30 if args.production else 7
        rules = None
        if args.databricks_subnet_ids and not args.private:
            connector_id = pulumi.Output.from_input(args.subscription_id).apply(
                lambda subscription: (
                    f"/subscriptions/{subscription}/resourceGroups/{names.resource_group}"
                    f"/providers/Microsoft.Databricks/accessConnectors/{names.databricks_access_connector}"
                )
            )
            rules = network_rules(args.private, args.allowed_ip_ranges, args.databricks_subnet_ids, connector_id, args.tenant_id)

        self.storage_account = hardened_storage_account(
            f"{name}-storage-account",
            names.storage_account,
            self,
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=args.tags,
            production=args.production,
            private=args.private,
            allowed_ip_ranges=args.allowed_ip_ranges,
            hierarchical_namespace=True,
            rules=rules,
        )
        self.blob_service = azure_native.storage.BlobServiceProperties(
            f"{name}-blob-service",
            account_name=self.storage_account.name,
            resource_group_name=args.resource_group_name,
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
                resource_group_name=args.resource_group_name,
                public_access="None",
                opts=child(self, [self.blob_service]),
            )
            for container in STORAGE_CONTAINERS
        }
        self.private_endpoints = {}
        if args.network is not None:
            for group_id in ("blob", "dfs"):
                self.private_endpoints[group_id] = args.network.private_endpoint(
                    names.storage_account, self.storage_account.id, group_id, [group_id], self
                )
        self.account_diagnostics = diagnostic_setting(
            f"{name}-storage-account", "storage_account", self.storage_account.id, args.log_analytics_workspace_id, self
        )
        self.blob_diagnostics = diagnostic_setting(
            f"{name}-blob-service",
            "blob_service",
            self.storage_account.id.apply(lambda account_id: f"{account_id}/blobServices/default"),
            args.log_analytics_workspace_id,
            self,
        )
        self.dfs_endpoint = self.storage_account.primary_endpoints.apply(lambda endpoints: endpoints.dfs)
        self.blob_endpoint = self.storage_account.primary_endpoints.apply(lambda endpoints: endpoints.blob)
        self.register_outputs({"dfs_endpoint": self.dfs_endpoint})
