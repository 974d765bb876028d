"""Data Factory and Azure AI services (issue 14): opted into per project, secure by
construction, holding only the roles they use, and refused when asked for inconsistently.

Read from the offline plan (the program under mocks), so what is asserted is what
`dsplatform plan` shows and `pulumi up` would send."""

from __future__ import annotations

import copy

import pytest
import yaml

from dsplatform.infra.components.access import planned_grants
from dsplatform.infra.config import ProjectFileError, parse_project
from dsplatform.infra.roles import ROLE_DEFINITIONS, ROLE_NAMES_BY_ID
from dsplatform.naming import LANDING_CONTAINER, NAME_RULES, resource_names
from dsplatform.vocabulary import ENVIRONMENTS

from .conftest import EXAMPLE, INFRA, plan_of, settings_from

FACTORY = "azure-native:datafactory:Factory"
RUNTIME = "azure-native:datafactory:IntegrationRuntime"
MANAGED_ENDPOINT = "azure-native:datafactory:ManagedPrivateEndpoint"
GENERIC = "azure-native:resources:Resource"
ACCOUNT = "azure-native:cognitiveservices:Account"
ENDPOINT = "azure-native:network:PrivateEndpoint"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"


@pytest.fixture(scope="module")
def plans(example_settings):
    return {environment: plan_of(example_settings[environment]) for environment in ("dev", "prod")}


def one(plan, kind):
    found = plan.resources_of(kind)
    assert len(found) == 1, [resource.name for resource in found]
    return found[0]


def roles_held_by(plan, principal_id: str) -> set[tuple[str, str]]:
    """(role, last scope segment) of every assignment to one principal."""
    return {
        (ROLE_NAMES_BY_ID[a.properties["roleDefinitionId"].rsplit("/", 1)[-1]], a.properties["scope"].rsplit("/", 1)[-1])
        for a in plan.resources_of(ASSIGNMENT)
        if a.properties["principalId"] == principal_id
    }


def roles_on(plan, scope_name: str) -> set[tuple[str, str]]:
    return {
        (ROLE_NAMES_BY_ID[a.properties["roleDefinitionId"].rsplit("/", 1)[-1]], a.properties["principalId"])
        for a in plan.resources_of(ASSIGNMENT)
        if a.properties["scope"].rsplit("/", 1)[-1] == scope_name
    }


# ----------------------------------------------------------------------------- Data Factory


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_factory_has_its_identity_its_runtime_and_managed_endpoints(plans, environment):
    plan = plans[environment]
    names = plan.settings.names
    factory = one(plan, FACTORY)
    assert factory.name == names.data_factory
    assert factory.properties["identity"]["type"] == "SystemAssigned"
    assert factory.properties["publicNetworkAccess"] == ("Disabled" if environment == "prod" else "Enabled")
    vnet = one(plan, GENERIC)
    assert (vnet.properties["resourceType"], vnet.name, vnet.properties["parentResourcePath"]) == (
        "managedVirtualNetworks",
        "default",
        f"factories/{names.data_factory}",
    )
    runtime = one(plan, RUNTIME)
    assert runtime.name == names.data_factory_integration_runtime
    assert runtime.properties["properties"]["managedVirtualNetwork"]["referenceName"] == "default"
    targets = {
        (endpoint.properties["properties"]["groupId"], endpoint.properties["properties"]["privateLinkResourceId"].rsplit("/", 1)[-1])
        for endpoint in plan.resources_of(MANAGED_ENDPOINT)
    }
    assert targets == {("blob", names.storage_account), ("amlworkspace", names.machine_learning_workspace)}
    portal = [e for e in plan.resources_of(ENDPOINT) if e.properties["privateLinkServiceConnections"][0]["groupIds"] == ["dataFactory"]]
    assert len(portal) == (1 if environment == "prod" else 0)


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_factory_identity_holds_only_what_it_uses(plans, environment):
    plan = plans[environment]
    names = plan.settings.names
    principal = one(plan, FACTORY).state["identity"]["principalId"]
    assert roles_held_by(plan, principal) == {
        ("AzureML Data Scientist", names.machine_learning_workspace),
        ("Storage Blob Data Reader", LANDING_CONTAINER),
    }


