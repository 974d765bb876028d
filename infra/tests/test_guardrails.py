"""Guardrails: every rule on a compliant and a violating resource, the default stacks,
a default broken on purpose through the real program, waivers, and the policy pack."""

from __future__ import annotations

import copy
import io
import json
import runpy
from contextlib import redirect_stderr, redirect_stdout
from datetime import date

import pytest

from dsplatform import cli
from dsplatform.infra.guardrails import (
    RULES,
    RULES_BY_ID,
    Resource,
    WaiverTerms,
    apply_waivers,
    catalogue_markdown,
    check_resource,
    check_stack,
)
from dsplatform.infra.roles import ROLE_DEFINITIONS

from .conftest import EXAMPLE, INFRA, plan_of, settings_from

TODAY = date(2026, 11, 23)
SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-000000000000"
TAGS = {
    "owner": "Team",
    "cost-center": "CC-1",
    "data-classification": "internal",
    "project": "example",
    "environment": "prod",
    "managed-by": "pulumi",
}


def role(name: str) -> str:
    return f"{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{ROLE_DEFINITIONS[name]}"


STORAGE = {
    "enableHttpsTrafficOnly": True,
    "allowBlobPublicAccess": False,
    "allowSharedKeyAccess": False,
    "minimumTlsVersion": "TLS1_2",
    "networkRuleSet": {"defaultAction": "Deny"},
    "publicNetworkAccess": "Disabled",
    "allowCrossTenantReplication": False,
    "sku": {"name": "Standard_ZRS"},
    "tags": TAGS,
}
BLOB_SERVICE = {
    "deleteRetentionPolicy": {"enabled": True, "days": 30},
    "containerDeleteRetentionPolicy": {"enabled": True, "days": 30},
    "isVersioningEnabled": True,
}
VAULT = {
    "properties": {
        "enableRbacAuthorization": True,
        "enablePurgeProtection": True,
        "softDeleteRetentionInDays": 90,
        "networkAcls": {"defaultAction": "Deny"},
        "publicNetworkAccess": "Disabled",
    },
    "tags": TAGS,
}
REGISTRY = {"adminUserEnabled": False, "anonymousPullEnabled": False, "publicNetworkAccess": "Disabled", "tags": TAGS}
AKS = {
    "aadProfile": {"managed": True, "enableAzureRBAC": True, "adminGroupObjectIDs": []},
    "disableLocalAccounts": True,
    "apiServerAccessProfile": {"enablePrivateCluster": True},
    "networkProfile": {"networkPolicy": "cilium"},
    "agentPoolProfiles": [{"name": "system", "enableNodePublicIP": False}],
    "securityProfile": {"workloadIdentity": {"enabled": True}},
    "addonProfiles": {"azurepolicy": {"enabled": True}},
    "tags": TAGS,
}
ML_WORKSPACE = {"publicNetworkAccess": "Disabled", "systemDatastoresAuthMode": "identity", "hbiWorkspace": True, "tags": {**TAGS, "data-classification": "confidential"}}
AML_COMPUTE = {
    "properties": {
        "computeType": "AmlCompute",
        "disableLocalAuth": True,
        "properties": {"scaleSettings": {"minNodeCount": 0}, "enableNodePublicIp": False, "remoteLoginPortPublicAccess": "Disabled"},
    },
    "tags": TAGS,
}
DATABRICKS = {
    "parameters": {"enableNoPublicIp": {"value": True}, "customVirtualNetworkId": {"value": "/vnet"}},
    "publicNetworkAccess": "Disabled",
    "sku": {"name": "premium"},
    "tags": TAGS,
}
ASSIGNMENT = {
    "principalType": "Group",
    "roleDefinitionId": role("Reader"),
    "scope": f"{SUBSCRIPTION}/resourceGroups/rg-example-prd",
}


def changed(properties: dict, path: str, new) -> dict:
    result = copy.deepcopy(properties)
    target = result
    *parents, last = path.split(".")
    for part in parents:
        target = target[part]
    target[last] = new
    return result


