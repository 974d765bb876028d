"""Constraints: what Azure and Databricks accept, and what actually works once deployed.

Why a layer beside the guardrails: guardrails say what the platform team wants and can be
waived for a while; constraints are the services' own documented limits. Mocks accept any
property, so a plan can look fine and still fail at `pulumi up` (or deploy a platform whose
clusters cannot start). Each constraint here is a plain function over the planned
resources, like the guardrail rules, carrying the documentation page, its URL and the
sentence it enforces. Nobody can waive one: Azure would not honour the waiver either.

Standard library only (plus the guardrails' Resource and helpers), so the policy pack
loads it fast and `dsplatform plan` judges exactly what `pulumi preview` judges.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dsplatform.infra.guardrails import (
    AKS_CLUSTER,
    AKS_POOL,
    DATABRICKS_WORKSPACE,
    KEY_VAULT,
    ML_COMPUTE,
    ML_DATASTORE,
    ML_WORKSPACE,
    REGISTRY,
    ROLE_ASSIGNMENT,
    STORAGE_ACCOUNT,
    SUBNET,
    Resource,
    Violation,
    resource_label,
    value,
)
from dsplatform.infra.roles import ROLE_DEFINITIONS
from dsplatform.naming import COMPUTE_INSTANCE_RULE
from dsplatform.vocabulary import PAIRED_REGIONS

EXTENSION = "azure-native:kubernetesconfiguration:Extension"
NAT_GATEWAY = "azure-native:network:NatGateway"
PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"
DNS_ZONE_GROUP = "azure-native:network:PrivateDnsZoneGroup"
PRIVATE_ZONE = "azure-native:privatedns:PrivateZone"
ZONE_LINK = "azure-native:privatedns:VirtualNetworkLink"
DATABRICKS_PROVIDER = "pulumi:providers:databricks"
SECRET_SCOPE = "databricks:index/secretScope:SecretScope"
IP_ACCESS_LIST = "databricks:index/ipAccessList:IpAccessList"
AZUREML_EXTENSION_TYPE = "Microsoft.AzureML.Kubernetes"
DATABRICKS_DELEGATION = "Microsoft.Databricks/workspaces"
# The unified-auth types that authenticate with Microsoft Entra ID (a Key Vault-backed
# secret scope needs one); "pat" and "basic" are deliberately absent.
DATABRICKS_AUTH_TYPES = ("azure-cli", "azure-msi", "azure-client-secret", "github-oidc-azure", "azure-devops-oidc")
# Private DNS zone per private-link sub-resource (Azure public cloud), from "Azure Private
# Endpoint private DNS zone values".
PRIVATE_DNS_ZONE_OF = {
    "blob": "privatelink.blob.core.windows.net",
    "dfs": "privatelink.dfs.core.windows.net",
    "file": "privatelink.file.core.windows.net",
    "vault": "privatelink.vaultcore.azure.net",
    "registry": "privatelink.azurecr.io",
    "amlworkspace": "privatelink.api.azureml.ms",
    "databricks_ui_api": "privatelink.azuredatabricks.net",
    "browser_authentication": "privatelink.azuredatabricks.net",
    "account": "privatelink.cognitiveservices.azure.com",
    "dataFactory": "privatelink.datafactory.azure.net",
}

Finding = tuple[Resource | None, str]


@dataclass(frozen=True)
class ConstraintContext:
    """What a constraint needs beyond the resources: facts from the project file that no
    resource carries (the region pair's Azure ML ranges, the AzureDatabricks app's id)."""

    environment: str
    location: str = ""
    azureml_control_plane_ip_ranges: Mapping[str, Sequence[str]] = field(default_factory=dict)
    azure_databricks_object_id: str | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> ConstraintContext:
        return cls(
            environment=settings.environment,
            location=settings.location,
            azureml_control_plane_ip_ranges={
                region: tuple(ranges) for region, ranges in settings.settings.aks.azureml_control_plane_ip_ranges.items()
            },
            azure_databricks_object_id=settings.principals.azure_databricks_object_id,
        )


@dataclass(frozen=True)
class Source:
    title: str
    url: str
    quote: str  # the documented sentence the constraint enforces
    # True when the quote was read on the page itself; False marks a faithful summary of a
    # table row or section whose exact wording was not available offline (shown as such).
    verbatim: bool = True


@dataclass(frozen=True)
class Constraint:
    id: str
    service: str
    title: str
    remediation: str
    source: Source
    check: Callable[[Sequence[Resource], ConstraintContext], list[Finding]]


# ----------------------------------------------------------------------------- helpers


def _of(resources: Sequence[Resource], kind: str) -> list[Resource]:
    return [resource for resource in resources if resource.type == kind]


def _last(resource_id: Any) -> str:
    return str(resource_id or "").rstrip("/").rsplit("/", 1)[-1]


def _settings(extension: Resource) -> Mapping[str, Any]:
    return value(extension.properties, "configurationSettings") or {}


def _protected(extension: Resource) -> Mapping[str, Any]:
    return value(extension.properties, "configurationProtectedSettings") or {}


def _truthy(text: Any, default: bool) -> bool:
    if text is None:
        return default
    return str(text).strip().lower() == "true"


def _azureml_extensions(resources: Sequence[Resource]) -> list[Resource]:
    return [r for r in _of(resources, EXTENSION) if value(r.properties, "extensionType") == AZUREML_EXTENSION_TYPE]


def _clusters_with_azureml(resources: Sequence[Resource]) -> list[tuple[Resource, Resource]]:
    clusters = {cluster.name: cluster for cluster in _of(resources, AKS_CLUSTER)}
    return [
        (clusters[value(extension.properties, "clusterName")], extension)
        for extension in _azureml_extensions(resources)
        if value(extension.properties, "clusterName") in clusters
    ]


def _managed_network(workspace: Resource) -> bool:
    mode = value(workspace.properties, "managedNetwork.isolationMode")
    return mode in ("AllowInternetOutbound", "AllowOnlyApprovedOutbound")


def _endpoints_to(resources: Sequence[Resource], target_name: str) -> dict[str, Resource]:
    """Private endpoints whose target resource is called `target_name`, by group id."""
    found = {}
    for endpoint in _of(resources, PRIVATE_ENDPOINT):
        for connection in value(endpoint.properties, "privateLinkServiceConnections") or []:
            if _last(value(connection, "privateLinkServiceId")) == target_name:
                for group in value(connection, "groupIds") or []:
                    found[group] = endpoint
    return found


def _assignments(resources: Sequence[Resource], role: str, scope_name: str) -> list[Resource]:
    guid = ROLE_DEFINITIONS[role]
    return [
        assignment
        for assignment in _of(resources, ROLE_ASSIGNMENT)
        if _last(value(assignment.properties, "roleDefinitionId")) == guid and _last(value(assignment.properties, "scope")) == scope_name
    ]


def _storage(resources: Sequence[Resource], name: str) -> Resource | None:
    return next((account for account in _of(resources, STORAGE_ACCOUNT) if account.name == name), None)


def _injected(workspace: Resource) -> bool:
    return bool(value(workspace.properties, "parameters.customVirtualNetworkId.value"))


def _databricks_subnets(resources: Sequence[Resource]) -> list[Resource]:
    return [
        subnet
        for subnet in _of(resources, SUBNET)
        if any(value(d, "serviceName") == DATABRICKS_DELEGATION for d in value(subnet.properties, "delegations") or [])
    ]


def _pools(resources: Sequence[Resource], cluster: Resource) -> list[Mapping[str, Any]]:
    inline = list(value(cluster.properties, "agentPoolProfiles") or [])
    separate = [
        {**pool.properties, "name": pool.name}
        for pool in _of(resources, AKS_POOL)
        if value(pool.properties, "resourceName") == cluster.name
    ]
    return inline + separate


# ----------------------------------------------------------------------------- Azure ML extension on AKS

EXTENSION_PAGE = (
    "Deploy Azure Machine Learning extension on AKS or Arc Kubernetes cluster",
    "https://learn.microsoft.com/azure/machine-learning/how-to-deploy-kubernetes-extension",
)


def _aks_local_accounts(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    return [
        (cluster, f"disableLocalAccounts is true but the Azure ML extension {extension.name} runs on the cluster")
        for cluster, extension in _clusters_with_azureml(resources)
        if value(cluster.properties, "disableLocalAccounts") is True
    ]


def _aks_managed_identity(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    return [
        (
            cluster,
            f"identity.type is {value(cluster.properties, 'identity.type')!r}; Azure ML needs a managed identity, not a service principal",
        )
        for cluster, _ in _clusters_with_azureml(resources)
        if value(cluster.properties, "identity.type") not in ("SystemAssigned", "UserAssigned")
    ]


def _azureml_control_plane(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    problems: list[Finding] = []
    for cluster, _ in _clusters_with_azureml(resources):
        if value(cluster.properties, "apiServerAccessProfile.enablePrivateCluster") is True:
            continue
        authorized = {str(block) for block in value(cluster.properties, "apiServerAccessProfile.authorizedIPRanges") or []}
        if not authorized:
            continue
        location = value(cluster.properties, "location") or context.location
        for region in (location, PAIRED_REGIONS.get(location, "")):
            ranges = list(context.azureml_control_plane_ip_ranges.get(region, ()))
            if not ranges:
                problems.append(
                    (
                        cluster,
                        f"no Azure ML control-plane ranges are configured for {region or '(unknown paired region)'}; "
                        "the API server allowlist would shut Azure ML out",
                    )
                )
                continue
            missing = [block for block in ranges if block not in authorized]
            if missing:
                problems.append(
                    (
                        cluster,
                        f"apiServerAccessProfile.authorizedIPRanges lacks the Azure ML control-plane ranges of {region}: {', '.join(missing)}",
                    )
                )
    return problems


def _extension_https(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    problems: list[Finding] = []
    for extension in _azureml_extensions(resources):
        config = _settings(extension)
        if not _truthy(config.get("enableInference"), False) or _truthy(config.get("allowInsecureConnections"), False):
            continue
        protected = _protected(extension)
        has_certificate = bool(config.get("sslSecret")) or (bool(protected.get("sslCertPemFile")) and bool(protected.get("sslKeyPemFile")))
        if not config.get("sslCname") or not has_certificate:
            problems.append(
                (
                    extension,
                    "allowInsecureConnections is False but sslCname and a certificate (sslSecret, or sslCertPemFile and "
                    "sslKeyPemFile in protected settings) are not both given; the extension install fails",
                )
            )
    return problems


def _extension_http_stays_internal(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    problems: list[Finding] = []
    for extension in _azureml_extensions(resources):
        config = _settings(extension)
        if not _truthy(config.get("allowInsecureConnections"), False):
            continue
        router = str(config.get("inferenceRouterServiceType", "")).lower()
        internal = router == "clusterip" or (router == "loadbalancer" and config.get("internalLoadBalancerProvider") == "azure")
        if context.environment == "prod":
            problems.append((extension, "allowInsecureConnections is True in prod; plain HTTP scoring is for development or test only"))
        elif not internal:
            problems.append(
                (
                    extension,
                    f"allowInsecureConnections is True with a {router or 'default'} router reachable from outside the "
                    "cluster; use clusterIP or an internal load balancer, or HTTPS",
                )
            )
    return problems


def _extension_router_type(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    return [
        (extension, "enableInference is True but inferenceRouterServiceType is not set")
        for extension in _azureml_extensions(resources)
        if _truthy(_settings(extension).get("enableInference"), False)
        and str(_settings(extension).get("inferenceRouterServiceType", "")).lower() not in ("loadbalancer", "nodeport", "clusterip")
    ]


def _extension_router_ha(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    problems: list[Finding] = []
    for cluster, extension in _clusters_with_azureml(resources):
        config = _settings(extension)
        if not _truthy(config.get("enableInference"), False) or not _truthy(config.get("inferenceRouterHA"), True):
            continue
        selector = {key.split(".", 1)[1]: item for key, item in config.items() if key.startswith("nodeSelector.")}
        pools = [
            pool for pool in _pools(resources, cluster) if all((value(pool, "nodeLabels") or {}).get(k) == v for k, v in selector.items())
        ]
        nodes = sum(int(value(pool, "minCount", value(pool, "count", 0)) or 0) for pool in pools)
        if nodes < 3:
            problems.append(
                (extension, f"inferenceRouterHA is on (the default) but the pools it may run on keep {nodes} node(s); it needs 3")
            )
    return problems


# ----------------------------------------------------------------------------- Azure ML workspace, compute, managed network

MANAGED_NETWORK_PAGE = ("Workspace managed network isolation", "https://learn.microsoft.com/azure/machine-learning/how-to-managed-network")
SHARED_KEY_PAGE = (
    "Disable shared key access for the workspace storage account",
    "https://learn.microsoft.com/azure/machine-learning/how-to-disable-local-auth-storage",
)


def _no_kubernetes_in_managed_network(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    managed = {workspace.name for workspace in _of(resources, ML_WORKSPACE) if _managed_network(workspace)}
    return [
        (
            compute,
            f"Kubernetes compute attached to {value(compute.properties, 'workspaceName')}, whose managed virtual network does not support it",
        )
        for compute in _of(resources, ML_COMPUTE)
        if value(compute.properties, "properties.computeType") == "Kubernetes" and value(compute.properties, "workspaceName") in managed
    ]


def _managed_network_reaches_datastores(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    problems: list[Finding] = []
    workspaces = {workspace.name: workspace for workspace in _of(resources, ML_WORKSPACE) if _managed_network(workspace)}
    for datastore in _of(resources, ML_DATASTORE):
        workspace = workspaces.get(value(datastore.properties, "workspaceName"))
        account = _storage(resources, value(datastore.properties, "properties.accountName") or "")
        if workspace is None or account is None or _last(value(workspace.properties, "storageAccount")) == account.name:
            continue  # the workspace's own storage gets its endpoint automatically
        if (
            value(account.properties, "publicNetworkAccess") != "Disabled"
            and value(workspace.properties, "managedNetwork.isolationMode") != "AllowOnlyApprovedOutbound"
        ):
            continue
        rules = value(workspace.properties, "managedNetwork.outboundRules") or {}
        if not any(
            value(rule, "type") == "PrivateEndpoint" and _last(value(rule, "destination.serviceResourceId")) == account.name
            for rule in rules.values()
        ):
            problems.append(
                (
                    workspace,
                    f"the managed network has no private-endpoint outbound rule to {account.name}, which datastore "
                    f"{datastore.name} reads; jobs cannot reach it",
                )
            )
    return problems


def _workspace_storage_without_hns(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    problems: list[Finding] = []
    for workspace in _of(resources, ML_WORKSPACE):
        account = _storage(resources, _last(value(workspace.properties, "storageAccount")))
        if account is not None and value(account.properties, "isHnsEnabled") is True:
            problems.append((workspace, f"its default storage account {account.name} has a hierarchical namespace"))
    return problems


def _identity_datastores_without_keys(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    problems: list[Finding] = []
    for workspace in _of(resources, ML_WORKSPACE):
        account = _storage(resources, _last(value(workspace.properties, "storageAccount")))
        if (
            account is not None
            and value(account.properties, "allowSharedKeyAccess") is False
            and value(workspace.properties, "systemDatastoresAuthMode") != "identity"
        ):
            problems.append((workspace, f"{account.name} has shared keys off but systemDatastoresAuthMode is not identity"))
    return problems


def _data_roles_without_keys(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    problems: list[Finding] = []
    for workspace in _of(resources, ML_WORKSPACE):
        account = _storage(resources, _last(value(workspace.properties, "storageAccount")))
        if account is None or value(account.properties, "allowSharedKeyAccess") is not False:
            continue
        for role in ("Storage Blob Data Contributor", "Storage File Data Privileged Contributor"):
            if not _assignments(resources, role, account.name):
                problems.append((account, f"shared keys are off but nobody holds {role} on it; studio, CI and jobs cannot read or write"))
    return problems


def _private_workspace_endpoint(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    return [
        (workspace, "publicNetworkAccess is Disabled but no amlworkspace private endpoint reaches the workspace")
        for workspace in _of(resources, ML_WORKSPACE)
        if value(workspace.properties, "publicNetworkAccess") == "Disabled"
        and "amlworkspace" not in _endpoints_to(resources, workspace.name)
    ]


def _studio_blob_and_file(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    problems: list[Finding] = []
    for workspace in _of(resources, ML_WORKSPACE):
        account = _storage(resources, _last(value(workspace.properties, "storageAccount")))
        if account is None or value(account.properties, "publicNetworkAccess") != "Disabled":
            continue
        missing = [group for group in ("blob", "file") if group not in _endpoints_to(resources, account.name)]
        if missing:
            problems.append(
                (account, f"the private workspace storage has no {' or '.join(missing)} private endpoint; the studio needs both")
            )
    return problems


def _no_public_ip_needs_network(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    managed = {workspace.name for workspace in _of(resources, ML_WORKSPACE) if _managed_network(workspace)}
    return [
        (compute, "enableNodePublicIp is false without a managed network or a subnet; the nodes could not be reached to start jobs")
        for compute in _of(resources, ML_COMPUTE)
        if value(compute.properties, "properties.computeType") == "AmlCompute"
        and value(compute.properties, "properties.properties.enableNodePublicIp") is False
        and value(compute.properties, "workspaceName") not in managed
        and not value(compute.properties, "properties.properties.subnet.id")
    ]


def _kubernetes_namespace_exists(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    return [
        (
            compute,
            f"namespace {value(compute.properties, 'properties.properties.namespace')!r} is not created by anything in the stack; "
            "attach to 'default' or create the namespace first",
        )
        for compute in _of(resources, ML_COMPUTE)
        if value(compute.properties, "properties.computeType") == "Kubernetes"
        and value(compute.properties, "properties.properties.namespace", "default") != "default"
    ]


# ----------------------------------------------------------------------------- Databricks

VNET_INJECTION_PAGE = (
    "Deploy Azure Databricks in your Azure virtual network (VNet injection)",
    "https://learn.microsoft.com/azure/databricks/security/network/classic/vnet-inject",
)
PRIVATE_LINK_PAGE = (
    "Enable Azure Private Link back-end and front-end connections",
    "https://learn.microsoft.com/azure/databricks/security/network/classic/private-link",
)
SECRET_SCOPES_PAGE = ("Secret scopes", "https://learn.microsoft.com/azure/databricks/security/secrets/secret-scopes")


def _injected_subnets_egress(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    return [
        (
            subnet,
            "the Databricks subnet has defaultOutboundAccess false and no NAT gateway or route table; clusters cannot reach the control plane",
        )
        for subnet in _databricks_subnets(resources)
        if value(subnet.properties, "defaultOutboundAccess") is False
        and not value(subnet.properties, "natGateway.id")
        and not value(subnet.properties, "routeTable.id")
    ]


def _injection_subnets_prepared(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    problems: list[Finding] = []
    subnets = {subnet.name: subnet for subnet in _of(resources, SUBNET)}
    for workspace in _of(resources, DATABRICKS_WORKSPACE):
        if not _injected(workspace):
            continue
        for parameter in ("customPublicSubnetName", "customPrivateSubnetName"):
            name = value(workspace.properties, f"parameters.{parameter}.value")
            subnet = subnets.get(name)
            if subnet is None:
                problems.append((workspace, f"parameters.{parameter} names {name!r}, which the stack does not create"))
                continue
            delegated = any(value(d, "serviceName") == DATABRICKS_DELEGATION for d in value(subnet.properties, "delegations") or [])
            if not delegated or not value(subnet.properties, "networkSecurityGroup.id"):
                problems.append((subnet, f"needs a delegation to {DATABRICKS_DELEGATION} and a network security group"))
    return problems


def _injection_subnet_size(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    problems: list[Finding] = []
    for subnet in _databricks_subnets(resources):
        prefix = value(subnet.properties, "addressPrefix")
        try:
            network = ipaddress.ip_network(str(prefix), strict=False)
        except ValueError:
            problems.append((subnet, f"addressPrefix {prefix!r} is not a CIDR block"))
            continue
        if network.prefixlen > 26:
            problems.append((subnet, f"addressPrefix {prefix} is smaller than /26"))
    return problems


def _private_link_requirements(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    problems: list[Finding] = []
    for workspace in _of(resources, DATABRICKS_WORKSPACE):
        if value(workspace.properties, "publicNetworkAccess") != "Disabled":
            continue
        if value(workspace.properties, "sku.name") != "premium":
            problems.append((workspace, "private link needs the premium tier"))
        if not _injected(workspace) or value(workspace.properties, "parameters.enableNoPublicIp.value") is not True:
            problems.append((workspace, "private link needs VNet injection and secure cluster connectivity (enableNoPublicIp)"))
        if value(workspace.properties, "requiredNsgRules") != "NoAzureDatabricksRules":
            problems.append((workspace, "publicNetworkAccess is Disabled, so requiredNsgRules must be NoAzureDatabricksRules"))
        if "databricks_ui_api" not in _endpoints_to(resources, workspace.name):
            problems.append((workspace, "no databricks_ui_api private endpoint: nobody could reach the private workspace"))
    return problems


def _browser_authentication(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    private = [w for w in _of(resources, DATABRICKS_WORKSPACE) if value(w.properties, "publicNetworkAccess") == "Disabled"]
    if not private:
        return []
    has_endpoint = any(
        "browser_authentication" in _endpoints_to(resources, workspace.name) for workspace in _of(resources, DATABRICKS_WORKSPACE)
    )
    return (
        []
        if has_endpoint
        else [(private[0], "front-end private link without a browser_authentication private endpoint: SSO to the web UI fails")]
    )


def _storage_firewall_needs_injection(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    standard = [workspace for workspace in _of(resources, DATABRICKS_WORKSPACE) if not _injected(workspace)]
    if not standard:
        return []
    return [
        (account, f"the lake's firewall denies by default while Databricks workspace {standard[0].name} is not VNet-injected")
        for account in _of(resources, STORAGE_ACCOUNT)
        if value(account.properties, "isHnsEnabled") is True and value(account.properties, "networkRuleSet.defaultAction") == "Deny"
    ]


def _provider_auth_pinned(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    return [
        (
            provider,
            f"authType is {value(provider.properties, 'authType')!r}; pin one of {', '.join(DATABRICKS_AUTH_TYPES)} so the run cannot "
            "silently pick up another credential",
        )
        for provider in _of(resources, DATABRICKS_PROVIDER)
        if value(provider.properties, "authType") not in DATABRICKS_AUTH_TYPES
    ]


def _keyvault_scope_trusted_services(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    vaults = {vault.name: vault for vault in _of(resources, KEY_VAULT)}
    problems: list[Finding] = []
    for scope in _of(resources, SECRET_SCOPE):
        vault = vaults.get(_last(value(scope.properties, "keyvaultMetadata.resourceId")))
        if vault is None:
            continue
        acls = value(vault.properties, "properties.networkAcls") or {}
        if value(acls, "defaultAction") == "Deny" and value(acls, "bypass") != "AzureServices":
            problems.append(
                (vault, f"its firewall does not let trusted Microsoft services through, so secret scope {scope.name} cannot read it")
            )
    return problems


def _keyvault_scope_role(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    vaults = {vault.name: vault for vault in _of(resources, KEY_VAULT)}
    problems: list[Finding] = []
    for scope in _of(resources, SECRET_SCOPE):
        vault = vaults.get(_last(value(scope.properties, "keyvaultMetadata.resourceId")))
        if vault is None or value(vault.properties, "properties.enableRbacAuthorization") is not True:
            continue
        holders = {value(a.properties, "principalId") for a in _assignments(resources, "Key Vault Secrets User", vault.name)}
        if not context.azure_databricks_object_id or context.azure_databricks_object_id not in holders:
            problems.append(
                (
                    vault,
                    "the AzureDatabricks application holds no Key Vault Secrets User role on this RBAC vault; "
                    f"secret scope {scope.name} would read nothing",
                )
            )
    return problems


def _ip_access_list_admits_someone(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    return [
        (access_list, "an ALLOW list with no addresses would block every caller, the deployment included")
        for access_list in _of(resources, IP_ACCESS_LIST)
        if value(access_list.properties, "listType") == "ALLOW" and not value(access_list.properties, "ipAddresses")
    ]


def _hybrid_needs_managed_group(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    return [
        (workspace, "computeMode is Hybrid but managedResourceGroupId is not set")
        for workspace in _of(resources, DATABRICKS_WORKSPACE)
        if value(workspace.properties, "computeMode", "Hybrid") == "Hybrid" and not value(workspace.properties, "managedResourceGroupId")
    ]


# ----------------------------------------------------------------------------- AKS, Key Vault, ACR, Storage, private DNS


def _authorized_ranges_not_private(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    return [
        (cluster, "a private cluster cannot also use authorized IP ranges")
        for cluster in _of(resources, AKS_CLUSTER)
        if value(cluster.properties, "apiServerAccessProfile.enablePrivateCluster") is True
        and value(cluster.properties, "apiServerAccessProfile.authorizedIPRanges")
    ]


def _pool_names(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    problems: list[Finding] = []
    for cluster in _of(resources, AKS_CLUSTER):
        for pool in _pools(resources, cluster):
            name = str(value(pool, "name", ""))
            if not (1 <= len(name) <= 12 and name[:1].islower() and name.isalnum() and name == name.lower()):
                problems.append((cluster, f"node pool name {name!r} is not 1-12 lowercase letters and digits starting with a letter"))
    return problems


def _system_pool(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    return [
        (cluster, "no node pool has mode System")
        for cluster in _of(resources, AKS_CLUSTER)
        if not any(value(pool, "mode") == "System" for pool in _pools(resources, cluster))
    ]


def _keyvault_retention_range(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    return [
        (vault, f"softDeleteRetentionInDays is {days}; Azure accepts 7 to 90")
        for vault in _of(resources, KEY_VAULT)
        if not 7 <= (days := value(vault.properties, "properties.softDeleteRetentionInDays", 90)) <= 90
    ]


def _acr_premium_features(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    problems: list[Finding] = []
    for registry in _of(resources, REGISTRY):
        if value(registry.properties, "sku.name") == "Premium":
            continue
        used = []
        if _endpoints_to(resources, registry.name):
            used.append("a private endpoint")
        if value(registry.properties, "networkRuleSet"):
            used.append("network rules")
        if value(registry.properties, "zoneRedundancy") == "Enabled":
            used.append("zone redundancy")
        if used:
            problems.append((registry, f"{' and '.join(used)} on a {value(registry.properties, 'sku.name')} registry; these need Premium"))
    return problems


def _private_storage_reachable(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    return [
        (account, "publicNetworkAccess is Disabled and no private endpoint reaches the account")
        for account in _of(resources, STORAGE_ACCOUNT)
        if value(account.properties, "publicNetworkAccess") == "Disabled" and not _endpoints_to(resources, account.name)
    ]


def _dns_zone_matches_endpoint(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    endpoints = {endpoint.name: endpoint for endpoint in _of(resources, PRIVATE_ENDPOINT)}
    problems: list[Finding] = []
    for group in _of(resources, DNS_ZONE_GROUP):
        endpoint = endpoints.get(value(group.properties, "privateEndpointName"))
        if endpoint is None:
            continue
        zones = {_last(value(config, "privateDnsZoneId")) for config in value(group.properties, "privateDnsZoneConfigs") or []}
        for connection in value(endpoint.properties, "privateLinkServiceConnections") or []:
            for group_id in value(connection, "groupIds") or []:
                expected = PRIVATE_DNS_ZONE_OF.get(group_id)
                if expected and expected not in zones:
                    problems.append((endpoint, f"its {group_id} records go to {', '.join(sorted(zones)) or 'no zone'}, not {expected}"))
    return problems


def _dns_zone_linked(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    linked = {value(link.properties, "privateZoneName") for link in _of(resources, ZONE_LINK)}
    return [
        (zone, "the private DNS zone is linked to no virtual network; nothing resolves through it")
        for zone in _of(resources, PRIVATE_ZONE)
        if zone.name not in linked
    ]


# ----------------------------------------------------------------------------- Data Factory and Azure AI services

DATA_FACTORY = "azure-native:datafactory:Factory"
INTEGRATION_RUNTIME = "azure-native:datafactory:IntegrationRuntime"
GENERIC_RESOURCE = "azure-native:resources:Resource"
AI_ACCOUNT = "azure-native:cognitiveservices:Account"
ADF_NAMING_PAGE = ("Naming rules for Azure Data Factory", "https://learn.microsoft.com/azure/data-factory/naming-rules")
ADF_MANAGED_VNET_PAGE = (
    "Managed virtual network and managed private endpoints",
    "https://learn.microsoft.com/azure/data-factory/managed-virtual-network-private-endpoint",
)
ADF_PRIVATE_LINK_PAGE = (
    "Azure Private Link for Azure Data Factory",
    "https://learn.microsoft.com/azure/data-factory/data-factory-private-link",
)
ADF_EVENT_TRIGGER_PAGE = (
    "Create a trigger that runs a pipeline in response to a storage event",
    "https://learn.microsoft.com/azure/data-factory/how-to-create-event-trigger",
)
AI_SUBDOMAIN_PAGE = (
    "Custom subdomain names for Azure AI services",
    "https://learn.microsoft.com/azure/ai-services/cognitive-services-custom-subdomains",
)
AI_NETWORK_PAGE = (
    "Configure Azure AI services virtual networks",
    "https://learn.microsoft.com/azure/ai-services/cognitive-services-virtual-networks",
)


def _factory_names(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    from dsplatform.naming import NAME_RULES  # standard library only, like this module

    rule = NAME_RULES["data_factory"]
    problems: list[Finding] = []
    for factory in _of(resources, DATA_FACTORY):
        name = str(value(factory.properties, "factoryName") or factory.name)
        if rule.problems(name):
            problems.append((factory, "; ".join(rule.problems(name))))
    return problems


def _managed_vnets(resources: Sequence[Resource]) -> set[tuple[str, str]]:
    """(factory, managed VNet name) for every declared factory managed virtual network."""
    return {
        (str(value(resource.properties, "parentResourcePath", "")).rsplit("/", 1)[-1], resource.name)
        for resource in _of(resources, GENERIC_RESOURCE)
        if value(resource.properties, "resourceProviderNamespace") == "Microsoft.DataFactory"
        and value(resource.properties, "resourceType") == "managedVirtualNetworks"
    }


def _managed_runtime_has_vnet(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    declared = _managed_vnets(resources)
    problems: list[Finding] = []
    for runtime in _of(resources, INTEGRATION_RUNTIME):
        reference = value(runtime.properties, "properties.managedVirtualNetwork.referenceName")
        factory = value(runtime.properties, "factoryName")
        if reference and (factory, reference) not in declared:
            problems.append((runtime, f"runs in managed virtual network '{reference}' but factory {factory} declares none of that name"))
    return problems


def _managed_runtimes(resources: Sequence[Resource]) -> set[str]:
    return {
        str(value(runtime.properties, "factoryName"))
        for runtime in _of(resources, INTEGRATION_RUNTIME)
        if value(runtime.properties, "properties.type") == "Managed"
        and value(runtime.properties, "properties.managedVirtualNetwork.referenceName")
    }


def _private_factory_runtime(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    in_vnet = _managed_runtimes(resources)
    return [
        (
            factory,
            "publicNetworkAccess is Disabled but no integration runtime runs in its managed virtual network; "
            "the default Azure integration runtime cannot reach private data stores",
        )
        for factory in _of(resources, DATA_FACTORY)
        if value(factory.properties, "publicNetworkAccess") == "Disabled" and factory.name not in in_vnet
    ]


def _private_factory_endpoint(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    return [
        (factory, "publicNetworkAccess is Disabled and no private endpoint (dataFactory) reaches the factory; nobody could publish to it")
        for factory in _of(resources, DATA_FACTORY)
        if value(factory.properties, "publicNetworkAccess") == "Disabled" and "dataFactory" not in _endpoints_to(resources, factory.name)
    ]


def _storage_event_subscription_role(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    """A storage-event trigger subscribes to the lake's events when it is started: whoever
    publishes it needs Microsoft.EventGrid/EventSubscriptions/Write on the account."""
    if not _of(resources, DATA_FACTORY):
        return []
    lakes = [account for account in _of(resources, STORAGE_ACCOUNT) if value(account.properties, "isHnsEnabled") is True]
    return [
        (lake, "a Data Factory uses this lake's storage events but nobody holds EventGrid EventSubscription Contributor on it")
        for lake in lakes
        if not _assignments(resources, "EventGrid EventSubscription Contributor", lake.name)
    ]


def _ai_custom_subdomain(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    problems: list[Finding] = []
    for account in _of(resources, AI_ACCOUNT):
        if value(account.properties, "properties.customSubDomainName"):
            continue
        needs = []
        if value(account.properties, "properties.disableLocalAuth") is True:
            needs.append("Microsoft Entra ID authentication (local auth is off)")
        if _endpoints_to(resources, account.name):
            needs.append("a private endpoint")
        if needs:
            problems.append((account, f"no customSubDomainName, but it uses {' and '.join(needs)}"))
    return problems


def _ai_private_reachable(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    return [
        (account, "publicNetworkAccess is Disabled and no private endpoint (account) reaches it")
        for account in _of(resources, AI_ACCOUNT)
        if value(account.properties, "properties.publicNetworkAccess") == "Disabled"
        and "account" not in _endpoints_to(resources, account.name)
    ]


SERVICE_CONSTRAINTS: tuple[Constraint, ...] = (
    Constraint(
        "adf-name-rules",
        "Data Factory",
        "The factory name is 3-63 letters, digits and single hyphens, starting and ending alphanumeric",
        "take the name from dsplatform.naming (resource_names(...).data_factory)",
        Source(
            *ADF_NAMING_PAGE,
            "Data factory names: unique across Microsoft Azure, 3 to 63 characters, letters, numbers and the dash (-) "
            "character; every dash must be immediately preceded and followed by a letter or a number.",
            verbatim=False,
        ),
        _factory_names,
    ),
    Constraint(
        "adf-managed-runtime-needs-vnet",
        "Data Factory",
        "A managed-VNet integration runtime refers to a managed virtual network the factory has",
        "declare the factory's managedVirtualNetworks/default before the integration runtime",
        Source(
            *ADF_MANAGED_VNET_PAGE,
            "An Azure integration runtime created within the managed virtual network runs there; the factory's managed "
            "virtual network has to exist first.",
            verbatim=False,
        ),
        _managed_runtime_has_vnet,
    ),
    Constraint(
        "adf-private-factory-runtime",
        "Data Factory",
        "A factory without public access runs its activities in a managed virtual network",
        "add a Managed integration runtime in the factory's managed virtual network (and managed private endpoints to its stores)",
        Source(
            *ADF_MANAGED_VNET_PAGE,
            "Managed private endpoints, created in the managed virtual network, are the way the integration runtime reaches "
            "data stores that allow private access only.",
            verbatim=False,
        ),
        _private_factory_runtime,
    ),
    Constraint(
        "adf-private-factory-endpoint",
        "Data Factory",
        "A factory without public access has a private endpoint (dataFactory)",
        "add a private endpoint with group id dataFactory in privatelink.datafactory.azure.net",
        Source(
            *ADF_PRIVATE_LINK_PAGE,
            "With public network access disabled, the factory's authoring and command endpoints are reached through a "
            "private endpoint of the dataFactory sub-resource.",
            verbatim=False,
        ),
        _private_factory_endpoint,
    ),
    Constraint(
        "adf-storage-event-subscription-role",
        "Data Factory",
        "Someone may subscribe the storage-event trigger to the lake's events",
        "grant the CI service principal EventGrid EventSubscription Contributor on the lake (Microsoft.EventGrid/EventSubscriptions/Write), "
        "and register the Microsoft.EventGrid resource provider in the subscription",
        Source(
            *ADF_EVENT_TRIGGER_PAGE,
            "Storage event triggers depend on Azure Event Grid: the subscription must be registered with the Event Grid resource "
            "provider, and creating the trigger needs Microsoft.EventGrid/EventSubscriptions/Write on the storage account.",
            verbatim=False,
        ),
        _storage_event_subscription_role,
    ),
    Constraint(
        "ai-custom-subdomain",
        "Azure AI services",
        "An account used with Entra ID or a private endpoint has a custom subdomain",
        "set properties.custom_sub_domain_name (resource_names(...).ai_services_subdomain); it cannot be changed later",
        Source(
            *AI_SUBDOMAIN_PAGE,
            "Custom subdomain names are required to enable features like Microsoft Entra ID authentication and private "
            "endpoints (virtual networks).",
            verbatim=False,
        ),
        _ai_custom_subdomain,
    ),
    Constraint(
        "ai-private-needs-endpoint",
        "Azure AI services",
        "An account with public access off has a private endpoint",
        "add a private endpoint with group id account in privatelink.cognitiveservices.azure.com",
        Source(
            *AI_NETWORK_PAGE,
            "With public network access disabled, clients reach the account only through private endpoints.",
            verbatim=False,
        ),
        _ai_private_reachable,
    ),
)


# ----------------------------------------------------------------------------- the catalogue


def _src(page: tuple[str, str], quote: str, verbatim: bool = True) -> Source:
    return Source(page[0], page[1], quote, verbatim)


CONSTRAINTS: tuple[Constraint, ...] = (
    # Azure ML extension on AKS and Kubernetes compute
    Constraint(
        "aml-aks-local-accounts-enabled",
        "Azure ML on AKS",
        "AKS keeps local accounts when the Azure ML extension runs on it",
        "set disable_local_accounts=False on a cluster that hosts the Azure ML extension (or do not install the extension)",
        _src(EXTENSION_PAGE, "Disabling local accounts for AKS is not supported by Azure Machine Learning."),
        _aks_local_accounts,
    ),
    Constraint(
        "aml-aks-managed-identity",
        "Azure ML on AKS",
        "The AKS cluster uses a managed identity",
        "give the cluster identity={'type': 'SystemAssigned'} or a user-assigned identity",
        _src(EXTENSION_PAGE, "Using a service principal with AKS is not supported by Azure Machine Learning."),
        _aks_managed_identity,
    ),
    Constraint(
        "aml-aks-control-plane-ranges",
        "Azure ML on AKS",
        "A public AKS allowlist admits the Azure ML control plane of the region and its pair",
        "list the AzureMachineLearning service tag ranges of both regions under aks.azureml_control_plane_ip_ranges",
        _src(
            EXTENSION_PAGE,
            "If your AKS cluster has an Authorized IP range enabled to access the API server, enable the AzureML control plane "
            "IP ranges for the AKS cluster. The AzureML control plane is deployed across paired regions.",
        ),
        _azureml_control_plane,
    ),
    Constraint(
        "aml-extension-https-certificate",
        "Azure ML on AKS",
        "HTTPS scoring has a CNAME and a certificate",
        "give sslCname plus sslSecret (or sslCertPemFile/sslKeyPemFile protected settings), or keep scoring internal over HTTP in dev",
        _src(EXTENSION_PAGE, "sslCname: An TLS/SSL CNAME is used by inference HTTPS endpoint. Required if allowInsecureConnections=False"),
        _extension_https,
    ),
    Constraint(
        "aml-extension-http-internal-only",
        "Azure ML on AKS",
        "Plain HTTP scoring stays inside the cluster or VNet, and out of prod",
        "with allowInsecureConnections=True use inferenceRouterServiceType=ClusterIP or an internal load balancer; never in prod",
        _src(
            EXTENSION_PAGE,
            "allowInsecureConnections: True or False, default False. Can be set to True to use inference HTTP endpoints for "
            "development or test purposes.",
        ),
        _extension_http_stays_internal,
    ),
    Constraint(
        "aml-extension-router-type",
        "Azure ML on AKS",
        "Inference needs a router service type",
        "set inferenceRouterServiceType to LoadBalancer, NodePort or ClusterIP",
        _src(EXTENSION_PAGE, "inferenceRouterServiceType: loadBalancer, nodePort or clusterIP. Required if enableInference=True."),
        _extension_router_type,
    ),
    Constraint(
        "aml-extension-router-ha-nodes",
        "Azure ML on AKS",
        "A highly available inference router has three nodes to run on",
        "set inferenceRouterHA=False, or keep at least 3 nodes in the pools the extension's nodeSelector picks",
        _src(
            EXTENSION_PAGE,
            "By default, AzureML extension will deploy three inference router replicas for high availability, which requires at "
            "least three worker nodes in a cluster.",
        ),
        _extension_router_ha,
    ),
    Constraint(
        "aml-kubernetes-namespace-exists",
        "Azure ML compute",
        "Kubernetes compute attaches to a namespace that exists",
        "attach to the 'default' namespace, or create the namespace before the attach",
        _src(
            (
                "CLI (v2) Kubernetes compute YAML schema",
                "https://learn.microsoft.com/azure/machine-learning/reference-yaml-compute-kubernetes",
            ),
            "The namespace must be created in the Kubernetes cluster before the cluster can be attached to the workspace as a compute target.",
        ),
        _kubernetes_namespace_exists,
    ),
    # Azure ML workspace and managed network
    Constraint(
        "aml-managed-network-no-kubernetes",
        "Azure ML managed network",
        "No Kubernetes compute in a managed virtual network",
        "serve from managed online endpoints in managed-network workspaces, or drop the managed network and use your own VNet",
        _src(
            MANAGED_NETWORK_PAGE,
            "Supported compute: Compute Instance, Compute Cluster, Serverless, Serverless spark, New managed online endpoint "
            "creation (Kubernetes compute is not among them).",
            verbatim=False,
        ),
        _no_kubernetes_in_managed_network,
    ),
    Constraint(
        "aml-managed-network-outbound-to-data",
        "Azure ML managed network",
        "The managed network reaches every private datastore account",
        "add a PrivateEndpoint outbound rule (dfs and blob) to the lake in managed_network.outbound_rules",
        _src(
            MANAGED_NETWORK_PAGE,
            "You can also define outbound rules to other Azure services that the workspace relies on. These rules define "
            "private endpoints that allow an Azure resource to securely communicate with the managed VNet.",
        ),
        _managed_network_reaches_datastores,
    ),
    Constraint(
        "aml-no-public-ip-needs-network",
        "Azure ML compute",
        "Compute without public IPs sits in a managed network or a subnet",
        "give the workspace a managed network (or the cluster a subnet) before setting enable_node_public_ip=False",
        _src(
            MANAGED_NETWORK_PAGE,
            "Supported scenarios: No Public IP option of Compute Instance, Compute Cluster and Serverless.",
            verbatim=False,
        ),
        _no_public_ip_needs_network,
    ),
    Constraint(
        "aml-workspace-storage-no-hns",
        "Azure ML workspace",
        "The workspace's default storage has no hierarchical namespace",
        "give the workspace its own non-HNS account; register the lake as a datastore instead",
        _src(
            (
                "Create and manage Azure Machine Learning workspaces",
                "https://learn.microsoft.com/azure/machine-learning/how-to-manage-workspace",
            ),
            "Azure Machine Learning does not support hierarchical namespace (Azure Data Lake Storage Gen2 feature) for the workspace's default storage account.",
            verbatim=False,
        ),
        _workspace_storage_without_hns,
    ),
    Constraint(
        "aml-shared-key-off-identity-datastores",
        "Azure ML workspace",
        "Storage without shared keys means identity-based system datastores",
        "set system_datastores_auth_mode='identity'",
        _src(
            SHARED_KEY_PAGE,
            "To use identity-based access for the workspace's default storage account, set systemDatastoresAuthMode to identity.",
            verbatim=False,
        ),
        _identity_datastores_without_keys,
    ),
    Constraint(
        "aml-shared-key-off-data-roles",
        "Azure ML workspace",
        "Storage without shared keys grants the data roles",
        "assign Storage Blob Data Contributor and Storage File Data Privileged Contributor on the workspace storage",
        _src(
            SHARED_KEY_PAGE,
            "Users need the Storage Blob Data Contributor and Storage File Data Privileged Contributor roles on the storage account.",
            verbatim=False,
        ),
        _data_roles_without_keys,
    ),
    Constraint(
        "aml-private-workspace-endpoint",
        "Azure ML workspace",
        "A private workspace has an amlworkspace private endpoint",
        "add a private endpoint with group id amlworkspace (zones privatelink.api.azureml.ms and privatelink.notebooks.azure.net)",
        _src(
            (
                "Configure a private endpoint for an Azure Machine Learning workspace",
                "https://learn.microsoft.com/azure/machine-learning/how-to-configure-private-link",
            ),
            "When you disable public network access, clients can reach the workspace only through its private endpoint.",
            verbatim=False,
        ),
        _private_workspace_endpoint,
    ),
    Constraint(
        "aml-studio-blob-and-file-endpoints",
        "Azure ML workspace",
        "Private workspace storage has blob and file private endpoints",
        "add blob and file private endpoints to the workspace storage account",
        _src(
            (
                "Use Azure Machine Learning studio in an Azure virtual network",
                "https://learn.microsoft.com/azure/machine-learning/how-to-enable-studio-virtual-network",
            ),
            "If your storage account is behind a virtual network, the studio needs private endpoints for both the blob and file sub-resources.",
            verbatim=False,
        ),
        _studio_blob_and_file,
    ),
    # Databricks
    Constraint(
        "databricks-injected-subnets-egress",
        "Databricks networking",
        "VNet-injected subnets have an egress path",
        "attach a NAT gateway (or a route table to a firewall) to both Databricks subnets",
        _src(
            (
                "User-defined route settings for Azure Databricks",
                "https://learn.microsoft.com/azure/databricks/security/network/classic/udr",
            ),
            "You need a UDR for every type of outbound connection from the VNet.",
        ),
        _injected_subnets_egress,
    ),
    Constraint(
        "databricks-injection-subnets-delegated",
        "Databricks networking",
        "Injection subnets exist, are delegated and carry an NSG",
        "create both subnets delegated to Microsoft.Databricks/workspaces with a network security group",
        _src(
            VNET_INJECTION_PAGE,
            "Subnets: The VNet must include two subnets dedicated to your Azure Databricks workspace: a container subnet "
            "(sometimes called the private subnet) and a host subnet (sometimes called the public subnet).",
        ),
        _injection_subnets_prepared,
    ),
    Constraint(
        "databricks-injection-subnet-size",
        "Databricks networking",
        "Injection subnets are /26 or larger",
        "use a /26 or larger block for each Databricks subnet",
        _src(VNET_INJECTION_PAGE, "Each subnet should use a CIDR block that is at least /26."),
        _injection_subnet_size,
    ),
    Constraint(
        "databricks-private-link-requirements",
        "Databricks Private Link",
        "A private workspace meets Private Link's requirements",
        "premium tier, VNet injection, enable_no_public_ip, required_nsg_rules='NoAzureDatabricksRules' and a databricks_ui_api endpoint",
        _src(
            PRIVATE_LINK_PAGE,
            "Front-end Private Link, also known as user to workspace: A front-end Private Link connection allows users to connect "
            "to the Azure Databricks web application, REST API, and Databricks Connect API over a VNet interface endpoint.",
        ),
        _private_link_requirements,
    ),
    Constraint(
        "databricks-browser-authentication",
        "Databricks Private Link",
        "Front-end Private Link has a browser-authentication endpoint",
        "add a browser_authentication private endpoint (one per region and DNS zone) to the workspace",
        _src(
            PRIVATE_LINK_PAGE,
            "To support private front-end connections to the Azure Databricks web application for clients that have no public "
            "internet connectivity, you must add a browser authentication private endpoint to support single sign-on (SSO) login callbacks.",
        ),
        _browser_authentication,
    ),
    Constraint(
        "databricks-storage-firewall-needs-injection",
        "Unity Catalog",
        "A lake behind a firewall needs a VNet-injected workspace",
        "VNet-inject the workspace (and allow its subnets and access connector on the lake), or leave the lake firewall open",
        _src(
            (
                "Use Azure managed identities in Unity Catalog to access storage",
                "https://learn.microsoft.com/azure/databricks/data-governance/unity-catalog/azure-managed-identities",
            ),
            "You cannot use a storage firewall in a standard Azure Databricks deployment.",
        ),
        _storage_firewall_needs_injection,
    ),
    Constraint(
        "databricks-provider-auth-pinned",
        "Databricks provider",
        "The Databricks provider's auth type is pinned",
        "set auth_type on the pulumi-databricks provider (databricks.provider_auth_type in the project file)",
        _src(
            ("Databricks unified authentication", "https://learn.microsoft.com/azure/databricks/dev-tools/auth/unified-auth"),
            "If you set the auth_type field, the Databricks tools use only that authentication type.",
            verbatim=False,
        ),
        _provider_auth_pinned,
    ),
    Constraint(
        "databricks-keyvault-scope-trusted-services",
        "Databricks secret scopes",
        "A vault behind a firewall lets Databricks through",
        "set the vault's network_acls.bypass='AzureServices'",
        _src(
            SECRET_SCOPES_PAGE,
            "If the key vault has a firewall enabled, select Allow trusted Microsoft services to bypass this firewall.",
            verbatim=False,
        ),
        _keyvault_scope_trusted_services,
    ),
    Constraint(
        "databricks-keyvault-scope-rbac-role",
        "Databricks secret scopes",
        "An RBAC vault grants AzureDatabricks Key Vault Secrets User",
        "assign Key Vault Secrets User on the vault to the AzureDatabricks application (principals.azure_databricks_object_id)",
        _src(
            SECRET_SCOPES_PAGE,
            "If the key vault uses the Azure RBAC permission model, grant the AzureDatabricks application the Key Vault Secrets User role.",
            verbatim=False,
        ),
        _keyvault_scope_role,
    ),
    Constraint(
        "databricks-ip-access-list-not-empty",
        "Databricks IP access lists",
        "An allow list admits at least the deployment's own addresses",
        "list the runner's egress addresses in allowed_ip_ranges",
        _src(
            (
                "ip-access-lists command group",
                "https://learn.microsoft.com/azure/databricks/dev-tools/cli/reference/ip-access-lists-commands",
            ),
            "If the new list would block the calling user's current IP, error 400 is returned with error_code value INVALID_STATE.",
            verbatim=False,
        ),
        _ip_access_list_admits_someone,
    ),
    Constraint(
        "databricks-hybrid-managed-resource-group",
        "Databricks workspace",
        "A Hybrid workspace names its managed resource group",
        "set managed_resource_group_id",
        _src(
            (
                "Microsoft.Databricks workspaces (ARM template reference)",
                "https://learn.microsoft.com/azure/templates/microsoft.databricks/workspaces",
            ),
            "managedResourceGroupId: The managed resource group Id (required for the Hybrid compute mode).",
            verbatim=False,
        ),
        _hybrid_needs_managed_group,
    ),
    # AKS
    Constraint(
        "aks-authorized-ranges-not-private",
        "AKS",
        "Authorized IP ranges are not combined with a private cluster",
        "drop authorized_ip_ranges on a private cluster",
        _src(
            (
                "Secure access to the API server using authorized IP address ranges in AKS",
                "https://learn.microsoft.com/azure/aks/api-server-authorized-ip-ranges",
            ),
            "You can't use this feature with private clusters.",
        ),
        _authorized_ranges_not_private,
    ),
    Constraint(
        "aks-pool-names",
        "AKS",
        "Node pool names are 1-12 lowercase letters and digits",
        "rename the pool (naming.py aks_system_pool / aks_user_pool)",
        _src(
            ("Create node pools for a cluster in AKS", "https://learn.microsoft.com/azure/aks/create-node-pools"),
            "The name of a node pool may only contain lowercase alphanumeric characters and must begin with a lowercase letter. For Linux node pools, "
            "the length must be between 1 and 12 characters.",
            verbatim=False,
        ),
        _pool_names,
    ),
    Constraint(
        "aks-system-pool",
        "AKS",
        "Every cluster has a system node pool",
        "keep one pool with mode System",
        _src(
            ("Manage system node pools in AKS", "https://learn.microsoft.com/azure/aks/use-system-pools"),
            "Every AKS cluster must contain at least one system node pool with at least one node.",
            verbatim=False,
        ),
        _system_pool,
    ),
    # Key Vault, ACR, Storage, private DNS
    Constraint(
        "keyvault-soft-delete-range",
        "Key Vault",
        "Soft-delete retention is 7 to 90 days",
        "set soft_delete_retention_in_days between 7 and 90",
        _src(
            ("Azure Key Vault soft-delete overview", "https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview"),
            "Once a secret, key, certificate, or key vault is deleted, it remains recoverable for a configurable period of 7 to 90 calendar days.",
        ),
        _keyvault_retention_range,
    ),
    Constraint(
        "acr-premium-for-network-features",
        "Container Registry",
        "Private endpoints, network rules and zone redundancy need Premium",
        "use sku Premium, or drop the Premium-only feature",
        _src(
            (
                "Connect privately to an Azure container registry using Azure Private Link",
                "https://learn.microsoft.com/azure/container-registry/container-registry-private-link",
            ),
            "This feature is available in the Premium container registry service tier.",
            verbatim=False,
        ),
        _acr_premium_features,
    ),
    Constraint(
        "storage-private-needs-endpoint",
        "Storage",
        "Storage with public access off has a private endpoint",
        "add private endpoints (blob, dfs or file) for the account",
        _src(
            ("Use private endpoints for Azure Storage", "https://learn.microsoft.com/azure/storage/common/storage-private-endpoints"),
            "You can use private endpoints for your Azure Storage accounts to allow clients on a virtual network (VNet) to securely access data over a Private Link.",
            verbatim=False,
        ),
        _private_storage_reachable,
    ),
    Constraint(
        "dns-zone-matches-endpoint",
        "Private DNS",
        "Each private endpoint registers in its service's privatelink zone",
        "point the endpoint's DNS zone group at the zone for its group id",
        _src(
            ("Azure Private Endpoint private DNS zone values", "https://learn.microsoft.com/azure/private-link/private-endpoint-dns"),
            "It's important to correctly configure your DNS settings to resolve the private endpoint IP address to the fully qualified domain name (FQDN) of the connection string.",
            verbatim=False,
        ),
        _dns_zone_matches_endpoint,
    ),
    Constraint(
        "dns-zone-linked",
        "Private DNS",
        "Every private DNS zone is linked to the VNet",
        "add a virtual network link for the zone",
        _src(
            (
                "What is an Azure Private DNS zone virtual network link?",
                "https://learn.microsoft.com/azure/dns/private-dns-virtual-network-links",
            ),
            "To resolve DNS records in a private DNS zone, the virtual network must be linked with the zone.",
            verbatim=False,
        ),
        _dns_zone_linked,
    ),
    # Data Factory and Azure AI services (issue 14)
    *SERVICE_CONSTRAINTS,
)


# ----------------------------------------------------------------------------- budgets and compute instances

BUDGET = "azure-native:consumption:Budget"
BUDGET_TIME_PERIOD_PAGE = (
    "ConsumptionBudgetData.TimePeriod Property",
    "https://learn.microsoft.com/dotnet/api/azure.resourcemanager.consumption.consumptionbudgetdata.timeperiod",
)
BUDGET_TEMPLATE_PAGE = ("Microsoft.Consumption budgets", "https://learn.microsoft.com/azure/templates/microsoft.consumption/budgets")
COMPUTE_INSTANCE_PAGE = (
    "Create an Azure Machine Learning compute instance",
    "https://learn.microsoft.com/azure/machine-learning/how-to-create-compute-instance",
)
IDLE_SHUTDOWN_PAGE = (
    "MachineLearningComputeInstanceProperties.IdleTimeBeforeShutdown Property",
    "https://learn.microsoft.com/dotnet/api/azure.resourcemanager.machinelearning.models.machinelearningcomputeinstanceproperties.idletimebeforeshutdown",
)
BUDGET_MAX_NOTIFICATIONS = 5
BUDGET_MAX_THRESHOLD = 1000
BUDGET_MAX_CONTACT_EMAILS = 50
COMPUTE_INSTANCE_IDLE_MINUTES = (15, 3 * 24 * 60)


def _budget_start(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    problems: list[Finding] = []
    for budget in _of(resources, BUDGET):
        start = str(value(budget.properties, "timePeriod.startDate") or "")
        if not start:
            problems.append((budget, "timePeriod.startDate is not set"))
        elif start[8:10] != "01" or start[:10] < "2017-06-01":
            problems.append((budget, f"timePeriod.startDate is {start}; it must be the first of a month, on or after 2017-06-01"))
    return problems


def _budget_amount(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    return [
        (budget, f"amount is {amount}; a budget needs an amount greater than 0")
        for budget in _of(resources, BUDGET)
        if not isinstance(amount := value(budget.properties, "amount"), (int, float)) or amount <= 0
    ]


def _budget_notifications(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    problems: list[Finding] = []
    for budget in _of(resources, BUDGET):
        notifications = value(budget.properties, "notifications") or {}
        if len(notifications) > BUDGET_MAX_NOTIFICATIONS:
            problems.append((budget, f"{len(notifications)} notifications; a budget takes at most {BUDGET_MAX_NOTIFICATIONS}"))
        for key in sorted(notifications):
            threshold = value(notifications[key], "threshold")
            if not isinstance(threshold, (int, float)) or not 0 <= threshold <= BUDGET_MAX_THRESHOLD:
                problems.append(
                    (budget, f"notification {key} has threshold {threshold}; Azure accepts 0 to {BUDGET_MAX_THRESHOLD} percent")
                )
    return problems


def _budget_recipients(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    problems: list[Finding] = []
    for budget in _of(resources, BUDGET):
        notifications = value(budget.properties, "notifications") or {}
        for key in sorted(notifications):
            emails = value(notifications[key], "contactEmails") or []
            groups = value(notifications[key], "contactGroups") or []
            roles = value(notifications[key], "contactRoles") or []
            if not (emails or groups or roles):
                problems.append((budget, f"notification {key} has no contact e-mail, action group or role"))
            if len(emails) > BUDGET_MAX_CONTACT_EMAILS:
                problems.append((budget, f"notification {key} lists {len(emails)} e-mail addresses; at most {BUDGET_MAX_CONTACT_EMAILS}"))
    return problems


def _compute_instances(resources: Sequence[Resource]) -> list[Resource]:
    return [compute for compute in _of(resources, ML_COMPUTE) if value(compute.properties, "properties.computeType") == "ComputeInstance"]


def _compute_instance_name(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    return [
        (compute, "; ".join(problems))
        for compute in _compute_instances(resources)
        if (problems := COMPUTE_INSTANCE_RULE.problems(str(value(compute.properties, "computeName") or compute.name)))
    ]


def _iso_minutes(duration: str) -> float | None:
    match = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", duration or "")
    if not match or duration in ("P", "PT"):
        return None
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return days * 1440 + hours * 60 + minutes + seconds / 60


def _compute_instance_idle(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    low, high = COMPUTE_INSTANCE_IDLE_MINUTES
    problems: list[Finding] = []
    for compute in _compute_instances(resources):
        idle = value(compute.properties, "properties.properties.idleTimeBeforeShutdown")
        if idle is None:
            continue  # the guardrail ml-compute-instance-idle-shutdown asks for one
        minutes = _iso_minutes(str(idle))
        if minutes is None or not low <= minutes <= high:
            problems.append((compute, f"idleTimeBeforeShutdown is {idle}; Azure accepts an ISO 8601 duration from PT15M to P3D"))
    return problems


def _compute_instance_without_public_ip(resources: Sequence[Resource], context: ConstraintContext) -> list[Finding]:
    workspaces = {workspace.name: workspace for workspace in _of(resources, ML_WORKSPACE)}
    problems: list[Finding] = []
    for compute in _compute_instances(resources):
        if value(compute.properties, "properties.properties.enableNodePublicIp", True) is not False:
            continue
        workspace = workspaces.get(value(compute.properties, "workspaceName"))
        if workspace is not None and not _managed_network(workspace) and not value(compute.properties, "properties.properties.subnet"):
            problems.append((compute, "enableNodePublicIp is false but the workspace has no managed network and the instance no subnet"))
    return problems


CONSTRAINTS = (
    *CONSTRAINTS,
    Constraint(
        "budget-start-first-of-month",
        "Cost Management",
        "A budget starts on the first day of a month",
        "set time_period.start_date to the first of the month it is created in (components.budget.first_of_month)",
        _src(
            BUDGET_TIME_PERIOD_PAGE,
            "The start date must be first of the month and should be less than the end date. Budget start date must be on or "
            "after June 1, 2017.",
        ),
        _budget_start,
    ),
    Constraint(
        "budget-amount-positive",
        "Cost Management",
        "A budget has an amount greater than 0",
        "set budget.amount under the environment to a positive monthly amount",
        _src(BUDGET_TEMPLATE_PAGE, "amount: The total amount of cost to track with the budget (required).", verbatim=False),
        _budget_amount,
    ),
    Constraint(
        "budget-notification-limits",
        "Cost Management",
        "At most five notifications, each threshold 0 to 1000 percent",
        "give budget.thresholds 1 to 5 values from 1 to 1000",
        _src(
            BUDGET_TEMPLATE_PAGE,
            "Budget can have up to five notifications; a notification's threshold is always percent and has to be between 0 and 1000.",
            verbatim=False,
        ),
        _budget_notifications,
    ),
    Constraint(
        "budget-notification-recipients",
        "Cost Management",
        "Each notification has a recipient, and at most 50 e-mail addresses",
        "give the request a contact_email and owners, or budget.contact_emails (50 at most)",
        _src(
            BUDGET_TEMPLATE_PAGE,
            "contactEmails: e-mail addresses to send the notification to (at most 50); at least one contact e-mail or contact "
            "group is required at subscription or resource group scope.",
            verbatim=False,
        ),
        _budget_recipients,
    ),
    Constraint(
        "compute-instance-name",
        "Azure ML",
        "Compute instance names are 3 to 24 letters, digits and '-', starting with a letter",
        "use dsplatform.naming.compute_instance_name",
        _src(
            COMPUTE_INSTANCE_PAGE,
            "A name for an Azure ML Compute Instance must be between 3 and 24 characters in length and must use only numbers, "
            "letters and minus symbol (-), must start with letters. Numbers cannot be the ending of the name if the previous "
            "character is a minus symbol (-).",
            verbatim=False,
        ),
        _compute_instance_name,
    ),
    Constraint(
        "compute-instance-idle-shutdown-range",
        "Azure ML",
        "Idle shutdown is between 15 minutes and 3 days",
        "set compute_instance_idle_minutes from 15 to 4320",
        _src(
            IDLE_SHUTDOWN_PAGE,
            "Stops compute instance after user defined period of inactivity. Time is defined in ISO8601 format. Minimum is 15 min, maximum is 3 days.",
        ),
        _compute_instance_idle,
    ),
    Constraint(
        "compute-instance-no-public-ip-needs-network",
        "Azure ML",
        "A compute instance without a public IP needs the managed network or a subnet",
        "keep enable_node_public_ip=True in public environments, or give the workspace a managed network",
        _src(MANAGED_NETWORK_PAGE, "Compute instances with no public IP need a managed virtual network or a VNet subnet.", verbatim=False),
        _compute_instance_without_public_ip,
    ),
)
CONSTRAINTS_BY_ID = {constraint.id: constraint for constraint in CONSTRAINTS}


# ----------------------------------------------------------------------------- evaluation


@dataclass
class ConstraintReport:
    environment: str
    violations: list[Violation] = field(default_factory=list)
    checked: int = len(CONSTRAINTS)

    @property
    def passed(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        return f"{self.checked} constraints: {len(self.violations)} violation(s) (not waivable)"

    def as_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "constraintsChecked": self.checked,
            "passed": self.passed,
            "violations": [
                {
                    "constraint": violation.rule,
                    "resource": violation.resource,
                    "message": violation.message,
                    "remediation": violation.remediation,
                    "source": {
                        "title": CONSTRAINTS_BY_ID[violation.rule].source.title,
                        "url": CONSTRAINTS_BY_ID[violation.rule].source.url,
                    },
                }
                for violation in self.violations
            ],
        }


def check_constraints(
    resources: Sequence[Resource], context: ConstraintContext, constraints: Sequence[Constraint] = CONSTRAINTS
) -> ConstraintReport:
    """Every constraint over a whole stack, in a stable order. No waivers apply."""
    report = ConstraintReport(context.environment, checked=len(constraints))
    for constraint in constraints:
        for resource, message in constraint.check(resources, context):
            label = resource_label(resource.type, resource.name) if resource else "stack"
            report.violations.append(Violation(constraint.id, "mandatory", label, message, constraint.remediation))
    report.violations.sort(key=lambda item: (item.rule, item.resource, item.message))
    return report


def report_lines(report: ConstraintReport | None) -> list[str]:
    if report is None:
        return ["(not evaluated)"]
    lines = [f"Constraints {'passed' if report.passed else 'FAILED'}: {report.summary()}."]
    for violation in report.violations:
        source = CONSTRAINTS_BY_ID[violation.rule].source
        lines.append(
            f"- {violation.rule} on {violation.resource}: {violation.message}. Fix: {violation.remediation} ({source.title}, {source.url})"
        )
    return lines


def catalogue_markdown() -> str:
    """The constraint catalogue as markdown, generated so the docs cannot drift."""
    lines = ["| constraint | service | what Azure requires | fix | source (the sentence enforced) |", "|---|---|---|---|---|"]
    for constraint in CONSTRAINTS:
        source = constraint.source
        quote = json.dumps(source.quote, ensure_ascii=False)[1:-1].replace("|", "\\|")
        quoted = f'"{quote}"' if source.verbatim else f"{quote} (summary of the page's wording)"
        lines.append(
            f"| `{constraint.id}` | {constraint.service} | {constraint.title} | {constraint.remediation} | [{source.title}]({source.url}): {quoted} |"
        )
    return "\n".join(lines) + "\n"