def test_ci_can_publish_the_factory_and_subscribe_its_trigger(plans):
    plan = plans["prod"]
    ci = plan.settings.principals.ci_service_principal.object_id
    held = roles_held_by(plan, ci)
    assert ("Data Factory Contributor", plan.settings.names.data_factory) in held
    assert ("EventGrid EventSubscription Contributor", plan.settings.names.storage_account) in held


def test_people_author_the_factory_in_dev_only(example_data):
    for environment, expected in (("dev", True), ("staging", False), ("prod", False)):
        grants = planned_grants(settings_from(example_data, environment))
        people = {(g.role, g.scope) for g in grants if g.principal == "data_science_group"}
        assert (("Data Factory Contributor", "data_factory") in people) is expected, environment


def test_factory_needs_azureml(example_data):
    data = copy.deepcopy(example_data)
    data["features"]["azureml"] = False
    with pytest.raises(ProjectFileError) as raised:
        parse_project(data)
    lines = [line for line in raised.value.lines if "data_factory" in line]
    assert len(lines) == 1 and "features" in lines[0] and "azureml" in lines[0], raised.value.lines
    assert "\n" not in lines[0]


def test_services_are_off_unless_asked_for(example_data):
    data = copy.deepcopy(example_data)
    del data["features"]["data_factory"], data["features"]["ai_services"]
    plan = plan_of(settings_from(data, "dev"))
    kinds = {resource.type for resource in plan.resources}
    assert not kinds & {FACTORY, RUNTIME, MANAGED_ENDPOINT, GENERIC, ACCOUNT}
    roles = {ROLE_NAMES_BY_ID[a.properties["roleDefinitionId"].rsplit("/", 1)[-1]] for a in plan.resources_of(ASSIGNMENT)}
    assert not roles & {"Data Factory Contributor", "EventGrid EventSubscription Contributor", "Cognitive Services User"}


# ----------------------------------------------------------------------------- Azure AI services


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_ai_services_account_is_entra_only_with_its_subdomain(plans, environment):
    plan = plans[environment]
    names = plan.settings.names
    account = one(plan, ACCOUNT)
    properties = account.properties["properties"]
    assert (account.name, account.properties["kind"]) == (names.ai_services, "AIServices")
    assert properties["disableLocalAuth"] is True
    assert properties["customSubDomainName"] == names.ai_services_subdomain
    assert properties["networkAcls"]["defaultAction"] == "Deny"
    private = environment == "prod"
    assert properties["publicNetworkAccess"] == ("Disabled" if private else "Enabled")
    assert [rule["value"] for rule in properties["networkAcls"]["ipRules"]] == ([] if private else plan.settings.settings.allowed_ip_ranges)
    endpoints = [e for e in plan.resources_of(ENDPOINT) if e.properties["privateLinkServiceConnections"][0]["groupIds"] == ["account"]]
    assert len(endpoints) == (1 if private else 0)
    zones = {zone.name for zone in plan.resources_of("azure-native:privatedns:PrivateZone")}
    assert ("privatelink.cognitiveservices.azure.com" in zones) is private
    diagnosed = {d.properties["resourceUri"].rsplit("/", 1)[-1] for d in plan.resources_of("azure-native:monitor:DiagnosticSetting")}
    assert {names.ai_services, names.data_factory} <= diagnosed


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_only_the_workload_identity_may_call_ai_services(plans, environment):
    plan = plans[environment]
    (identity,) = [i for i in plan.resources_of("azure-native:managedidentity:UserAssignedIdentity") if i.name == plan.settings.names.user_assigned_identity]
    workload = identity.state["principalId"]
    assert roles_on(plan, plan.settings.names.ai_services) == {("Cognitive Services User", workload)}