# rule id → (type, compliant properties, violating properties, environment)
FACTORY = "azure-native:datafactory:Factory"
AI_ACCOUNT = "azure-native:cognitiveservices:Account"
CASES = {
    "storage-https-only": ("azure-native:storage:StorageAccount", STORAGE, changed(STORAGE, "enableHttpsTrafficOnly", False), "dev"),
    "storage-no-public-blob-access": ("azure-native:storage:StorageAccount", STORAGE, changed(STORAGE, "allowBlobPublicAccess", True), "dev"),
    "storage-shared-key-disabled": ("azure-native:storage:StorageAccount", STORAGE, changed(STORAGE, "allowSharedKeyAccess", True), "dev"),
    "storage-tls-1-2": ("azure-native:storage:StorageAccount", STORAGE, changed(STORAGE, "minimumTlsVersion", "TLS1_0"), "dev"),
    "storage-network-deny-by-default": ("azure-native:storage:StorageAccount", STORAGE, changed(STORAGE, "networkRuleSet.defaultAction", "Allow"), "dev"),
    "storage-private-in-prod": ("azure-native:storage:StorageAccount", STORAGE, changed(STORAGE, "publicNetworkAccess", "Enabled"), "prod"),
    "storage-no-cross-tenant-replication": ("azure-native:storage:StorageAccount", STORAGE, changed(STORAGE, "allowCrossTenantReplication", True), "dev"),
    "storage-zone-redundant-in-prod": ("azure-native:storage:StorageAccount", STORAGE, changed(STORAGE, "sku.name", "Standard_LRS"), "prod"),
    "storage-blob-soft-delete": ("azure-native:storage:BlobServiceProperties", BLOB_SERVICE, changed(BLOB_SERVICE, "deleteRetentionPolicy.days", 1), "dev"),
    "storage-container-soft-delete": (
        "azure-native:storage:BlobServiceProperties", BLOB_SERVICE, changed(BLOB_SERVICE, "containerDeleteRetentionPolicy.enabled", False), "dev",
    ),
    "storage-blob-versioning": ("azure-native:storage:BlobServiceProperties", BLOB_SERVICE, changed(BLOB_SERVICE, "isVersioningEnabled", False), "dev"),
    "storage-container-private": ("azure-native:storage:BlobContainer", {"publicAccess": "None"}, {"publicAccess": "Blob"}, "dev"),
    "keyvault-rbac-mode": ("azure-native:keyvault:Vault", VAULT, changed(VAULT, "properties.enableRbacAuthorization", False), "dev"),
    "keyvault-purge-protection": ("azure-native:keyvault:Vault", VAULT, changed(VAULT, "properties.enablePurgeProtection", False), "dev"),
    "keyvault-soft-delete-retention": ("azure-native:keyvault:Vault", VAULT, changed(VAULT, "properties.softDeleteRetentionInDays", 7), "prod"),
    "keyvault-network-deny-by-default": ("azure-native:keyvault:Vault", VAULT, changed(VAULT, "properties.networkAcls.defaultAction", "Allow"), "dev"),
    "keyvault-private-in-prod": ("azure-native:keyvault:Vault", VAULT, changed(VAULT, "properties.publicNetworkAccess", "Enabled"), "prod"),
    "acr-admin-user-disabled": ("azure-native:containerregistry:Registry", REGISTRY, changed(REGISTRY, "adminUserEnabled", True), "dev"),
    "acr-anonymous-pull-disabled": ("azure-native:containerregistry:Registry", REGISTRY, changed(REGISTRY, "anonymousPullEnabled", True), "dev"),
    "acr-private-in-prod": ("azure-native:containerregistry:Registry", REGISTRY, changed(REGISTRY, "publicNetworkAccess", "Enabled"), "prod"),
    "aks-azure-rbac": ("azure-native:containerservice:ManagedCluster", AKS, changed(AKS, "aadProfile.enableAzureRBAC", False), "dev"),
    "aks-private-api-server-in-prod": (
        "azure-native:containerservice:ManagedCluster", AKS, changed(AKS, "apiServerAccessProfile", {"authorizedIPRanges": ["203.0.113.0/24"]}), "prod",
    ),
    "aks-api-server-allowlist": (
        "azure-native:containerservice:ManagedCluster", AKS, changed(AKS, "apiServerAccessProfile", {"authorizedIPRanges": []}), "dev",
    ),
    "aks-network-policy": ("azure-native:containerservice:ManagedCluster", AKS, changed(AKS, "networkProfile", {}), "dev"),
    "aks-no-public-node-ips": ("azure-native:containerservice:AgentPool", {"enableNodePublicIP": False}, {"name": "scoring", "enableNodePublicIP": True}, "dev"),
    "aks-no-admin-groups-in-prod": ("azure-native:containerservice:ManagedCluster", AKS, changed(AKS, "aadProfile.adminGroupObjectIDs", ["g"]), "prod"),
    "aks-workload-identity": ("azure-native:containerservice:ManagedCluster", AKS, changed(AKS, "securityProfile", {}), "dev"),
    "aks-azure-policy-addon": ("azure-native:containerservice:ManagedCluster", AKS, changed(AKS, "addonProfiles", {}), "dev"),
    "ml-private-in-prod": ("azure-native:machinelearningservices:Workspace", ML_WORKSPACE, changed(ML_WORKSPACE, "publicNetworkAccess", "Enabled"), "prod"),
    "ml-identity-based-datastores": (
        "azure-native:machinelearningservices:Workspace", ML_WORKSPACE, changed(ML_WORKSPACE, "systemDatastoresAuthMode", "accessKey"), "dev",
    ),
    "ml-high-business-impact": ("azure-native:machinelearningservices:Workspace", ML_WORKSPACE, changed(ML_WORKSPACE, "hbiWorkspace", False), "dev"),
    "ml-datastore-no-credentials": (
        "azure-native:machinelearningservices:Datastore",
        {"properties": {"credentials": {"credentialsType": "None"}}},
        {"properties": {"credentials": {"credentialsType": "AccountKey"}}},
        "dev",
    ),
    "ml-compute-scales-to-zero": (
        "azure-native:machinelearningservices:Compute", AML_COMPUTE, changed(AML_COMPUTE, "properties.properties.scaleSettings.minNodeCount", 2), "dev",
    ),
    "ml-compute-no-public-ip-in-prod": (
        "azure-native:machinelearningservices:Compute", AML_COMPUTE, changed(AML_COMPUTE, "properties.properties.enableNodePublicIp", True), "prod",
    ),
    "ml-compute-local-auth-disabled": (
        "azure-native:machinelearningservices:Compute", AML_COMPUTE, changed(AML_COMPUTE, "properties.disableLocalAuth", False), "dev",
    ),
    "ml-compute-no-public-ssh": (
        "azure-native:machinelearningservices:Compute", AML_COMPUTE, changed(AML_COMPUTE, "properties.properties.remoteLoginPortPublicAccess", "Enabled"), "dev",
    ),
    "databricks-no-public-ip": ("azure-native:databricks:Workspace", DATABRICKS, changed(DATABRICKS, "parameters.enableNoPublicIp.value", False), "dev"),
    "databricks-vnet-injection-in-prod": ("azure-native:databricks:Workspace", DATABRICKS, changed(DATABRICKS, "parameters.customVirtualNetworkId", {}), "prod"),
    "databricks-private-in-prod": ("azure-native:databricks:Workspace", DATABRICKS, changed(DATABRICKS, "publicNetworkAccess", "Enabled"), "prod"),
    "databricks-premium": ("azure-native:databricks:Workspace", DATABRICKS, changed(DATABRICKS, "sku.name", "standard"), "dev"),
    "databricks-cluster-autotermination": (
        "databricks:index/clusterPolicy:ClusterPolicy",
        {"definition": json.dumps({"autotermination_minutes": {"type": "fixed", "value": 30}})},
        {"definition": json.dumps({"autotermination_minutes": {"type": "unlimited"}})},
        "dev",
    ),
    "log-analytics-retention": ("azure-native:operationalinsights:Workspace", {"retentionInDays": 90, "tags": TAGS}, {"retentionInDays": 30, "tags": TAGS}, "prod"),
    "app-insights-local-auth-disabled": ("azure-native:applicationinsights:Component", {"disableLocalAuth": True, "tags": TAGS}, {"tags": TAGS}, "dev"),
    "tags-required": ("azure-native:resources:ResourceGroup", {"tags": TAGS}, {"tags": {"owner": "Team"}}, "prod"),
    "tags-valid-values": ("azure-native:resources:ResourceGroup", {"tags": TAGS}, {"tags": {**TAGS, "environment": "dev"}}, "prod"),
    "role-no-owner-for-humans": ("azure-native:authorization:RoleAssignment", ASSIGNMENT, changed(ASSIGNMENT, "roleDefinitionId", role("Owner")), "dev"),
    "role-no-human-write-in-prod": (
        "azure-native:authorization:RoleAssignment", ASSIGNMENT, changed(ASSIGNMENT, "roleDefinitionId", role("Storage Blob Data Contributor")), "prod",
    ),
    "role-no-subscription-scope": ("azure-native:authorization:RoleAssignment", ASSIGNMENT, changed(ASSIGNMENT, "scope", SUBSCRIPTION), "dev"),
    "role-no-privileged-roles": (
        "azure-native:authorization:RoleAssignment",
        changed(ASSIGNMENT, "principalType", "ServicePrincipal"),
        {**ASSIGNMENT, "principalType": "ServicePrincipal", "roleDefinitionId": role("User Access Administrator")},
        "dev",
    ),
    "subnet-no-default-outbound": ("azure-native:network:Subnet", {"defaultOutboundAccess": False}, {"defaultOutboundAccess": True}, "prod"),
    # Data Factory and Azure AI services (issue 14)
    "adf-managed-identity": (FACTORY, {"identity": {"type": "SystemAssigned"}}, {"identity": {"type": "None"}}, "dev"),
    "adf-private-in-prod": (FACTORY, {"publicNetworkAccess": "Disabled"}, {"publicNetworkAccess": "Enabled"}, "prod"),
    "ai-local-auth-disabled": (AI_ACCOUNT, {"properties": {"disableLocalAuth": True}}, {"properties": {"disableLocalAuth": False}}, "dev"),
    "ai-network-deny-by-default": (
        AI_ACCOUNT,
        {"properties": {"networkAcls": {"defaultAction": "Deny"}}},
        {"properties": {"networkAcls": {"defaultAction": "Allow"}}},
        "dev",
    ),
    "ai-private-in-prod": (
        AI_ACCOUNT,
        {"properties": {"publicNetworkAccess": "Disabled"}},
        {"properties": {"publicNetworkAccess": "Enabled"}},
        "prod",
    ),
    "ai-managed-identity": (AI_ACCOUNT, {"identity": {"type": "SystemAssigned"}}, {}, "dev"),
}

