"""Guardrails as code: the security and operations baseline every stack must meet.

Why plain functions over a type token and camelCase properties: that is what both the
offline plan (mock state) and a pulumi-policy pack (`ResourceValidationArgs.props`) see,
so one rule set serves `dsplatform plan` and `pulumi preview --policy-pack infra/policy`
without a second copy drifting (a pulumi-policy PolicyPack starts a gRPC server and waits
for the Pulumi engine, so its logic must be callable on its own).

Sources: the secure defaults of Azure Verified Modules (https://azure.github.io/Azure-Verified-Modules/),
Pulumi's "Pulumi Best Practices" pack for Azure
(https://www.pulumi.com/docs/reference/pre-built-policy-packs/pulumi-best-practices/azure/),
the CIS Microsoft Azure Foundations Benchmark (https://www.cisecurity.org/benchmark/azure),
and the platform's own policy, stated in docs/infra.md (access per environment, the two
networking modes, budgets, personal compute). Standard library only, apart from the role
table, so the pack loads fast.

A waiver (declared in the project file) turns a violation into an accepted one until its
expiry date; after that the violation counts again and the report says the waiver expired.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from dsplatform.infra.roles import PRIVILEGED_ROLES, ROLE_NAMES_BY_ID, is_human_write
from dsplatform.vocabulary import DATA_CLASSIFICATIONS, SENSITIVE_CLASSIFICATIONS
from dsplatform.vocabulary import ENVIRONMENTS as ALL_ENVIRONMENTS

Severity = Literal["mandatory", "advisory"]
PROD = ("prod",)

STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
BLOB_CONTAINER = "azure-native:storage:BlobContainer"
KEY_VAULT = "azure-native:keyvault:Vault"
REGISTRY = "azure-native:containerregistry:Registry"
AKS_CLUSTER = "azure-native:containerservice:ManagedCluster"
AKS_POOL = "azure-native:containerservice:AgentPool"
ML_WORKSPACE = "azure-native:machinelearningservices:Workspace"
ML_COMPUTE = "azure-native:machinelearningservices:Compute"
ML_DATASTORE = "azure-native:machinelearningservices:Datastore"
DATABRICKS_WORKSPACE = "azure-native:databricks:Workspace"
DATABRICKS_CLUSTER_POLICY = "databricks:index/clusterPolicy:ClusterPolicy"
LOG_ANALYTICS = "azure-native:operationalinsights:Workspace"
APPLICATION_INSIGHTS = "azure-native:applicationinsights:Component"
DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
SUBNET = "azure-native:network:Subnet"
DATABRICKS_IP_ACCESS_LIST = "databricks:index/ipAccessList:IpAccessList"
BUDGET = "azure-native:consumption:Budget"
RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
DATA_FACTORY = "azure-native:datafactory:Factory"
AI_SERVICES = "azure-native:cognitiveservices:Account"

# Resource types that carry Azure tags (cost reports and ownership read them).
TAGGED_TYPES = frozenset(
    {
        "azure-native:resources:ResourceGroup",
        LOG_ANALYTICS,
        APPLICATION_INSIGHTS,
        "azure-native:managedidentity:UserAssignedIdentity",
        STORAGE_ACCOUNT,
        KEY_VAULT,
        REGISTRY,
        ML_WORKSPACE,
        ML_COMPUTE,
        DATABRICKS_WORKSPACE,
        "azure-native:databricks:AccessConnector",
        AKS_CLUSTER,
        "azure-native:network:VirtualNetwork",
        "azure-native:network:NetworkSecurityGroup",
        "azure-native:network:PrivateEndpoint",
        "azure-native:privatedns:PrivateZone",
        "azure-native:privatedns:VirtualNetworkLink",
        DATA_FACTORY,
        AI_SERVICES,
    }
)
REQUIRED_TAGS = ("owner", "cost-center", "data-classification", "project", "environment", "managed-by")
# Services whose logs must reach Log Analytics, with the ARM path segment that names them.
DIAGNOSED_TYPES = {
    LOG_ANALYTICS: "Microsoft.OperationalInsights/workspaces",
    APPLICATION_INSIGHTS: "Microsoft.Insights/components",
    STORAGE_ACCOUNT: "Microsoft.Storage/storageAccounts",
    KEY_VAULT: "Microsoft.KeyVault/vaults",
    REGISTRY: "Microsoft.ContainerRegistry/registries",
    ML_WORKSPACE: "Microsoft.MachineLearningServices/workspaces",
    DATABRICKS_WORKSPACE: "Microsoft.Databricks/workspaces",
    AKS_CLUSTER: "Microsoft.ContainerService/managedClusters",
    "azure-native:network:VirtualNetwork": "Microsoft.Network/virtualNetworks",
    "azure-native:network:NetworkSecurityGroup": "Microsoft.Network/networkSecurityGroups",
    DATA_FACTORY: "Microsoft.DataFactory/factories",
    AI_SERVICES: "Microsoft.CognitiveServices/accounts",
}


@dataclass(frozen=True)
class Resource:
    """What a rule sees: the type token, the Azure name and the camelCase properties."""

    type: str
    name: str
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class Violation:
    rule: str
    severity: Severity
    resource: str  # "<type token> <Azure name>", or "stack"
    message: str
    remediation: str

    @property
    def resource_name(self) -> str:
        return self.resource.rsplit(" ", 1)[-1]


# A resource check returns the problems it finds (empty when compliant); a stack check
# returns (resource, problem) pairs.
ResourceCheck = Callable[[Mapping[str, Any], str], list[str]]
StackCheck = Callable[[Sequence[Resource], str], list[tuple[Resource | None, str]]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    remediation: str
    source: str
    types: tuple[str, ...] = ()  # resource types a resource rule applies to
    environments: tuple[str, ...] = ALL_ENVIRONMENTS
    check: ResourceCheck | None = None
    stack_check: StackCheck | None = None

    @property
    def is_stack_rule(self) -> bool:
        return self.stack_check is not None

    def applies(self, resource_type: str, environment: str) -> bool:
        return environment in self.environments and (self.is_stack_rule or resource_type in self.types)


def value(properties: Any, path: str, default: Any = None) -> Any:
    """Read `a.b.c` from nested mappings (plain dicts or pulumi-policy's proxies)."""
    current = properties
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return default
        current = current[part]
    return current


def _shown(item: Any) -> str:
    """JSON text of a property, also for pulumi-policy's read-only Mapping/Sequence proxies."""

    def plain(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(key): plain(value[key]) for key in value}
        if isinstance(value, Sequence) and not isinstance(value, str):
            return [plain(element) for element in value]
        return value

    return json.dumps(plain(item), sort_keys=True, default=str)


def _expect(properties: Mapping[str, Any], path: str, expected: Any, why: str) -> list[str]:
    actual = value(properties, path)
    if actual == expected:
        return []
    shown = "not set" if actual is None else _shown(actual)
    return [f"{path} is {shown}; {why}"]


def _role_name(properties: Mapping[str, Any]) -> str:
    definition = str(value(properties, "roleDefinitionId", ""))
    return ROLE_NAMES_BY_ID.get(definition.rsplit("/", 1)[-1].lower(), f"role {definition.rsplit('/', 1)[-1] or '(not set)'}")


# ----------------------------------------------------------------------------- resource checks


def _retention(path: str, minimum: int) -> ResourceCheck:
    def check(properties: Mapping[str, Any], environment: str) -> list[str]:
        enabled = value(properties, f"{path}.enabled")
        days = value(properties, f"{path}.days") or 0
        if enabled is not True or days < minimum:
            return [f"{path} is {_shown(value(properties, path))}; keep deleted data for at least {minimum} days"]
        return []

    return check


def _key_vault_retention(properties: Mapping[str, Any], environment: str) -> list[str]:
    minimum = 90 if environment == "prod" else 7
    days = value(properties, "properties.softDeleteRetentionInDays", 90)  # Azure's default is 90
    if days < minimum:
        return [f"properties.softDeleteRetentionInDays is {days}; {environment} needs at least {minimum}"]
    return []


def _aks_private_api_server(properties: Mapping[str, Any], environment: str) -> list[str]:
    if value(properties, "apiServerAccessProfile.enablePrivateCluster") is True:
        return []
    return ["apiServerAccessProfile.enablePrivateCluster is not true; the prod API server must not be public"]


def _aks_authorized_ranges(properties: Mapping[str, Any], environment: str) -> list[str]:
    if value(properties, "apiServerAccessProfile.enablePrivateCluster") is True:
        return []
    ranges = value(properties, "apiServerAccessProfile.authorizedIPRanges") or []
    if not ranges or any(str(block).strip() in ("0.0.0.0/0", "*") for block in ranges):
        return ["a public API server admits any address; set apiServerAccessProfile.authorizedIPRanges to the allowlist"]
    return []


def _aks_network_policy(properties: Mapping[str, Any], environment: str) -> list[str]:
    policy = value(properties, "networkProfile.networkPolicy")
    if policy in ("azure", "calico", "cilium"):
        return []
    return [f"networkProfile.networkPolicy is {_shown(policy) if policy else 'not set'}; pods could reach each other freely"]


def _aks_node_public_ips(properties: Mapping[str, Any], environment: str) -> list[str]:
    pools = value(properties, "agentPoolProfiles")
    if pools is None:  # an AgentPool resource
        pools = [properties]
    return [
        f"node pool {value(pool, 'name', '?')} has enableNodePublicIP true; nodes must not be reachable from the internet"
        for pool in pools
        if value(pool, "enableNodePublicIP") is True
    ]


def _aks_admin_groups(properties: Mapping[str, Any], environment: str) -> list[str]:
    groups = value(properties, "aadProfile.adminGroupObjectIDs") or []
    if groups:
        return [f"aadProfile.adminGroupObjectIDs gives {len(groups)} group(s) cluster-admin; people get read roles in prod"]
    return []


def _aks_local_accounts(resources: Sequence[Resource], environment: str) -> list[tuple[Resource | None, str]]:
    """Local accounts off, except on a cluster running the Azure ML extension: Azure ML does
    not support disabling them ("Deploy Azure Machine Learning extension on AKS",
    https://learn.microsoft.com/azure/machine-learning/how-to-deploy-kubernetes-extension),
    and dsplatform.infra.constraints enforces that side."""
    hosts = {
        value(item.properties, "clusterName")
        for item in resources
        if item.type == "azure-native:kubernetesconfiguration:Extension"
        and value(item.properties, "extensionType") == "Microsoft.AzureML.Kubernetes"
    }
    return [
        (cluster, "disableLocalAccounts is not true; a static admin kubeconfig bypasses Entra ID")
        for cluster in resources
        if cluster.type == AKS_CLUSTER and cluster.name not in hosts and value(cluster.properties, "disableLocalAccounts") is not True
    ]


def _aml_compute_only(check: ResourceCheck) -> ResourceCheck:
    """Azure ML Compute resources are both AmlCompute clusters and attached Kubernetes;
    the cluster rules only concern the former."""

    def wrapped(properties: Mapping[str, Any], environment: str) -> list[str]:
        if value(properties, "properties.computeType") != "AmlCompute":
            return []
        return check(properties, environment)

    return wrapped


def _scales_to_zero(properties: Mapping[str, Any], environment: str) -> list[str]:
    minimum = value(properties, "properties.properties.scaleSettings.minNodeCount", 0)
    if minimum:
        return [f"properties.properties.scaleSettings.minNodeCount is {minimum}; an idle cluster must cost nothing"]
    return []


def _hbi_for_sensitive_data(properties: Mapping[str, Any], environment: str) -> list[str]:
    classification = value(properties, "tags.data-classification")
    if classification in SENSITIVE_CLASSIFICATIONS and value(properties, "hbiWorkspace") is not True:
        return [f"the workspace holds {classification} data but hbiWorkspace is not true"]
    return []


def _no_credentials(properties: Mapping[str, Any], environment: str) -> list[str]:
    kind = value(properties, "properties.credentials.credentialsType", "None")
    if kind != "None":
        return [
            f"properties.credentials.credentialsType is {_shown(kind)}; datastores must use the workspace identity, not keys or secrets"
        ]
    return []


def _databricks_vnet_injection(properties: Mapping[str, Any], environment: str) -> list[str]:
    if value(properties, "parameters.customVirtualNetworkId.value"):
        return []
    return ["parameters.customVirtualNetworkId is not set; prod clusters must run in the project's VNet"]


def _cluster_policy_autotermination(properties: Mapping[str, Any], environment: str) -> list[str]:
    try:
        definition = json.loads(str(value(properties, "definition", "{}")))
    except ValueError:
        return ["definition is not valid JSON"]
    rule = definition.get("autotermination_minutes") if isinstance(definition, dict) else None
    if not isinstance(rule, dict) or rule.get("type") not in ("fixed", "range") or not (rule.get("value") or rule.get("maxValue")):
        return ["autotermination_minutes is not fixed or bounded; idle clusters would run (and bill) forever"]
    return []


def _log_retention(properties: Mapping[str, Any], environment: str) -> list[str]:
    minimum = 90 if environment == "prod" else 30
    days = value(properties, "retentionInDays", 30)
    if days < minimum:
        return [f"retentionInDays is {days}; {environment} keeps logs at least {minimum} days"]
    return []


def _required_tags(properties: Mapping[str, Any], environment: str) -> list[str]:
    tags = value(properties, "tags") or {}
    missing = [tag for tag in REQUIRED_TAGS if not str(value(tags, tag, "") or "").strip()]
    if missing:
        return [f"tags {', '.join(missing)} missing; cost reports and owners are found by them"]
    return []


def _tag_values(properties: Mapping[str, Any], environment: str) -> list[str]:
    tags = value(properties, "tags") or {}
    problems = []
    if "environment" in tags and tags["environment"] != environment:
        problems.append(f"tag environment is {_shown(tags['environment'])} but the stack is {environment}")
    if "data-classification" in tags and tags["data-classification"] not in DATA_CLASSIFICATIONS:
        problems.append(f"tag data-classification is {_shown(tags['data-classification'])}; use one of {', '.join(DATA_CLASSIFICATIONS)}")
    return problems


def _no_owner_for_humans(properties: Mapping[str, Any], environment: str) -> list[str]:
    role = _role_name(properties)
    principal_type = str(value(properties, "principalType", ""))
    if role == "Owner" and principal_type in ("User", "Group"):
        return [f"a {principal_type} is given Owner; people get the narrowest role that does the job"]
    return []


def _no_human_write(properties: Mapping[str, Any], environment: str) -> list[str]:
    role = _role_name(properties)
    principal_type = str(value(properties, "principalType", ""))
    if is_human_write(principal_type, role):
        return [f"a {principal_type} is given {role}, a write role; in prod only the CI service principal changes things"]
    return []


def _no_subscription_scope(properties: Mapping[str, Any], environment: str) -> list[str]:
    scope = str(value(properties, "scope", "")).rstrip("/")
    parts = [part for part in scope.split("/") if part]
    wide = scope == "" or (len(parts) <= 2 and parts[:1] == ["subscriptions"]) or "managementGroups" in parts
    if wide:
        return [f"scope {json.dumps(scope or '/')} covers a whole subscription or more; assign at the resource or resource group"]
    return []


def _no_privileged_roles(properties: Mapping[str, Any], environment: str) -> list[str]:
    role = _role_name(properties)
    if role in PRIVILEGED_ROLES:
        return [f"{role} can grant itself anything; deployments need no role-granting role inside a project"]
    return []


def _flag(path: str, expected: Any, why: str) -> ResourceCheck:
    return lambda properties, environment: _expect(properties, path, expected, why)


def _one_of(path: str, allowed: Iterable[Any], why: str) -> ResourceCheck:
    allowed = tuple(allowed)

    def check(properties: Mapping[str, Any], environment: str) -> list[str]:
        actual = value(properties, path)
        if actual in allowed:
            return []
        return [f"{path} is {'not set' if actual is None else _shown(actual)}; {why}"]

    return check


def _system_identity(properties: Mapping[str, Any], environment: str) -> list[str]:
    kind = str(value(properties, "identity.type", "") or "")
    if "SystemAssigned" in kind:
        return []
    shown = _shown(value(properties, "identity.type"))
    return [f"identity.type is {shown}; the service must call Azure as its own managed identity, never with stored keys"]


# ----------------------------------------------------------------------------- stack checks


def _diagnostics_everywhere(resources: Sequence[Resource], environment: str) -> list[tuple[Resource | None, str]]:
    targets = {
        str(value(resource.properties, "resourceUri", "")).rstrip("/").lower()
        for resource in resources
        if resource.type == DIAGNOSTIC_SETTING and value(resource.properties, "workspaceId")
    }
    problems: list[tuple[Resource | None, str]] = []
    for resource in resources:
        segment = DIAGNOSED_TYPES.get(resource.type)
        if segment is None:
            continue
        suffix = f"/{segment}/{resource.name}".lower()
        if not any(target.endswith(suffix) for target in targets):
            problems.append((resource, "no diagnostic setting sends its logs and metrics to Log Analytics"))
    return problems


def _blob_diagnostics(resources: Sequence[Resource], environment: str) -> list[tuple[Resource | None, str]]:
    """Storage logs (reads, writes, deletes) live on the blob service, not the account."""
    targets = {str(value(r.properties, "resourceUri", "")).rstrip("/").lower() for r in resources if r.type == DIAGNOSTIC_SETTING}
    problems: list[tuple[Resource | None, str]] = []
    for resource in resources:
        if resource.type != STORAGE_ACCOUNT or value(resource.properties, "isHnsEnabled") is not True:
            continue
        suffix = f"/microsoft.storage/storageaccounts/{resource.name}/blobservices/default".lower()
        if not any(target.endswith(suffix) for target in targets):
            problems.append((resource, "the data lake's blob service has no diagnostic setting; data access would go unlogged"))
    return problems


# Where each service keeps its public-access allowlist (camelCase, as the plan and the pack see it).
ALLOWLIST_PATHS: dict[str, tuple[str, str | None]] = {
    STORAGE_ACCOUNT: ("networkRuleSet.ipRules", "iPAddressOrRange"),
    REGISTRY: ("networkRuleSet.ipRules", "iPAddressOrRange"),
    KEY_VAULT: ("properties.networkAcls.ipRules", "value"),
    AKS_CLUSTER: ("apiServerAccessProfile.authorizedIPRanges", None),
    DATABRICKS_IP_ACCESS_LIST: ("ipAddresses", None),
    AI_SERVICES: ("properties.networkAcls.ipRules", "value"),
}


def allowlist_entries(resource: Resource) -> list[str]:
    """The address ranges one resource admits from the internet, as written."""
    path, key = ALLOWLIST_PATHS.get(resource.type, (None, None))
    if path is None:
        return []
    if resource.type == DATABRICKS_IP_ACCESS_LIST and value(resource.properties, "listType") not in (None, "ALLOW"):
        return []
    items = value(resource.properties, path) or []
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        return [str(items)]
    return [str(value(item, key, "") if key else item).strip() for item in items]


def _allowlist_limits() -> tuple[int, int]:
    """The platform's limits (infra/platform.yaml), read lazily so this module stays light."""
    from dsplatform.infra.platform_policy import platform_policy

    policy = platform_policy()
    return policy.allowlist_max_prefix, policy.allowlist_max_addresses


def _as_network(entry: str) -> ipaddress.IPv4Network | None:
    if entry in ("*", "Internet", "any"):
        return ipaddress.IPv4Network("0.0.0.0/0")
    try:
        return ipaddress.IPv4Network(entry if "/" in entry else f"{entry}/32", strict=False)
    except ValueError:
        return None


def _allowlists_bounded(resources: Sequence[Resource], environment: str) -> list[tuple[Resource | None, str]]:
    """Judge what the allowlists admit together, not entry by entry: `0.0.0.0/1` and
    `128.0.0.0/1` are the whole internet although neither is `0.0.0.0/0`. Every entry must
    be no broader than the platform's prefix, and the union of every allowlist in the stack
    (storage, registry and Key Vault firewalls, the AKS API server's authorized ranges,
    Databricks IP access lists) must stay under the platform's address count."""
    max_prefix, max_addresses = _allowlist_limits()
    problems: list[tuple[Resource | None, str]] = []
    networks: list[ipaddress.IPv4Network] = []
    for resource in resources:
        for entry in allowlist_entries(resource):
            network = _as_network(entry)
            if network is None:
                problems.append((resource, f"allowlist entry {json.dumps(entry)} is not an IPv4 address or CIDR block"))
                continue
            networks.append(network)
            if network.prefixlen < max_prefix:
                problems.append(
                    (resource, f"allowlist entry {entry} admits {network.num_addresses:,} addresses, broader than /{max_prefix}")
                )
    total = sum(block.num_addresses for block in ipaddress.collapse_addresses(networks))
    if total > max_addresses:
        problems.append((None, f"the stack's allowlists admit {total:,} distinct addresses together, more than {max_addresses:,}"))
    return problems


# ----------------------------------------------------------------------------- the catalogue

AVM = "Azure Verified Modules default"
PULUMI = "Pulumi Best Practices - Azure"
CIS = "CIS Microsoft Azure Foundations"
PLATFORM = "platform policy (docs/infra.md)"

RULES: tuple[Rule, ...] = (
    # storage
    Rule(
        "storage-https-only",
        "mandatory",
        "Storage accepts HTTPS only",
        "set enable_https_traffic_only=True",
        CIS,
        (STORAGE_ACCOUNT,),
        check=_flag("enableHttpsTrafficOnly", True, "plain HTTP would expose data in transit"),
    ),
    Rule(
        "storage-no-public-blob-access",
        "mandatory",
        "No anonymous blob access",
        "set allow_blob_public_access=False",
        AVM,
        (STORAGE_ACCOUNT,),
        check=_flag("allowBlobPublicAccess", False, "anonymous reads of containers would be possible"),
    ),
    Rule(
        "storage-shared-key-disabled",
        "mandatory",
        "Shared keys off (Entra ID only)",
        "set allow_shared_key_access=False and use RBAC data roles",
        AVM,
        (STORAGE_ACCOUNT,),
        check=_flag("allowSharedKeyAccess", False, "account keys and SAS signed with them bypass RBAC"),
    ),
    Rule(
        "storage-tls-1-2",
        "mandatory",
        "Minimum TLS 1.2",
        "set minimum_tls_version='TLS1_2'",
        CIS,
        (STORAGE_ACCOUNT,),
        check=_one_of("minimumTlsVersion", ("TLS1_2", "TLS1_3"), "TLS 1.0 and 1.1 are broken"),
    ),
    Rule(
        "storage-network-deny-by-default",
        "mandatory",
        "Storage firewall denies by default",
        "set network_rule_set.default_action='Deny'",
        CIS,
        (STORAGE_ACCOUNT,),
        check=_flag("networkRuleSet.defaultAction", "Deny", "every address on the internet could reach the account"),
    ),
    Rule(
        "storage-private-in-prod",
        "mandatory",
        "No public network access to prod storage",
        "set public_network_access='Disabled' and use private endpoints",
        AVM,
        (STORAGE_ACCOUNT,),
        PROD,
        check=_flag("publicNetworkAccess", "Disabled", "prod data is reachable only through private endpoints"),
    ),
    Rule(
        "storage-no-cross-tenant-replication",
        "advisory",
        "No replication to other tenants",
        "set allow_cross_tenant_replication=False",
        PULUMI,
        (STORAGE_ACCOUNT,),
        check=_flag("allowCrossTenantReplication", False, "object replication could copy data out of the tenant"),
    ),
    Rule(
        "storage-zone-redundant-in-prod",
        "advisory",
        "Zone-redundant prod storage",
        "use sku Standard_ZRS or Standard_GZRS",
        PLATFORM,
        (STORAGE_ACCOUNT,),
        PROD,
        check=_one_of(
            "sku.name", ("Standard_ZRS", "Standard_GZRS", "Standard_RAGZRS", "Premium_ZRS"), "a zone outage could lose prod data"
        ),
    ),
    Rule(
        "storage-blob-soft-delete",
        "mandatory",
        "Blob soft delete",
        "set delete_retention_policy={'enabled': True, 'days': 7 or more}",
        CIS,
        (BLOB_SERVICE,),
        check=_retention("deleteRetentionPolicy", 7),
    ),
    Rule(
        "storage-container-soft-delete",
        "mandatory",
        "Container soft delete",
        "set container_delete_retention_policy={'enabled': True, 'days': 7 or more}",
        AVM,
        (BLOB_SERVICE,),
        check=_retention("containerDeleteRetentionPolicy", 7),
    ),
    Rule(
        "storage-blob-versioning",
        "mandatory",
        "Blob versioning",
        "set is_versioning_enabled=True",
        AVM,
        (BLOB_SERVICE,),
        check=_flag("isVersioningEnabled", True, "an overwrite would lose the previous data"),
    ),
    Rule(
        "storage-container-private",
        "mandatory",
        "Containers are private",
        "set public_access='None'",
        CIS,
        (BLOB_CONTAINER,),
        check=_one_of("publicAccess", ("None", None), "anonymous clients could list and read the container"),
    ),
    # Key Vault
    Rule(
        "keyvault-rbac-mode",
        "mandatory",
        "Key Vault in RBAC mode",
        "set properties.enable_rbac_authorization=True",
        AVM,
        (KEY_VAULT,),
        check=_flag("properties.enableRbacAuthorization", True, "access policies bypass Azure RBAC and its audit"),
    ),
    Rule(
        "keyvault-purge-protection",
        "mandatory",
        "Key Vault purge protection",
        "set properties.enable_purge_protection=True",
        AVM,
        (KEY_VAULT,),
        check=_flag("properties.enablePurgeProtection", True, "a deleted vault could be purged with its secrets"),
    ),
    Rule(
        "keyvault-soft-delete-retention",
        "mandatory",
        "Key Vault soft-delete retention",
        "set properties.soft_delete_retention_in_days (90 in prod, 7 or more elsewhere)",
        AVM,
        (KEY_VAULT,),
        check=_key_vault_retention,
    ),
    Rule(
        "keyvault-network-deny-by-default",
        "mandatory",
        "Key Vault network ACLs deny by default",
        "set properties.network_acls.default_action='Deny'",
        CIS,
        (KEY_VAULT,),
        check=_flag("properties.networkAcls.defaultAction", "Deny", "every address could reach the vault"),
    ),
    Rule(
        "keyvault-private-in-prod",
        "mandatory",
        "No public network access to the prod vault",
        "set properties.public_network_access='Disabled'",
        AVM,
        (KEY_VAULT,),
        PROD,
        check=_flag("properties.publicNetworkAccess", "Disabled", "prod secrets are reachable only through a private endpoint"),
    ),
    # Container registry
    Rule(
        "acr-admin-user-disabled",
        "mandatory",
        "Registry admin user off",
        "set admin_user_enabled=False; push and pull with AcrPush/AcrPull roles",
        AVM,
        (REGISTRY,),
        check=_flag("adminUserEnabled", False, "the admin user is a shared password outside Entra ID"),
    ),
    Rule(
        "acr-anonymous-pull-disabled",
        "mandatory",
        "Registry anonymous pull off",
        "set anonymous_pull_enabled=False",
        AVM,
        (REGISTRY,),
        check=_flag("anonymousPullEnabled", False, "anyone could pull the project's images"),
    ),
    Rule(
        "acr-private-in-prod",
        "mandatory",
        "No public network access to the prod registry",
        "set public_network_access='Disabled' (Premium SKU) with a private endpoint",
        AVM,
        (REGISTRY,),
        PROD,
        check=_flag("publicNetworkAccess", "Disabled", "prod images are reachable only through a private endpoint"),
    ),
    # AKS
    Rule(
        "aks-azure-rbac",
        "mandatory",
        "AKS uses Entra ID with Azure RBAC",
        "set aad_profile={'managed': True, 'enable_azure_rbac': True}",
        AVM,
        (AKS_CLUSTER,),
        check=_flag("aadProfile.enableAzureRBAC", True, "Kubernetes access would not be governed by Azure role assignments"),
    ),
    Rule(
        "aks-local-accounts-disabled",
        "mandatory",
        "AKS local accounts off (except where the Azure ML extension needs them)",
        "set disable_local_accounts=True unless the cluster hosts the Azure ML extension",
        AVM,
        stack_check=_aks_local_accounts,
    ),
    Rule(
        "aks-private-api-server-in-prod",
        "mandatory",
        "No public AKS API server in prod",
        "set api_server_access_profile={'enable_private_cluster': True}",
        PULUMI,
        (AKS_CLUSTER,),
        PROD,
        check=_aks_private_api_server,
    ),
    Rule(
        "aks-api-server-allowlist",
        "mandatory",
        "A public API server admits the allowlist only",
        "set api_server_access_profile.authorized_ip_ranges, or make the cluster private",
        CIS,
        (AKS_CLUSTER,),
        check=_aks_authorized_ranges,
    ),
    Rule(
        "aks-network-policy",
        "mandatory",
        "AKS network policy",
        "set network_profile.network_policy to cilium, azure or calico",
        CIS,
        (AKS_CLUSTER,),
        check=_aks_network_policy,
    ),
    Rule(
        "aks-no-public-node-ips",
        "mandatory",
        "No public IPs on AKS nodes",
        "set enable_node_public_ip=False on every pool",
        PULUMI,
        (AKS_CLUSTER, AKS_POOL),
        check=_aks_node_public_ips,
    ),
    Rule(
        "aks-no-admin-groups-in-prod",
        "mandatory",
        "No cluster-admin group in prod",
        "leave aad_profile.admin_group_object_ids empty in prod",
        PLATFORM,
        (AKS_CLUSTER,),
        PROD,
        check=_aks_admin_groups,
    ),
    Rule(
        "aks-workload-identity",
        "advisory",
        "AKS workload identity on",
        "set security_profile.workload_identity.enabled=True and oidc_issuer_profile.enabled=True",
        AVM,
        (AKS_CLUSTER,),
        check=_flag("securityProfile.workloadIdentity.enabled", True, "pods would need secrets to reach Azure"),
    ),
    Rule(
        "aks-azure-policy-addon",
        "advisory",
        "Azure Policy add-on on AKS",
        "set addon_profiles.azurepolicy.enabled=True",
        CIS,
        (AKS_CLUSTER,),
        check=_flag("addonProfiles.azurepolicy.enabled", True, "pod security baselines would not be enforced"),
    ),
    # Azure ML
    Rule(
        "ml-private-in-prod",
        "mandatory",
        "No public network access to the prod ML workspace",
        "set public_network_access='Disabled' with a managed network",
        AVM,
        (ML_WORKSPACE,),
        PROD,
        check=_flag("publicNetworkAccess", "Disabled", "the prod workspace is reachable only through a private endpoint"),
    ),
    Rule(
        "ml-identity-based-datastores",
        "mandatory",
        "Workspace datastores use identities",
        "set system_datastores_auth_mode='identity'",
        AVM,
        (ML_WORKSPACE,),
        check=_flag("systemDatastoresAuthMode", "identity", "the default datastores would hold storage keys"),
    ),
    Rule(
        "ml-high-business-impact",
        "mandatory",
        "HBI workspace for confidential data",
        "set hbi_workspace=True when data_classification is confidential or restricted",
        PLATFORM,
        (ML_WORKSPACE,),
        check=_hbi_for_sensitive_data,
    ),
    Rule(
        "ml-datastore-no-credentials",
        "mandatory",
        "Datastores hold no credentials",
        "use NoneDatastoreCredentials with the workspace identity",
        AVM,
        (ML_DATASTORE,),
        check=_no_credentials,
    ),
    Rule(
        "ml-compute-scales-to-zero",
        "mandatory",
        "ML compute scales to zero",
        "set scale_settings.min_node_count=0",
        PLATFORM,
        (ML_COMPUTE,),
        check=_aml_compute_only(_scales_to_zero),
    ),
    Rule(
        "ml-compute-no-public-ip-in-prod",
        "mandatory",
        "No public IPs on prod ML compute nodes",
        "set enable_node_public_ip=False (needs the managed network)",
        PULUMI,
        (ML_COMPUTE,),
        PROD,
        check=_aml_compute_only(
            _flag("properties.properties.enableNodePublicIp", False, "prod nodes must not be reachable from the internet")
        ),
    ),
    Rule(
        "ml-compute-local-auth-disabled",
        "mandatory",
        "ML compute local auth off",
        "set disable_local_auth=True",
        CIS,
        (ML_COMPUTE,),
        check=_aml_compute_only(_flag("properties.disableLocalAuth", True, "local keys bypass Entra ID")),
    ),
    Rule(
        "ml-compute-no-public-ssh",
        "mandatory",
        "No public SSH to ML compute",
        "set remote_login_port_public_access='Disabled'",
        CIS,
        (ML_COMPUTE,),
        check=_aml_compute_only(
            _flag("properties.properties.remoteLoginPortPublicAccess", "Disabled", "SSH would be open to the internet")
        ),
    ),
    # Databricks
    Rule(
        "databricks-no-public-ip",
        "mandatory",
        "Databricks secure cluster connectivity (no public IPs)",
        "set parameters.enable_no_public_ip={'value': True}",
        PLATFORM,
        (DATABRICKS_WORKSPACE,),
        check=_flag("parameters.enableNoPublicIp.value", True, "cluster nodes would get public IPs (AVM's module leaves them on)"),
    ),
    Rule(
        "databricks-vnet-injection-in-prod",
        "mandatory",
        "Databricks VNet injection in prod",
        "set parameters.custom_virtual_network_id and the two delegated subnets",
        PLATFORM,
        (DATABRICKS_WORKSPACE,),
        PROD,
        check=_databricks_vnet_injection,
    ),
    Rule(
        "databricks-private-in-prod",
        "mandatory",
        "No public network access to the prod Databricks workspace",
        "set public_network_access='Disabled' and required_nsg_rules='NoAzureDatabricksRules'",
        PULUMI,
        (DATABRICKS_WORKSPACE,),
        PROD,
        check=_flag("publicNetworkAccess", "Disabled", "the prod workspace is reachable only through private link"),
    ),
    Rule(
        "databricks-premium",
        "advisory",
        "Databricks premium tier",
        "set sku.name='premium' (Unity Catalog, RBAC, audit logs)",
        PULUMI,
        (DATABRICKS_WORKSPACE,),
        check=_flag("sku.name", "premium", "standard tier has no access control or audit logs"),
    ),
    Rule(
        "databricks-cluster-autotermination",
        "advisory",
        "Cluster policy bounds autotermination",
        "give the cluster policy a fixed or bounded autotermination_minutes",
        PLATFORM,
        (DATABRICKS_CLUSTER_POLICY,),
        check=_cluster_policy_autotermination,
    ),
    # logging
    Rule(
        "log-analytics-retention",
        "mandatory",
        "Log Analytics retention",
        "set retention_in_days (90 or more in prod, 30 or more elsewhere)",
        CIS,
        (LOG_ANALYTICS,),
        check=_log_retention,
    ),
    Rule(
        "app-insights-local-auth-disabled",
        "advisory",
        "Application Insights without instrumentation-key-only ingestion",
        "set disable_local_auth=True",
        AVM,
        (APPLICATION_INSIGHTS,),
        check=_flag("disableLocalAuth", True, "anyone with the key could send telemetry"),
    ),
    Rule(
        "diagnostics-on-every-service",
        "mandatory",
        "Diagnostics on every service",
        "add a diagnostic setting (components.common.diagnostic_setting) to the service",
        CIS,
        stack_check=_diagnostics_everywhere,
    ),
    Rule(
        "diagnostics-on-lake-blob-service",
        "mandatory",
        "Diagnostics on the data lake's blob service",
        "add a diagnostic setting for <account>/blobServices/default",
        CIS,
        stack_check=_blob_diagnostics,
    ),
    # tags
    Rule(
        "tags-required",
        "mandatory",
        "Required tags present",
        f"tag every resource with {', '.join(REQUIRED_TAGS)} (StackSettings.resource_tags)",
        PULUMI,
        tuple(sorted(TAGGED_TYPES)),
        check=_required_tags,
    ),
    Rule(
        "tags-valid-values",
        "mandatory",
        "Tag values match the stack",
        "take tags from StackSettings.resource_tags()",
        PLATFORM,
        tuple(sorted(TAGGED_TYPES)),
        check=_tag_values,
    ),
    # role assignments
    Rule(
        "role-no-owner-for-humans",
        "mandatory",
        "No Owner for people",
        "give the group the narrowest built-in role (Reader, Contributor on one resource, a data role)",
        CIS,
        (ROLE_ASSIGNMENT,),
        check=_no_owner_for_humans,
    ),
    Rule(
        "role-no-human-write-in-prod",
        "mandatory",
        "No human write role in prod",
        "give people read roles in prod; changes go through the CI service principal",
        PLATFORM,
        (ROLE_ASSIGNMENT,),
        PROD,
        check=_no_human_write,
    ),
    Rule(
        "role-no-subscription-scope",
        "mandatory",
        "No subscription-wide role assignments",
        "scope the assignment to the resource group or the resource",
        CIS,
        (ROLE_ASSIGNMENT,),
        check=_no_subscription_scope,
    ),
    Rule(
        "role-no-privileged-roles",
        "advisory",
        "No role-granting roles inside a project",
        "use a data or service role instead of Owner, User Access Administrator or RBAC Administrator",
        PULUMI,
        (ROLE_ASSIGNMENT,),
        check=_no_privileged_roles,
    ),
    # network
    # "Secure access to the API server using authorized IP address ranges in Azure Kubernetes Service (AKS)",
    # https://learn.microsoft.com/azure/aks/api-server-authorized-ip-ranges: limit the ranges that reach a public
    # endpoint; the same holds for the storage, registry and Key Vault firewalls and Databricks IP access lists.
    Rule("network-allowlists-bounded", "mandatory", "Public allowlists admit a bounded set of addresses",
         "list the offices' own ranges in allowed_ip_ranges, each within the platform's prefix (infra/platform.yaml), or use private networking",
         PLATFORM, stack_check=_allowlists_bounded),
    Rule("subnet-no-default-outbound", "advisory", "Subnets without default outbound access", "set default_outbound_access=False and route egress explicitly", PULUMI,
         (SUBNET,), check=_flag("defaultOutboundAccess", False, "implicit outbound IPs are being retired and are unaudited")),
    # Data Factory (components/data_factory.py)
    Rule("adf-managed-identity", "mandatory", "Data Factory uses a system-assigned managed identity", "set identity={'type': 'SystemAssigned'}", AVM,
         (DATA_FACTORY,), check=_system_identity),
    Rule("adf-private-in-prod", "mandatory", "No public network access to the prod Data Factory", "set public_network_access='Disabled' with a private endpoint and a managed-VNet integration runtime", AVM,
         (DATA_FACTORY,), PROD, check=_flag("publicNetworkAccess", "Disabled", "the prod factory is reachable only through its private endpoint")),
    # Azure AI services (components/ai_services.py)
    Rule("ai-local-auth-disabled", "mandatory", "AI services keys off (Entra ID only)", "set properties.disable_local_auth=True and grant Cognitive Services User", AVM,
         (AI_SERVICES,), check=_flag("properties.disableLocalAuth", True, "anyone holding a key could call the account")),
    Rule("ai-network-deny-by-default", "mandatory", "AI services firewall denies by default", "set properties.network_acls.default_action='Deny'", CIS,
         (AI_SERVICES,), check=_flag("properties.networkAcls.defaultAction", "Deny", "the account would answer any address")),
    Rule("ai-private-in-prod", "mandatory", "No public network access to the prod AI services account", "set properties.public_network_access='Disabled' with a private endpoint", AVM,
         (AI_SERVICES,), PROD, check=_flag("properties.publicNetworkAccess", "Disabled", "the prod account is reachable only through its private endpoint")),
    Rule("ai-managed-identity", "advisory", "AI services account has a managed identity", "set identity={'type': 'SystemAssigned'}", AVM,
         (AI_SERVICES,), check=_system_identity),
)


# ----------------------------------------------------------------------------- budgets and personal compute


def _budget_on_every_environment(resources: Sequence[Resource], environment: str) -> list[tuple[Resource | None, str]]:
    """Each environment's resource group has a budget scoped to it: spending is capped and
    its owners hear about it before the invoice (Cost Management best practices,
    https://learn.microsoft.com/azure/cost-management-billing/costs/cost-mgt-best-practices)."""
    scopes = {
        str(value(budget.properties, "scope", "")).rstrip("/").rsplit("/", 1)[-1].lower() for budget in resources if budget.type == BUDGET
    }
    return [
        (group, "no consumption budget is scoped to this resource group; spending would have no cap and no alert")
        for group in resources
        if group.type == RESOURCE_GROUP and group.name.lower() not in scopes
    ]


def _budget_alerts_someone(properties: Mapping[str, Any], environment: str) -> list[str]:
    notifications = value(properties, "notifications") or {}
    enabled = [item for item in notifications.values() if value(item, "enabled") is True]
    if not enabled:
        return ["no enabled notification; nobody would hear that the budget is being spent"]
    return []


def _compute_instance_only(check: ResourceCheck) -> ResourceCheck:
    def wrapped(properties: Mapping[str, Any], environment: str) -> list[str]:
        if value(properties, "properties.computeType") != "ComputeInstance":
            return []
        return check(properties, environment)

    return wrapped


def _no_compute_instance(properties: Mapping[str, Any], environment: str) -> list[str]:
    return ["a compute instance in prod; nobody works by hand in prod (changes go through CI)"]


def _idle_shutdown(properties: Mapping[str, Any], environment: str) -> list[str]:
    if value(properties, "properties.properties.idleTimeBeforeShutdown"):
        return []
    return ["properties.properties.idleTimeBeforeShutdown is not set; a forgotten instance would bill around the clock"]


def _assigned_to_one_person(properties: Mapping[str, Any], environment: str) -> list[str]:
    if value(properties, "properties.properties.personalComputeInstanceSettings.assignedUser.objectId"):
        return []
    return ["personalComputeInstanceSettings.assignedUser is not set; the instance would be shared, not personal"]


PERSONAL_RULES: tuple[Rule, ...] = (
    Rule("budget-on-every-environment", "mandatory", "Every environment has a consumption budget", "add the EnvironmentBudget component (components.budget) scoped to the resource group", PLATFORM,
         stack_check=_budget_on_every_environment),
    Rule("budget-alerts-owners", "mandatory", "Budgets alert someone", "enable at least one notification with the owners' e-mail addresses", PLATFORM,
         (BUDGET,), check=_budget_alerts_someone),
    Rule("ml-compute-instance-not-in-prod", "mandatory", "No compute instances in prod", "leave data_scientists' personal compute to dev; prod runs jobs from CI", PLATFORM,
         (ML_COMPUTE,), PROD, check=_compute_instance_only(_no_compute_instance)),
    Rule("ml-compute-instance-idle-shutdown", "mandatory", "Compute instances shut down when idle", "set idle_time_before_shutdown (compute_instance_idle_minutes)", PLATFORM,
         (ML_COMPUTE,), check=_compute_instance_only(_idle_shutdown)),
    Rule("ml-compute-instance-ssh-disabled", "mandatory", "No SSH to compute instances", "set ssh_settings.ssh_public_access='Disabled'", CIS,
         (ML_COMPUTE,), check=_compute_instance_only(_flag("properties.properties.sshSettings.sshPublicAccess", "Disabled", "SSH would be open to the internet"))),
    Rule("ml-compute-instance-personal", "mandatory", "Compute instances are assigned to one person", "set personal_compute_instance_settings.assigned_user", PLATFORM,
         (ML_COMPUTE,), check=_compute_instance_only(_assigned_to_one_person)),
)  # fmt: skip
RULES = (*RULES, *PERSONAL_RULES)
RULES_BY_ID = {rule.id: rule for rule in RULES}
RULE_IDS = frozenset(RULES_BY_ID)


def resource_label(resource_type: str, name: str) -> str:
    return f"{resource_type} {name}"


def check_resource(resource: Resource, environment: str, rules: Iterable[Rule] = RULES) -> list[Violation]:
    """Every resource rule that applies, on one resource."""
    return [
        Violation(rule.id, rule.severity, resource_label(resource.type, resource.name), message, rule.remediation)
        for rule in rules
        if not rule.is_stack_rule and rule.applies(resource.type, environment)
        for message in rule.check(resource.properties, environment)
    ]


def check_stack(resources: Sequence[Resource], environment: str, rules: Iterable[Rule] = RULES) -> list[Violation]:
    """Every rule, resource and stack-wide, over a whole stack, in a stable order."""
    rules = tuple(rules)
    violations = [violation for resource in resources for violation in check_resource(resource, environment, rules)]
    for rule in rules:
        if rule.is_stack_rule and rule.applies("", environment):
            for resource, message in rule.stack_check(resources, environment):
                label = resource_label(resource.type, resource.name) if resource else "stack"
                violations.append(Violation(rule.id, rule.severity, label, message, rule.remediation))
    return sorted(violations, key=lambda item: (item.severity != "mandatory", item.rule, item.resource, item.message))


# ----------------------------------------------------------------------------- waivers


@dataclass(frozen=True)
class WaiverTerms:
    """The waiver fields the evaluation needs (config.Waiver is the schema)."""

    rule: str
    reason: str
    approver: str
    expires: date
    resource: str | None = None
    environments: tuple[str, ...] | None = None

    def covers(self, violation: Violation, environment: str) -> bool:
        if self.rule != violation.rule:
            return False
        if self.environments is not None and environment not in self.environments:
            return False
        return self.resource is None or self.resource in (violation.resource_name, violation.resource)


@dataclass(frozen=True)
class Finding:
    violation: Violation
    waiver: WaiverTerms | None = None
    waiver_expired: bool = False

    @property
    def counts(self) -> bool:
        """Whether it still blocks: no waiver, or one that has expired."""
        return self.waiver is None or self.waiver_expired

    @property
    def blocks(self) -> bool:
        return self.counts and self.violation.severity == "mandatory"

    @property
    def status(self) -> str:
        if self.waiver is None:
            return "violation"
        return (
            f"waiver expired {self.waiver.expires.isoformat()}"
            if self.waiver_expired
            else f"waived until {self.waiver.expires.isoformat()}"
        )


@dataclass
class PolicyReport:
    environment: str
    findings: list[Finding] = field(default_factory=list)
    today: date = field(default_factory=date.today)
    rules_checked: int = len(RULES)

    @property
    def blocking(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.blocks]

    @property
    def mandatory_count(self) -> int:
        return len(self.blocking)

    @property
    def advisory_count(self) -> int:
        return sum(1 for finding in self.findings if finding.counts and finding.violation.severity == "advisory")

    @property
    def waived(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.waiver is not None]

    @property
    def passed(self) -> bool:
        return not self.blocking

    def summary(self) -> str:
        waived = sum(1 for finding in self.waived if not finding.waiver_expired)
        expired = sum(1 for finding in self.waived if finding.waiver_expired)
        text = f"{self.rules_checked} rules: {self.mandatory_count} mandatory violation(s), {self.advisory_count} advisory, {waived} waived"
        return text + (f", {expired} with an expired waiver" if expired else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "evaluatedOn": self.today.isoformat(),
            "rulesChecked": self.rules_checked,
            "passed": self.passed,
            "mandatoryViolations": self.mandatory_count,
            "advisoryViolations": self.advisory_count,
            "findings": [
                {
                    "rule": finding.violation.rule,
                    "severity": finding.violation.severity,
                    "resource": finding.violation.resource,
                    "message": finding.violation.message,
                    "remediation": finding.violation.remediation,
                    "status": finding.status,
                    "blocks": finding.blocks,
                    "waiver": None
                    if finding.waiver is None
                    else {
                        "reason": finding.waiver.reason,
                        "approver": finding.waiver.approver,
                        "expires": finding.waiver.expires.isoformat(),
                        "expired": finding.waiver_expired,
                    },
                }
                for finding in self.findings
            ],
        }


def apply_waivers(
    violations: Iterable[Violation], waivers: Iterable[WaiverTerms], environment: str, today: date | None = None
) -> PolicyReport:
    """Match each violation with the first waiver that covers it; a waiver past its expiry
    date still shows, but the violation counts again."""
    today = today or date.today()
    waivers = tuple(waivers)
    report = PolicyReport(environment=environment, today=today)
    for violation in violations:
        waiver = next((terms for terms in waivers if terms.covers(violation, environment)), None)
        report.findings.append(Finding(violation, waiver, waiver is not None and waiver.expires < today))
    return report


def evaluate(
    resources: Sequence[Resource], environment: str, waivers: Iterable[WaiverTerms] = (), today: date | None = None
) -> PolicyReport:
    return apply_waivers(check_stack(resources, environment), waivers, environment, today)


def catalogue_markdown() -> str:
    """The rule catalogue as a markdown table, generated so the docs cannot drift."""
    lines = [
        "| rule | severity | applies to | environments | what it checks | remediation | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for rule in RULES:
        types = "whole stack" if rule.is_stack_rule else ", ".join(f"`{kind.split(':')[-1]}`" for kind in rule.types)
        if rule.types == tuple(sorted(TAGGED_TYPES)):
            types = "every tagged resource"
        environments = "all" if rule.environments == ALL_ENVIRONMENTS else ", ".join(rule.environments)
        lines.append(f"| `{rule.id}` | {rule.severity} | {types} | {environments} | {rule.title} | {rule.remediation} | {rule.source} |")
    return "\n".join(lines) + "\n"