# ----------------------------------------------------------------------------- names


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("slug", ["abc", "a-very-long-project-nam", "x1-y2-z3"])
def test_new_names_follow_azures_rules_and_stay_unique(slug, environment):
    names = resource_names(slug, environment)
    for key in ("data_factory", "data_factory_integration_runtime", "ai_services", "ai_services_subdomain"):
        assert NAME_RULES[key].problems(getattr(names, key)) == [], key
    assert len({resource_names(slug, env).data_factory for env in ENVIRONMENTS}) == len(ENVIRONMENTS)


def test_factory_name_rule_refuses_what_azure_refuses():
    rule = NAME_RULES["data_factory"]
    for bad in ("ab", "adf--x", "-adf", "adf-", "adf_x", "a" * 64):
        assert rule.problems(bad), bad


def test_new_roles_are_built_in_role_ids():
    for role in ("Data Factory Contributor", "EventGrid EventSubscription Contributor", "Cognitive Services User"):
        assert len(ROLE_DEFINITIONS[role]) == 36


# ----------------------------------------------------------------------------- shared test AKS

PLATFORM = INFRA / "projects" / "platform-test-aks.yaml"
NAMESPACE = "azure-native:containerservice:ManagedNamespace"


@pytest.fixture(scope="module")
def staging_plan(example_settings):
    return plan_of(settings_from(yaml.safe_load(EXAMPLE.read_text()), "staging"))


def test_a_referencing_stack_gets_its_namespace_and_ci_roles_there_only(staging_plan):
    cluster = resource_names("platform-test-aks", "dev")
    namespace = one(staging_plan, NAMESPACE)
    assert (namespace.name, namespace.properties["resourceName"], namespace.properties["resourceGroupName"]) == (
        "example",
        cluster.aks_cluster,
        cluster.resource_group,
    )
    assert namespace.properties["properties"]["defaultNetworkPolicy"]["ingress"] == "AllowSameNamespace"
    ci = staging_plan.settings.principals.ci_service_principal.object_id
    cluster_id_end = f"/managedClusters/{cluster.aks_cluster}"
    scoped = {
        (ROLE_NAMES_BY_ID[a.properties["roleDefinitionId"].rsplit("/", 1)[-1]], a.properties["scope"].split(cluster_id_end, 1)[1])
        for a in staging_plan.resources_of(ASSIGNMENT)
        if cluster_id_end in a.properties["scope"]
    }
    assert scoped == {("Azure Kubernetes Service Cluster User Role", ""), ("Azure Kubernetes Service RBAC Writer", "/namespaces/example")}
    assert all(
        a.properties["principalId"] == ci for a in staging_plan.resources_of(ASSIGNMENT) if cluster_id_end in a.properties["scope"]
    )
    assert staging_plan.constraints.violations == [] and staging_plan.policy.passed


def test_stacks_without_the_reference_touch_no_shared_cluster(plans):
    for plan in plans.values():
        assert plan.resources_of(NAMESPACE) == []


def test_a_bad_reference_is_one_line_naming_the_field(example_data):
    data = copy.deepcopy(example_data)
    data["environments"]["staging"] = {"shared_test_aks": {"project": "Platform Test"}}
    with pytest.raises(ProjectFileError) as raised:
        parse_project(data)
    lines = [line for line in raised.value.lines if "shared_test_aks" in line]
    assert len(lines) == 1 and "environments.staging.shared_test_aks.project" in lines[0], raised.value.lines


def test_the_platform_test_cluster_has_productions_compute(example_settings):
    platform = settings_from(yaml.safe_load(PLATFORM.read_text()), "dev")
    production = example_settings["prod"].settings.aks
    assert platform.settings.aks.system_pool == production.system_pool
    assert platform.settings.aks.user_pool == production.user_pool
    assert platform.settings.private_networking is True
    plan = plan_of(platform)
    cluster = one(plan, "azure-native:containerservice:ManagedCluster")
    assert cluster.name == resource_names("platform-test-aks", "dev").aks_cluster
    # The platform cluster hosts no Azure ML extension, so its local accounts stay off.
    assert cluster.properties["disableLocalAccounts"] is True
    assert cluster.properties["aadProfile"]["enableAzureRBAC"] is True
    assert plan.constraints.violations == [] and plan.policy.passed