LOG_ANALYTICS_ID = f"{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/log-x"


def diagnostic(uri: str) -> Resource:
    return Resource("azure-native:monitor:DiagnosticSetting", "diag", {"resourceUri": uri, "workspaceId": LOG_ANALYTICS_ID})


VAULT_URI = f"{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-x"
LAKE_URI = f"{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/stlake"
AZUREML_EXTENSION = Resource(
    "azure-native:kubernetesconfiguration:Extension", "azureml", {"extensionType": "Microsoft.AzureML.Kubernetes", "clusterName": "aks-other"}
)
STACK_CASES = {
    # Local accounts may stay on only where the Azure ML extension needs them.
    "aks-local-accounts-disabled": (
        [
            Resource("azure-native:containerservice:ManagedCluster", "aks-x", AKS),
            Resource("azure-native:containerservice:ManagedCluster", "aks-other", changed(AKS, "disableLocalAccounts", False)),
            AZUREML_EXTENSION,
        ],
        [Resource("azure-native:containerservice:ManagedCluster", "aks-x", changed(AKS, "disableLocalAccounts", False)), AZUREML_EXTENSION],
    ),
    "diagnostics-on-every-service": (
        [Resource("azure-native:keyvault:Vault", "kv-x", VAULT), diagnostic(VAULT_URI)],
        [Resource("azure-native:keyvault:Vault", "kv-x", VAULT), diagnostic(VAULT_URI.replace("kv-x", "kv-other"))],
    ),
    # Each entry of the violating stack is narrower than 0.0.0.0/0, yet together they admit everything.
    "network-allowlists-bounded": (
        [
            Resource("azure-native:storage:StorageAccount", "stlake", {**STORAGE, "networkRuleSet": {"defaultAction": "Deny", "ipRules": [{"iPAddressOrRange": "203.0.113.0/24"}]}}),
            Resource("azure-native:keyvault:Vault", "kv-x", {**VAULT, "properties": {**VAULT["properties"], "networkAcls": {"defaultAction": "Deny", "ipRules": [{"value": "198.51.100.7"}]}}}),
            Resource("azure-native:containerservice:ManagedCluster", "aks-x", {"apiServerAccessProfile": {"authorizedIPRanges": ["203.0.113.0/24"]}}),
            Resource("databricks:index/ipAccessList:IpAccessList", "allow", {"listType": "ALLOW", "ipAddresses": ["203.0.113.0/24"]}),
        ],
        [
            Resource("azure-native:storage:StorageAccount", "stlake", {**STORAGE, "networkRuleSet": {"defaultAction": "Deny", "ipRules": [{"iPAddressOrRange": "0.0.0.0/1"}]}}),
            Resource("azure-native:keyvault:Vault", "kv-x", {**VAULT, "properties": {**VAULT["properties"], "networkAcls": {"defaultAction": "Deny", "ipRules": [{"value": "128.0.0.0/1"}]}}}),
        ],
    ),
    "diagnostics-on-lake-blob-service": (
        [Resource("azure-native:storage:StorageAccount", "stlake", {**STORAGE, "isHnsEnabled": True}), diagnostic(f"{LAKE_URI}/blobServices/default")],
        [Resource("azure-native:storage:StorageAccount", "stlake", {**STORAGE, "isHnsEnabled": True}), diagnostic(LAKE_URI)],
    ),
}


