"""Private networking: one VNet per project environment, Databricks VNet injection
subnets, and private endpoints with their DNS zones.

Built fully when `private_networking` is on (prod and staging by default). Without it,
services stay public but answer only the environment's IP allowlist, and the VNet holds
only the Databricks subnets (`databricks_only`): a storage firewall cannot be used with a
standard, non-injected Databricks workspace ("Use Azure managed identities in Unity
Catalog", https://learn.microsoft.com/azure/databricks/data-governance/unity-catalog/azure-managed-identities),
so dev injects its workspace too.

The Databricks subnets have no implicit outbound access, so a NAT gateway gives clusters
their egress ("User-defined route settings for Azure Databricks",
https://learn.microsoft.com/azure/databricks/security/network/classic/udr); without it
classic clusters cannot reach the control plane and never start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native

from dsplatform.infra.components.common import child, diagnostic_setting
from dsplatform.infra.config.schema import NetworkSettings
from dsplatform.naming import SUBNET_NAMES, ResourceNames

# Private DNS zone per private-link sub-resource (Azure public cloud).
PRIVATE_DNS_ZONES = {
    "blob": "privatelink.blob.core.windows.net",
    "dfs": "privatelink.dfs.core.windows.net",
    "vault": "privatelink.vaultcore.azure.net",
    "registry": "privatelink.azurecr.io",
    "amlworkspace": "privatelink.api.azureml.ms",
    "amlnotebooks": "privatelink.notebooks.azure.net",
    "file": "privatelink.file.core.windows.net",
    "databricks_ui_api": "privatelink.azuredatabricks.net",
}
# Zones only some environments need (the service is opted into), created with the first
# private endpoint that uses them ("Azure Private Endpoint private DNS zone values",
# https://learn.microsoft.com/azure/private-link/private-endpoint-dns).
ON_DEMAND_DNS_ZONES = {
    "account": "privatelink.cognitiveservices.azure.com",
    "dataFactory": "privatelink.datafactory.azure.net",
}
DATABRICKS_DELEGATION = "Microsoft.Databricks/workspaces"


@dataclass(frozen=True)
class NetworkArgs:
    """Only what the network reads: its address ranges, where it lives, and whether it holds
    the Databricks subnets alone (a public environment) or everything (a private one)."""

    names: ResourceNames
    location: str
    tags: Mapping[str, str]
    cidrs: NetworkSettings
    production: bool  # the NAT gateway's public IP is zone-redundant in prod
    resource_group_name: pulumi.Input[str]
    log_analytics_workspace_id: pulumi.Input[str]
    databricks_only: bool = False


class Network(pulumi.ComponentResource):
    virtual_network: azure_native.network.VirtualNetwork
    databricks_security_group: azure_native.network.NetworkSecurityGroup
    subnets: dict[str, azure_native.network.Subnet]
    dns_zones: dict[str, azure_native.privatedns.PrivateZone]
    dns_links: dict[str, azure_native.privatedns.VirtualNetworkLink]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dsplatform:azure:Network", name, None, opts)
        names = args.names
        cidrs = args.cidrs
        tags = dict(args.tags)
        databricks_only = args.databricks_only
        resource_group_name = args.resource_group_name
        self._name = name
        self._resource_group_name = resource_group_name
        self._location = args.location
        self._tags = tags
        self.private_endpoints: dict[str, azure_native.network.PrivateEndpoint] = {}
        self.private_endpoint_dns_groups: dict[str, azure_native.network.PrivateDnsZoneGroup] = {}

        self.virtual_network = azure_native.network.VirtualNetwork(
            f"{name}-virtual-network",
            virtual_network_name=names.virtual_network,
            resource_group_name=resource_group_name,
            location=args.location,
            address_space={"address_prefixes": [cidrs.vnet_cidr]},
            tags=tags,
            opts=child(self),
        )
        # Databricks adds its own required rules to this group when it injects into the VNet.
        self.databricks_security_group = azure_native.network.NetworkSecurityGroup(
            f"{name}-databricks-security-group",
            network_security_group_name=names.network_security_group,
            resource_group_name=resource_group_name,
            location=args.location,
            tags=tags,
            opts=child(self, [self.virtual_network]),
        )
        # One NAT gateway with a static public IP: the clusters' only way out, and a fixed
        # address other firewalls can allow.
        self.nat_public_ip = azure_native.network.PublicIPAddress(
            f"{name}-nat-public-ip",
            public_ip_address_name=names.nat_public_ip,
            resource_group_name=resource_group_name,
            location=args.location,
            sku={"name": "Standard", "tier": "Regional"},
            public_ip_allocation_method="Static",
            zones=["1", "2", "3"] if args.production else None,
            tags=tags,
            opts=child(self),
        )
        self.nat_gateway = azure_native.network.NatGateway(
            f"{name}-nat-gateway",
            nat_gateway_name=names.nat_gateway,
            resource_group_name=resource_group_name,
            location=args.location,
            sku={"name": "Standard"},
            public_ip_addresses=[{"id": self.nat_public_ip.id}],
            idle_timeout_in_minutes=10,
            tags=tags,
            opts=child(self),
        )
        subnet_specs = {
            "databricks_host": (cidrs.databricks_host_subnet, True),
            "databricks_container": (cidrs.databricks_container_subnet, True),
        }
        if not databricks_only:
            subnet_specs |= {
                "private_endpoints": (cidrs.private_endpoint_subnet, False),
                "aks": (cidrs.aks_subnet, False),
            }
        self.subnets = {}
        previous: list[pulumi.Resource] = []
        for key, (prefix, delegated) in subnet_specs.items():
            subnet = azure_native.network.Subnet(
                f"{name}-subnet-{key.replace('_', '-')}",
                subnet_name=SUBNET_NAMES[key],
                virtual_network_name=self.virtual_network.name,
                resource_group_name=resource_group_name,
                address_prefix=prefix,
                # No implicit outbound internet: egress is explicit (NAT or firewall) in private mode.
                default_outbound_access=False,
                delegations=[{"name": "databricks", "service_name": DATABRICKS_DELEGATION}] if delegated else None,
                network_security_group={"id": self.databricks_security_group.id} if delegated else None,
                private_endpoint_network_policies="Disabled" if key == "private_endpoints" else None,
                nat_gateway={"id": self.nat_gateway.id} if delegated else None,
                # Public mode reaches the lake through its firewall's VNet rules, which need the endpoint.
                service_endpoints=[{"service": "Microsoft.Storage"}] if delegated and databricks_only else None,
                # Azure rejects concurrent updates to one VNet's subnets, so they go one by one.
                opts=child(self, previous),
            )
            self.subnets[key] = subnet
            previous = [subnet]

        self.dns_zones = {}
        self.dns_links = {}
        self._virtual_network_name = names.virtual_network
        for key, zone_name in ({} if databricks_only else PRIVATE_DNS_ZONES).items():
            self._dns_zone(key, zone_name)
        self.virtual_network_diagnostics = diagnostic_setting(
            f"{name}-virtual-network", "virtual_network", self.virtual_network.id, args.log_analytics_workspace_id, self
        )
        self.databricks_security_group_diagnostics = diagnostic_setting(
            f"{name}-databricks-security-group",
            "network_security_group",
            self.databricks_security_group.id,
            args.log_analytics_workspace_id,
            self,
        )
        self.register_outputs({"virtual_network_id": self.virtual_network.id})

    def _dns_zone(self, key: str, zone_name: str) -> None:
        """A private DNS zone linked to this VNet, so names in it resolve here."""
        zone = azure_native.privatedns.PrivateZone(
            f"{self._name}-dns-{key.replace('_', '-').lower()}",
            private_zone_name=zone_name,
            resource_group_name=self._resource_group_name,
            location="Global",
            tags=self._tags,
            opts=child(self),
        )
        self.dns_zones[key] = zone
        self.dns_links[key] = azure_native.privatedns.VirtualNetworkLink(
            f"{self._name}-dns-link-{key.replace('_', '-').lower()}",
            virtual_network_link_name=f"link-{self._virtual_network_name}",
            private_zone_name=zone.name,
            resource_group_name=self._resource_group_name,
            location="Global",
            registration_enabled=False,
            virtual_network={"id": self.virtual_network.id},
            tags=self._tags,
            opts=child(self),
        )

    def private_endpoint(
        self,
        target_name: str,
        target_id: pulumi.Input[str],
        group_id: str,
        zone_keys: list[str],
        parent: pulumi.Resource,
    ) -> azure_native.network.PrivateEndpoint:
        """Reach a service over the VNet only: endpoint in the endpoints subnet, DNS record
        in the matching private zone so the public hostname resolves privately."""
        for key in zone_keys:
            if key not in self.dns_zones and key in ON_DEMAND_DNS_ZONES:
                self._dns_zone(key, ON_DEMAND_DNS_ZONES[key])
        endpoint_name = f"pe-{target_name}-{group_id.replace('_', '-').lower()}"
        endpoint = azure_native.network.PrivateEndpoint(
            f"{self._name}-{endpoint_name}",
            private_endpoint_name=endpoint_name,
            resource_group_name=self._resource_group_name,
            location=self._location,
            subnet={"id": self.subnets["private_endpoints"].id},
            private_link_service_connections=[{"name": endpoint_name, "private_link_service_id": target_id, "group_ids": [group_id]}],
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        self.private_endpoints[endpoint_name] = endpoint
        self.private_endpoint_dns_groups[endpoint_name] = azure_native.network.PrivateDnsZoneGroup(
            f"{self._name}-{endpoint_name}-dns",
            private_dns_zone_group_name="default",
            private_endpoint_name=endpoint.name,
            resource_group_name=self._resource_group_name,
            private_dns_zone_configs=[{"name": key.replace("_", "-"), "private_dns_zone_id": self.dns_zones[key].id} for key in zone_keys],
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[self.dns_links[key] for key in zone_keys]),
        )
        return endpoint
