"""Azure constraints: the example meets every one in dev, staging and prod; each one is
broken on purpose by changing one property of a planned resource; and each finding of the
Azure review (issue 12) has a named test that the previous program fails."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from dsplatform import cli
from dsplatform.infra.constraints import CONSTRAINTS, CONSTRAINTS_BY_ID, ConstraintContext, catalogue_markdown, check_constraints
from dsplatform.infra.guardrails import Resource
from dsplatform.infra.roles import ROLE_DEFINITIONS
from dsplatform.vocabulary import EXIT_CONSTRAINT_VIOLATION, EXIT_INVALID, PAIRED_REGIONS

from .conftest import EXAMPLE, INFRA, plan_of, settings_from

ENVIRONMENTS = ("dev", "staging", "prod")
EXTENSION = "azure-native:kubernetesconfiguration:Extension"
CLUSTER = "azure-native:containerservice:ManagedCluster"
ML_WORKSPACE = "azure-native:machinelearningservices:Workspace"
ML_COMPUTE = "azure-native:machinelearningservices:Compute"
STORAGE = "azure-native:storage:StorageAccount"
SUBNET = "azure-native:network:Subnet"
ENDPOINT = "azure-native:network:PrivateEndpoint"
DATABRICKS = "azure-native:databricks:Workspace"
FACTORY = "azure-native:datafactory:Factory"
RUNTIME = "azure-native:datafactory:IntegrationRuntime"
AI_ACCOUNT = "azure-native:cognitiveservices:Account"


@pytest.fixture(scope="module")
def settings():
    data = yaml.safe_load(EXAMPLE.read_text())
    return {environment: settings_from(data, environment) for environment in ENVIRONMENTS}


@pytest.fixture(scope="module")
def plans(settings):
    return {environment: plan_of(settings[environment]) for environment in ENVIRONMENTS}


def resources_of(plan) -> list[Resource]:
    return [Resource(resource.type, resource.name, resource.properties) for resource in plan.resources]


def violated(resources, plan) -> set[str]:
    return {violation.rule for violation in check_constraints(resources, ConstraintContext.from_settings(plan.settings)).violations}


# ----------------------------------------------------------------------------- mutations


def set_path(properties: dict, path: str, new) -> None:
    parts = path.split(".")
    current = properties
    for part in parts[:-1]:
        current = current[int(part)] if isinstance(current, list) else current.setdefault(part, {})
    last = parts[-1]
    if isinstance(current, list):
        current[int(last)] = new
    else:
        current[last] = new


Select = Callable[[Resource, list[Resource]], bool]


def of_type(kind: str, where: Callable[[Resource], bool] = lambda resource: True) -> Select:
    return lambda resource, _: resource.type == kind and where(resource)


def ml_storage(resource: Resource, resources: list[Resource]) -> bool:
    workspaces = [r for r in resources if r.type == ML_WORKSPACE]
    return resource.type == STORAGE and any(str(w.properties["storageAccount"]).endswith("/" + resource.name) for w in workspaces)


def endpoint_for(group_id: str, target: Callable[[str], bool]) -> Select:
    def select(resource: Resource, _) -> bool:
        if resource.type != ENDPOINT:
            return False
        connection = resource.properties["privateLinkServiceConnections"][0]
        return group_id in connection["groupIds"] and target(connection["privateLinkServiceId"])

    return select


def role_on(role: str, scope: Select) -> Select:
    def select(resource: Resource, resources: list[Resource]) -> bool:
        if resource.type != "azure-native:authorization:RoleAssignment" or not resource.properties["roleDefinitionId"].endswith(
            ROLE_DEFINITIONS[role]
        ):
            return False
        return any(scope(other, resources) and resource.properties["scope"].endswith("/" + other.name) for other in resources)

    return select


def mutate(resources: list[Resource], select: Select, path: str, new) -> list[Resource]:
    """Change one property of every selected planned resource (at least one must match)."""
    changed, result = 0, []
    for resource in resources:
        if select(resource, resources):
            properties = copy.deepcopy(dict(resource.properties))
            set_path(properties, path, new)
            changed += 1
            result.append(Resource(resource.type, resource.name, properties))
        else:
            result.append(resource)
    assert changed, f"no planned resource matched for {path}"
    return result


OTHER_PRINCIPAL = str(uuid.UUID(int=7))
# constraint id -> (environment, which resource, property path, new value)
MUTATIONS = {
    "aml-aks-local-accounts-enabled": ("dev", of_type(CLUSTER), "disableLocalAccounts", True),
    "aml-aks-managed-identity": ("dev", of_type(CLUSTER), "identity.type", "None"),
    "aml-aks-control-plane-ranges": ("dev", of_type(CLUSTER), "apiServerAccessProfile.authorizedIPRanges", ["203.0.113.0/24"]),
    "aml-extension-https-certificate": ("dev", of_type(EXTENSION), "configurationSettings.allowInsecureConnections", "False"),
    "aml-extension-http-internal-only": ("dev", of_type(EXTENSION), "configurationSettings.inferenceRouterServiceType", "LoadBalancer"),
    "aml-extension-router-type": ("dev", of_type(EXTENSION), "configurationSettings.inferenceRouterServiceType", ""),
    "aml-extension-router-ha-nodes": ("dev", of_type(EXTENSION), "configurationSettings.inferenceRouterHA", "True"),
    "aml-kubernetes-namespace-exists": (
        "dev",
        of_type(ML_COMPUTE, lambda r: r.properties["properties"]["computeType"] == "Kubernetes"),
        "properties.properties.namespace",
        "scoring",
    ),
    "aml-managed-network-no-kubernetes": ("dev", of_type(ML_WORKSPACE), "managedNetwork", {"isolationMode": "AllowInternetOutbound"}),
    "aml-managed-network-outbound-to-data": ("prod", of_type(ML_WORKSPACE), "managedNetwork.outboundRules", {}),
    "aml-no-public-ip-needs-network": (
        "dev",
        of_type(ML_COMPUTE, lambda r: r.properties["properties"]["computeType"] == "AmlCompute"),
        "properties.properties.enableNodePublicIp",
        False,
    ),
    "aml-workspace-storage-no-hns": ("dev", ml_storage, "isHnsEnabled", True),
    "aml-shared-key-off-identity-datastores": ("dev", of_type(ML_WORKSPACE), "systemDatastoresAuthMode", "accessKey"),
    "aml-shared-key-off-data-roles": (
        "dev",
        role_on("Storage File Data Privileged Contributor", ml_storage),
        "roleDefinitionId",
        ROLE_DEFINITIONS["Reader"],
    ),
    "aml-private-workspace-endpoint": ("prod", endpoint_for("amlworkspace", lambda target: True), "privateLinkServiceConnections", []),
    "aml-studio-blob-and-file-endpoints": ("prod", endpoint_for("file", lambda target: True), "privateLinkServiceConnections", []),
    "databricks-injected-subnets-egress": ("prod", of_type(SUBNET, lambda r: r.name == "snet-dbw-host"), "natGateway", None),
    "databricks-injection-subnets-delegated": ("prod", of_type(SUBNET, lambda r: r.name == "snet-dbw-host"), "networkSecurityGroup", None),
    "databricks-injection-subnet-size": ("prod", of_type(SUBNET, lambda r: r.name == "snet-dbw-host"), "addressPrefix", "10.30.0.0/27"),
    "databricks-private-link-requirements": ("prod", of_type(DATABRICKS), "requiredNsgRules", "AllRules"),
    "databricks-browser-authentication": (
        "prod",
        endpoint_for("browser_authentication", lambda target: True),
        "privateLinkServiceConnections",
        [],
    ),
    "databricks-storage-firewall-needs-injection": ("dev", of_type(DATABRICKS), "parameters.customVirtualNetworkId", None),
    "databricks-provider-auth-pinned": ("dev", of_type("pulumi:providers:databricks"), "authType", None),
    "databricks-keyvault-scope-trusted-services": ("prod", of_type("azure-native:keyvault:Vault"), "properties.networkAcls.bypass", "None"),
    "databricks-keyvault-scope-rbac-role": (
        "prod",
        role_on("Key Vault Secrets User", of_type("azure-native:keyvault:Vault")),
        "principalId",
        OTHER_PRINCIPAL,
    ),
    "databricks-ip-access-list-not-empty": ("dev", of_type("databricks:index/ipAccessList:IpAccessList"), "ipAddresses", []),
    "databricks-hybrid-managed-resource-group": ("dev", of_type(DATABRICKS), "managedResourceGroupId", None),
    "aks-authorized-ranges-not-private": ("prod", of_type(CLUSTER), "apiServerAccessProfile.authorizedIPRanges", ["203.0.113.0/24"]),
    "aks-pool-names": ("prod", of_type(CLUSTER), "agentPoolProfiles.0.name", "System_Pool"),
    "aks-system-pool": ("prod", of_type(CLUSTER), "agentPoolProfiles.0.mode", "User"),
    "keyvault-soft-delete-range": ("dev", of_type("azure-native:keyvault:Vault"), "properties.softDeleteRetentionInDays", 3),
    "acr-premium-for-network-features": ("prod", of_type("azure-native:containerregistry:Registry"), "sku.name", "Standard"),
    "storage-private-needs-endpoint": ("dev", ml_storage, "publicNetworkAccess", "Disabled"),
    "dns-zone-matches-endpoint": (
        "prod",
        of_type("azure-native:network:PrivateDnsZoneGroup", lambda r: r.properties["privateEndpointName"].endswith("-vault")),
        "privateDnsZoneConfigs.0.privateDnsZoneId",
        "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/privateDnsZones/privatelink.wrong.net",
    ),
    "dns-zone-linked": (
        "prod",
        of_type(
            "azure-native:privatedns:VirtualNetworkLink", lambda r: r.properties["privateZoneName"] == "privatelink.vaultcore.azure.net"
        ),
        "privateZoneName",
        "privatelink.elsewhere.net",
    ),
    # Data Factory and Azure AI services (issue 14)
    "adf-name-rules": ("prod", of_type(FACTORY), "factoryName", "adf--example-prd-"),
    "adf-managed-runtime-needs-vnet": ("prod", of_type(RUNTIME), "properties.managedVirtualNetwork.referenceName", "elsewhere"),
    "adf-private-factory-runtime": ("prod", of_type(RUNTIME), "properties.type", "SelfHosted"),
    "adf-private-factory-endpoint": ("prod", endpoint_for("dataFactory", lambda target: True), "privateLinkServiceConnections", []),
    "adf-storage-event-subscription-role": (
        "dev",
        role_on("EventGrid EventSubscription Contributor", of_type(STORAGE, lambda r: r.properties.get("isHnsEnabled") is True)),
        "roleDefinitionId",
        ROLE_DEFINITIONS["Reader"],
    ),
    "ai-custom-subdomain": ("prod", of_type(AI_ACCOUNT), "properties.customSubDomainName", None),
    "ai-private-needs-endpoint": ("prod", endpoint_for("account", lambda target: True), "privateLinkServiceConnections", []),
}


# Budgets and personal compute (issue 14): the example's dev plan has a budget and one instance.
BUDGET = "azure-native:consumption:Budget"
INSTANCE = of_type("azure-native:machinelearningservices:Compute", lambda r: r.properties["properties"]["computeType"] == "ComputeInstance")
MUTATIONS |= {
    "budget-start-first-of-month": ("dev", of_type(BUDGET), "timePeriod.startDate", "2026-11-15T00:00:00Z"),
    "budget-amount-positive": ("prod", of_type(BUDGET), "amount", 0),
    "budget-notification-limits": ("dev", of_type(BUDGET), "notifications.actual-gte-80-percent.threshold", 1001),
    "budget-notification-recipients": ("dev", of_type(BUDGET), "notifications.actual-gte-100-percent.contactEmails", []),
    "compute-instance-name": ("dev", INSTANCE, "computeName", "ci-ends-dash-1"),
    "compute-instance-idle-shutdown-range": ("dev", INSTANCE, "properties.properties.idleTimeBeforeShutdown", "PT5M"),
    "compute-instance-no-public-ip-needs-network": ("dev", INSTANCE, "properties.properties.enableNodePublicIp", False),
}


def test_there_are_at_least_twenty_five_constraints_and_every_one_has_a_breaking_case():
    assert len(CONSTRAINTS) >= 25
    assert set(MUTATIONS) == set(CONSTRAINTS_BY_ID), "every constraint needs a mutation that breaks it (and no stale ones)"
    for constraint in CONSTRAINTS:
        source = constraint.source
        assert source.url.startswith("https://") and source.title and len(source.quote) > 20, constraint.id


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_example_meets_every_constraint_and_every_mandatory_guardrail(plans, environment):
    plan = plans[environment]
    assert plan.constraints.checked == len(CONSTRAINTS)
    assert plan.constraints.violations == [], plan.constraints.violations
    assert plan.policy.passed, [finding.violation for finding in plan.policy.blocking]


@pytest.mark.parametrize("constraint_id", sorted(MUTATIONS))
def test_each_constraint_catches_one_changed_property(plans, constraint_id):
    environment, select, path, new = MUTATIONS[constraint_id]
    plan = plans[environment]
    resources = resources_of(plan)
    assert constraint_id not in violated(resources, plan)
    assert constraint_id in violated(mutate(resources, select, path, new), plan)


def test_catalogue_in_the_docs_is_generated_from_the_constraints():
    text = (INFRA.parent / "docs" / "constraints.md").read_text()
    assert catalogue_markdown() in text, (
        "regenerate: python -c 'from dsplatform.infra.constraints import catalogue_markdown; print(catalogue_markdown())'"
    )


def test_plan_exits_with_the_constraint_code_and_no_waiver_helps(tmp_path, capsys):
    data = yaml.safe_load(EXAMPLE.read_text())
    del data["environments"]["dev"]["aks"]["azureml_control_plane_ip_ranges"]["northeurope"]
    path = tmp_path / "example.yaml"
    path.write_text(yaml.safe_dump(data))
    assert cli.main(["plan", str(path), "--env", "dev"]) == EXIT_CONSTRAINT_VIOLATION
    captured = capsys.readouterr()
    assert "Azure constraint" in captured.err and "aml-aks-control-plane-ranges" in captured.out
    assert cli.main(["request", "plan", str(path)]) == EXIT_CONSTRAINT_VIOLATION
    capsys.readouterr()
    data["waivers"] = [
        {
            "rule": "aml-aks-control-plane-ranges",
            "reason": "trying to waive an Azure limit",
            "approver": "security@example.com",
            "expires": "2099-01-01",
        }
    ]
    path.write_text(yaml.safe_dump(data))
    assert cli.main(["plan", str(path), "--env", "dev"]) == EXIT_INVALID
    assert "waivers.0.rule" in capsys.readouterr().err


def test_policy_pack_enforces_every_constraint_as_mandatory():
    from pulumi_policy import EnforcementLevel

    from dsplatform.infra.policy_pack import build_policies

    policies = {policy.name: policy for policy in build_policies()}
    for constraint in CONSTRAINTS:
        assert policies[f"constraint-{constraint.id}"].enforcement_level == EnforcementLevel.MANDATORY


# ----------------------------------------------------------------------------- the review's findings
# Each of these fails on the program before this change (its dev plan broke 9 constraints and
# its prod plan 13, among them every finding below).


def _one(plan, kind, where=lambda resource: True):
    (found,) = [resource for resource in plan.resources_of(kind) if where(resource)]
    return found


def test_finding_1_aks_local_accounts_stay_enabled_for_azure_ml(plans):
    dev_cluster = _one(plans["dev"], CLUSTER)
    assert _one(plans["dev"], EXTENSION).properties["clusterName"] == dev_cluster.name
    assert dev_cluster.properties["disableLocalAccounts"] is False
    for environment in ("staging", "prod"):  # no Azure ML extension there, so local accounts stay off
        assert not plans[environment].resources_of(EXTENSION)
        assert _one(plans[environment], CLUSTER).properties["disableLocalAccounts"] is True


def test_finding_2_azure_ml_extension_scores_inside_the_cluster_without_needing_a_certificate(plans):
    settings = _one(plans["dev"], EXTENSION).properties["configurationSettings"]
    # HTTP only where nothing outside the cluster can reach the router (ClusterIP), in dev only.
    assert settings["allowInsecureConnections"] == "True" and settings["inferenceRouterServiceType"] == "ClusterIP"
    assert settings["inferenceRouterHA"] == "False"
    assert "aml-extension-https-certificate" not in violated(resources_of(plans["dev"]), plans["dev"])


def test_finding_3_managed_network_workspaces_have_no_kubernetes_compute(plans):
    for environment in ("staging", "prod"):
        plan = plans[environment]
        assert _one(plan, ML_WORKSPACE).properties["managedNetwork"]["isolationMode"] == "AllowInternetOutbound"
        kinds = {compute.properties["properties"]["computeType"] for compute in plan.resources_of(ML_COMPUTE)}
        assert kinds == {"AmlCompute"}, kinds
    # Dev keeps Kubernetes compute: its workspace has no managed network.
    assert "managedNetwork" not in _one(plans["dev"], ML_WORKSPACE).properties


def test_finding_4_databricks_subnets_leave_through_a_nat_gateway(plans):
    for environment in ENVIRONMENTS:
        plan = plans[environment]
        (gateway,) = plan.resources_of("azure-native:network:NatGateway")
        assert gateway.properties["publicIpAddresses"], environment
        for name in ("snet-dbw-host", "snet-dbw-container"):
            subnet = _one(plan, SUBNET, lambda resource, name=name: resource.name == name)
            assert subnet.properties["defaultOutboundAccess"] is False
            assert subnet.properties["natGateway"]["id"].endswith("/natGateways/" + gateway.name)


def test_finding_5_databricks_configuration_is_its_own_stage_with_a_pinned_auth_type(plans, settings):
    from dsplatform.infra.plan import run_plan

    for environment in ENVIRONMENTS:
        (provider,) = plans[environment].resources_of("pulumi:providers:databricks")
        assert provider.properties["authType"] == "azure-cli"
    platform = run_plan(settings["prod"], stage="platform")
    assert not [resource for resource in platform.resources if resource.type.startswith(("databricks:", "pulumi:providers:databricks"))]
    assert platform.resources_of(DATABRICKS), "the platform stage still creates the workspace itself"
    assert platform.constraints.passed
    assert 'config.get("stage")' in (INFRA / "__main__.py").read_text()


def test_finding_6_dev_aks_admits_the_azure_ml_control_plane_of_both_paired_regions(plans, settings):
    cluster = _one(plans["dev"], CLUSTER)
    ranges = cluster.properties["apiServerAccessProfile"]["authorizedIPRanges"]
    configured = settings["dev"].settings.aks.azureml_control_plane_ip_ranges
    assert set(configured) == {"westeurope", PAIRED_REGIONS["westeurope"]}
    for blocks in configured.values():
        assert set(blocks) <= set(ranges)
    assert set(settings["dev"].settings.allowed_ip_ranges) <= set(ranges)


def test_finding_7_azure_ml_reaches_the_private_lake_and_its_keyless_storage(plans):
    for environment in ("staging", "prod"):
        plan = plans[environment]
        workspace = _one(plan, ML_WORKSPACE)
        (lake,) = [account for account in plan.resources_of(STORAGE) if account.properties["isHnsEnabled"]]
        rules = workspace.properties["managedNetwork"]["outboundRules"]
        targets = {
            (rule["destination"]["serviceResourceId"].rsplit("/", 1)[-1], rule["destination"]["subresourceTarget"])
            for rule in rules.values()
        }
        assert {(lake.name, "dfs"), (lake.name, "blob")} <= targets
    for environment in ENVIRONMENTS:
        plan = plans[environment]
        storage = workspace_storage = _one(plan, ML_WORKSPACE).properties["storageAccount"].rsplit("/", 1)[-1]
        granted = {(row.principal_type, row.role) for row in plan.role_assignments if row.scope == storage}
        assert ("ServicePrincipal", "Storage Blob Data Contributor") in granted, (environment, workspace_storage)
        assert ("ServicePrincipal", "Storage File Data Privileged Contributor") in granted
        assert any(principal_type == "Group" for principal_type, _ in granted)


def test_finding_8_dev_databricks_is_vnet_injected_behind_the_lake_firewall(plans):
    plan = plans["dev"]
    workspace = _one(plan, DATABRICKS)
    assert workspace.properties["parameters"]["customVirtualNetworkId"]["value"].endswith("/virtualNetworks/vnet-example-dev")
    assert workspace.properties["publicNetworkAccess"] == "Enabled"
    (lake,) = [account for account in plan.resources_of(STORAGE) if account.properties["isHnsEnabled"]]
    rules = lake.properties["networkRuleSet"]
    assert rules["defaultAction"] == "Deny"
    assert {rule["virtualNetworkResourceId"].rsplit("/", 1)[-1] for rule in rules["virtualNetworkRules"]} == {
        "snet-dbw-host",
        "snet-dbw-container",
    }
    assert rules["resourceAccessRules"][0]["resourceId"].endswith("/accessConnectors/dbac-example-dev")


def test_finding_9_lesser_risks_are_settled(plans, settings, monkeypatch):
    import pulumi_azure_native as azure_native

    from dsplatform.infra.plan import run_plan

    # Key Vault: dev keeps the shortest retention Azure allows, and name_suffix renames the
    # vault to step around a soft-deleted twin.
    vault = _one(plans["dev"], "azure-native:keyvault:Vault")
    assert vault.properties["properties"]["softDeleteRetentionInDays"] == 7
    renamed = settings["dev"].model_copy(update={"settings": settings["dev"].settings.model_copy(update={"name_suffix": "r2"})})
    assert renamed.names.key_vault != settings["dev"].names.key_vault
    # Inline system pool + separate user pool: the cluster ignores agentPoolProfiles changes;
    # the first compute waits out managed-network provisioning.
    seen: dict[str, object] = {}
    for cls, key in ((azure_native.containerservice.ManagedCluster, "cluster"), (azure_native.machinelearningservices.Compute, "compute")):
        original = cls.__init__

        def spy(self, resource_name, *args, original=original, key=key, **kwargs):
            seen.setdefault(key, []).append(kwargs.get("opts"))
            original(self, resource_name, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", spy)
    run_plan(settings["prod"])
    assert "agentPoolProfiles" in (seen["cluster"][0].ignore_changes or [])
    assert any(options.custom_timeouts and options.custom_timeouts.create == "60m" for options in seen["compute"])
    # Role propagation and managed-network provisioning are documented for the first deployment.
    infra_doc = (INFRA.parent / "docs" / "infra.md").read_text()
    assert "Role propagation" in infra_doc and "managed network" in infra_doc.lower()


def test_constraints_read_pulumi_policys_property_proxies(plans):
    """Inside `pulumi preview` the props are read-only proxies, not dicts."""
    from pulumi_policy.proxy import unknown_checking_proxy

    plan = plans["prod"]
    proxied = [Resource(r.type, r.name, unknown_checking_proxy(copy.deepcopy(dict(r.properties)))) for r in resources_of(plan)]
    assert violated(proxied, plan) == set()
    _, select, path, new = MUTATIONS["databricks-injected-subnets-egress"]
    broken = [Resource(r.type, r.name, unknown_checking_proxy(dict(r.properties))) for r in mutate(resources_of(plan), select, path, new)]
    assert "databricks-injected-subnets-egress" in violated(broken, plan)


def test_example_project_file_defines_three_environments_with_stack_files():
    data = yaml.safe_load(EXAMPLE.read_text())
    assert list(data["environments"]) == ["dev", "staging", "prod"]
    for environment in ENVIRONMENTS:
        assert (INFRA / f"Pulumi.example-{environment}.yaml").is_file()
    assert Path(EXAMPLE).is_file()