# Budgets and personal compute (issue 14).
COMPUTE_INSTANCE = {
    "properties": {
        "computeType": "ComputeInstance",
        "disableLocalAuth": True,
        "properties": {
            "idleTimeBeforeShutdown": "PT60M",
            "sshSettings": {"sshPublicAccess": "Disabled"},
            "personalComputeInstanceSettings": {"assignedUser": {"objectId": "66666666-6666-4666-8666-666666666666"}},
        },
    },
    "tags": TAGS,
}
BUDGET = {
    "scope": f"{SUBSCRIPTION}/resourceGroups/rg-example-prd",
    "notifications": {"actual-gte-80-percent": {"enabled": True, "threshold": 80, "contactEmails": ["a@example.com"]}},
}
CASES |= {
    "budget-alerts-owners": (
        "azure-native:consumption:Budget",
        BUDGET,
        changed(BUDGET, "notifications.actual-gte-80-percent.enabled", False),
        "dev",
    ),
    "ml-compute-instance-not-in-prod": (
        "azure-native:machinelearningservices:Compute",
        AML_COMPUTE,
        COMPUTE_INSTANCE,
        "prod",
    ),
    "ml-compute-instance-idle-shutdown": (
        "azure-native:machinelearningservices:Compute",
        COMPUTE_INSTANCE,
        changed(COMPUTE_INSTANCE, "properties.properties.idleTimeBeforeShutdown", None),
        "dev",
    ),
    "ml-compute-instance-ssh-disabled": (
        "azure-native:machinelearningservices:Compute",
        COMPUTE_INSTANCE,
        changed(COMPUTE_INSTANCE, "properties.properties.sshSettings.sshPublicAccess", "Enabled"),
        "dev",
    ),
    "ml-compute-instance-personal": (
        "azure-native:machinelearningservices:Compute",
        COMPUTE_INSTANCE,
        changed(COMPUTE_INSTANCE, "properties.properties.personalComputeInstanceSettings", {}),
        "dev",
    ),
}
STACK_CASES |= {
    "budget-on-every-environment": (
        [Resource("azure-native:resources:ResourceGroup", "rg-example-prd", {"tags": TAGS}), Resource("azure-native:consumption:Budget", "b", BUDGET)],
        [
            Resource("azure-native:resources:ResourceGroup", "rg-example-prd", {"tags": TAGS}),
            Resource("azure-native:consumption:Budget", "b", changed(BUDGET, "scope", f"{SUBSCRIPTION}/resourceGroups/rg-other")),
        ],
    ),
}


def test_there_are_at_least_thirty_rules_and_every_one_has_a_test_case():
    assert len(RULES) >= 30
    assert len(RULES_BY_ID) == len(RULES), "rule ids are unique"
    assert set(CASES) | set(STACK_CASES) == set(RULES_BY_ID)
    for rule in RULES:
        assert rule.severity in ("mandatory", "advisory") and rule.remediation and rule.title


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_resource_rule_passes_a_compliant_resource_and_catches_a_violating_one(rule_id):
    rule = RULES_BY_ID[rule_id]
    resource_type, compliant, violating, environment = CASES[rule_id]
    assert [v for v in check_resource(Resource(resource_type, "good", compliant), environment) if v.rule == rule_id] == []
    found = [v for v in check_resource(Resource(resource_type, "bad", violating), environment) if v.rule == rule_id]
    assert found, f"{rule_id} missed {violating}"
    violation = found[0]
    assert violation.severity == rule.severity and violation.resource == f"{resource_type} bad"
    assert violation.message and violation.remediation == rule.remediation


@pytest.mark.parametrize("rule_id", sorted(STACK_CASES))
def test_stack_rule_passes_a_compliant_stack_and_catches_a_violating_one(rule_id):
    compliant, violating = STACK_CASES[rule_id]
    assert [v for v in check_stack(compliant, "prod") if v.rule == rule_id] == []
    found = [v for v in check_stack(violating, "prod") if v.rule == rule_id]
    assert found and found[0].severity == RULES_BY_ID[rule_id].severity


def test_prod_only_rules_do_not_apply_in_dev():
    resource_type, _, violating, _ = CASES["aks-private-api-server-in-prod"]
    assert not [v for v in check_resource(Resource(resource_type, "aks", violating), "dev") if v.rule == "aks-private-api-server-in-prod"]
    _, _, writer, _ = CASES["role-no-human-write-in-prod"]
    assert not check_resource(Resource("azure-native:authorization:RoleAssignment", "ra", writer), "dev")


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_default_stacks_have_no_mandatory_violations(example_settings, environment):
    plan = plan_of(example_settings[environment])
    assert plan.policy.environment == environment
    assert plan.policy.mandatory_count == 0, [f.violation for f in plan.policy.blocking]
    assert plan.policy.passed


def test_staging_stack_has_no_mandatory_violations(example_data):
    example_data["environments"]["staging"] = None
    plan = plan_of(settings_from(example_data, "staging"))
    assert plan.policy.passed, [f.violation for f in plan.policy.blocking]


def run_cli(*arguments: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(list(arguments))
    return code, out.getvalue(), err.getvalue()


def test_turning_the_registry_admin_user_on_fails_the_plan(monkeypatch):
    """Break a default inside the real component path: the registry class the component
    instantiates now forces the admin user on, as a careless edit would."""
    import pulumi_azure_native as azure_native

    from dsplatform.infra.components import container_registry

    original = azure_native.containerregistry.Registry

    class RegistryWithAdminUser(original):
        def __init__(self, resource_name, *args, **kwargs):
            kwargs["admin_user_enabled"] = True
            super().__init__(resource_name, *args, **kwargs)

    monkeypatch.setattr(container_registry.azure_native.containerregistry, "Registry", RegistryWithAdminUser)
    code, out, err = run_cli("plan", str(EXAMPLE), "--env", "dev", "--format", "json")
    assert code == cli.EXIT_POLICY_VIOLATION == 3, err
    report = json.loads(out)["policy"]
    assert report["passed"] is False
    (finding,) = [f for f in report["findings"] if f["rule"] == "acr-admin-user-disabled"]
    assert finding["blocks"] and finding["resource"].startswith("azure-native:containerregistry:Registry cr")
    assert "mandatory guardrail" in err


def test_clean_plan_exits_zero_and_every_format_reports_the_policy():
    for output_format in ("table", "json", "markdown", "mermaid"):
        code, out, _ = run_cli("plan", str(EXAMPLE), "--env", "dev", "--format", output_format)
        assert code == 0
        assert "Guardrails passed" in out or '"passed": true' in out


def violating_registry() -> list[Resource]:
    _, _, violating, _ = CASES["acr-admin-user-disabled"]
    return [Resource("azure-native:containerregistry:Registry", "crexample", violating)]


def waiver(**overrides) -> WaiverTerms:
    terms = {
        "rule": "acr-admin-user-disabled",
        "reason": "legacy scanner needs the admin user until March",
        "approver": "security@example.com",
        "expires": date(2026, 12, 31),
    }
    return WaiverTerms(**(terms | overrides))


def test_waiver_accepts_a_violation_until_it_expires():
    report = apply_waivers(check_resource(violating_registry()[0], "prod"),  [waiver()], "prod", today=TODAY)
    assert report.passed and report.mandatory_count == 0
    (finding,) = report.waived
    assert finding.status == "waived until 2026-12-31"

    expired = apply_waivers(check_resource(violating_registry()[0], "prod"),  [waiver()], "prod", today=date(2027, 1, 1))
    assert not expired.passed and expired.mandatory_count == 1
    assert expired.findings[0].status == "waiver expired 2026-12-31"
    assert "expired" in expired.summary()


def test_waiver_scope_by_resource_and_environment():
    assert not apply_waivers(check_resource(violating_registry()[0], "prod"),  [waiver(resource="crother")], "prod", today=TODAY).passed
    assert apply_waivers(check_resource(violating_registry()[0], "prod"),  [waiver(resource="crexample")], "prod", today=TODAY).passed
    assert not apply_waivers(check_resource(violating_registry()[0], "prod"),  [waiver(environments=("dev",))], "prod", today=TODAY).passed


def test_project_file_waivers_reach_the_plan_report(example_data, monkeypatch):
    example_data["waivers"] = [
        {
            "rule": "aks-azure-policy-addon",
            "reason": "policy add-on clashes with the scoring admission webhook",
            "approver": "security@example.com",
            "expires": "2026-12-31",
            "environments": ["dev"],
        }
    ]
    settings = settings_from(example_data, "dev")
    assert settings.waiver_terms()[0].expires == date(2026, 12, 31)
    from dsplatform.infra.plan import policy_report, to_table

    plan = copy.deepcopy(plan_of(settings))
    cluster = next(r for r in plan.resources if r.type == "azure-native:containerservice:ManagedCluster")
    cluster.properties["addonProfiles"]["azurepolicy"]["enabled"] = False  # as if the add-on were switched off
    plan.policy = policy_report(plan, TODAY)
    assert plan.policy.passed and len(plan.policy.waived) == 1
    text = to_table(plan)
    assert "waived until 2026-12-31" in text and "security@example.com" in text
    plan.policy = policy_report(plan, date(2027, 1, 1))
    assert plan.policy.advisory_count == 1 and "waiver expired 2026-12-31" in to_table(plan)


def test_unknown_waiver_rule_is_a_validation_error(example_data):
    from dsplatform.infra.config import ProjectFileError, parse_project

    example_data["waivers"] = [{"rule": "acr-admin-user", "reason": "x" * 20, "approver": "a@example.com", "expires": "2027-01-01"}]
    with pytest.raises(ProjectFileError) as raised:
        parse_project(example_data)
    assert any(problem.startswith("waivers.0.rule:") and "acr-admin-user-disabled" in problem for problem in raised.value.problems)


def test_rule_catalogue_in_the_docs_is_generated_from_the_rules():
    docs = (INFRA.parent / "docs" / "guardrails.md").read_text(encoding="utf-8")
    assert catalogue_markdown() in docs, "regenerate: python -c 'from dsplatform.infra.guardrails import catalogue_markdown; print(catalogue_markdown())'"


# ----------------------------------------------------------------------------- the policy pack


def test_policy_pack_registers_one_policy_per_rule(monkeypatch):
    import pulumi_policy

    registered = {}

    class RecordingPack:
        def __init__(self, name, policies, enforcement_level=None, **_):
            registered.update(name=name, policies=policies, level=enforcement_level)

    monkeypatch.setattr(pulumi_policy, "PolicyPack", RecordingPack)
    runpy.run_path(str(INFRA / "policy" / "__main__.py"), run_name="__main__")
    policies = registered["policies"][: len(RULES)]  # the Azure constraints follow (test_constraints.py)
    assert [policy.name for policy in policies] == [rule.id for rule in RULES]
    for policy, rule in zip(policies, RULES, strict=True):
        expected = pulumi_policy.StackValidationPolicy if rule.is_stack_rule else pulumi_policy.ResourceValidationPolicy
        assert isinstance(policy, expected)
        assert policy.enforcement_level.value == rule.severity
    requirements = (INFRA / "policy" / "requirements.txt").read_text()
    assert "pulumi-policy==" in requirements and "-r policy/requirements.txt" in (INFRA / "requirements.txt").read_text()


def validate_with_pack(rule_id: str, resource_type: str, props: dict, stack: str, name: str = "registry", today: date = TODAY):
    from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs

    from dsplatform.infra.policy_pack import build_policies

    policy = next(policy for policy in build_policies(today=today) if policy.name == rule_id)
    reported = []
    args = ResourceValidationArgs(
        resource_type, props, f"urn:pulumi:{stack}::dsplatform::{resource_type}::{name}", name,
        PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), []), None,
    )
    policy.validate(args, lambda message, urn=None: reported.append(message))
    return reported


def test_pack_adapters_call_the_same_rules():
    _, compliant, violating, _ = CASES["acr-admin-user-disabled"]
    assert validate_with_pack("acr-admin-user-disabled", "azure-native:containerregistry:Registry", compliant, "example-dev") == []
    (message,) = validate_with_pack("acr-admin-user-disabled", "azure-native:containerregistry:Registry", violating, "example-dev")
    assert "adminUserEnabled" in message and "Fix:" in message
    _, _, public, _ = CASES["acr-private-in-prod"]
    assert validate_with_pack("acr-private-in-prod", "azure-native:containerregistry:Registry", public, "example-dev") == []
    assert validate_with_pack("acr-private-in-prod", "azure-native:containerregistry:Registry", public, "example-prod")


def test_pack_stack_policy_reports_a_service_without_diagnostics():
    from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions, StackValidationArgs

    from dsplatform.infra.policy_pack import build_policies

    options = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])

    def resource(resource_type: str, name: str, props: dict) -> PolicyResource:
        return PolicyResource(resource_type, props, f"urn:pulumi:example-prod::dsplatform::{resource_type}::{name}", name, options, None, None, [], {})

    policy = next(policy for policy in build_policies(today=TODAY) if policy.name == "diagnostics-on-every-service")
    reported = []
    vault = resource("azure-native:keyvault:Vault", "example-prod-key-vault-vault", {**VAULT, "vaultName": "kv-x"})
    policy.validate(StackValidationArgs([vault]), lambda message, urn=None: reported.append((message, urn)))
    assert len(reported) == 1 and reported[0][1] == vault.urn
    reported.clear()
    setting = resource("azure-native:monitor:DiagnosticSetting", "diag", {"resourceUri": VAULT_URI, "workspaceId": LOG_ANALYTICS_ID})
    policy.validate(StackValidationArgs([vault, setting]), lambda message, urn=None: reported.append((message, urn)))
    assert reported == []


def test_pack_honours_the_project_files_waivers(tmp_path, monkeypatch):
    from dsplatform.infra import policy_pack

    data = EXAMPLE.read_text().replace(
        "waivers: []",
        "waivers:\n  - rule: acr-admin-user-disabled\n    reason: legacy scanner needs it until March\n"
        "    approver: security@example.com\n    expires: 2026-12-31\n",
    )
    (tmp_path / "example.yaml").write_text(data)
    monkeypatch.setattr(policy_pack, "PROJECTS_DIRECTORY", tmp_path)
    policy_pack.waivers_for.cache_clear()
    _, _, violating, _ = CASES["acr-admin-user-disabled"]
    try:
        assert validate_with_pack("acr-admin-user-disabled", "azure-native:containerregistry:Registry", violating, "example-dev") == []
        (message,) = validate_with_pack(
            "acr-admin-user-disabled", "azure-native:containerregistry:Registry", violating, "example-dev", today=date(2027, 1, 1)
        )
        assert "expired on 2026-12-31" in message
    finally:
        policy_pack.waivers_for.cache_clear()


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rules_read_pulumi_policys_property_proxies(rule_id):
    """Inside `pulumi preview` the props are read-only Mapping/Sequence proxies, not dicts."""
    from pulumi_policy.proxy import unknown_checking_proxy

    _resource_type, compliant, violating, environment = CASES[rule_id]
    rule = RULES_BY_ID[rule_id]
    assert rule.check(unknown_checking_proxy(copy.deepcopy(compliant)), environment) == []
    assert rule.check(unknown_checking_proxy(copy.deepcopy(violating)), environment) == rule.check(violating, environment) != []
