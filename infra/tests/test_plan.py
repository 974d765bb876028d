"""The offline plan: the JSON contract, what prod shows, dev vs prod, determinism."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from dsplatform.infra.components.common import READ_ONLY_ROLES
from dsplatform.infra.plan import OFFLINE_NOTICE, run_plan, to_json, to_markdown, to_mermaid, to_table
from dsplatform.naming import NAME_RULES, PROJECT_SLUG_MAX_LENGTH, STORAGE_CONTAINERS

from .conftest import EXAMPLE, INFRA, plan_of, settings_from

EVERY_SERVICE = {
    "azure-native:resources:ResourceGroup",
    "azure-native:operationalinsights:Workspace",
    "azure-native:applicationinsights:Component",
    "azure-native:managedidentity:UserAssignedIdentity",
    "azure-native:storage:StorageAccount",
    "azure-native:storage:BlobContainer",
    "azure-native:keyvault:Vault",
    "azure-native:containerregistry:Registry",
    "azure-native:machinelearningservices:Workspace",
    "azure-native:machinelearningservices:Compute",
    "azure-native:machinelearningservices:Datastore",
    "azure-native:databricks:Workspace",
    "azure-native:databricks:AccessConnector",
    "azure-native:containerservice:ManagedCluster",
    "azure-native:containerservice:AgentPool",
    "azure-native:kubernetesconfiguration:Extension",
    "azure-native:authorization:RoleAssignment",
    "azure-native:monitor:DiagnosticSetting",
    "databricks:index/secretScope:SecretScope",
    "databricks:index/clusterPolicy:ClusterPolicy",
    "databricks:index/storageCredential:StorageCredential",
    "databricks:index/externalLocation:ExternalLocation",
    "databricks:index/catalog:Catalog",
    "databricks:index/schema:Schema",
    "databricks:index/grants:Grants",
    "databricks:index/directory:Directory",
}
PRIVATE_ONLY = {
    "azure-native:network:VirtualNetwork",
    "azure-native:network:Subnet",
    "azure-native:network:NetworkSecurityGroup",
    "azure-native:network:PrivateEndpoint",
    "azure-native:privatedns:PrivateZone",
}
# Plan resource type → the naming rule its Azure name must satisfy.
TYPE_RULES = {
    "azure-native:resources:ResourceGroup": "resource_group",
    "azure-native:operationalinsights:Workspace": "log_analytics_workspace",
    "azure-native:applicationinsights:Component": "application_insights",
    "azure-native:managedidentity:UserAssignedIdentity": "user_assigned_identity",
    "azure-native:keyvault:Vault": "key_vault",
    "azure-native:containerregistry:Registry": "container_registry",
    "azure-native:machinelearningservices:Workspace": "machine_learning_workspace",
    "azure-native:machinelearningservices:Compute": "machine_learning_compute",
    "azure-native:machinelearningservices:Datastore": "machine_learning_datastore",
    "azure-native:databricks:Workspace": "databricks_workspace",
    "azure-native:databricks:AccessConnector": "databricks_access_connector",
    "azure-native:containerservice:ManagedCluster": "aks_cluster",
    "azure-native:containerservice:AgentPool": "aks_user_pool",
    "azure-native:network:VirtualNetwork": "virtual_network",
    "azure-native:network:NetworkSecurityGroup": "network_security_group",
    "azure-native:network:NatGateway": "nat_gateway",
    "azure-native:network:PublicIPAddress": "nat_public_ip",
    "azure-native:managedidentity:FederatedIdentityCredential": "federated_identity_credential",
    "azure-native:storage:StorageAccount": "storage_account",
    "databricks:index/catalog:Catalog": "databricks_catalog",
}


def types_of(plan) -> set[str]:
    return {resource.type for resource in plan.resources}


def test_prod_plan_shows_every_service_and_the_databricks_configuration(prod_plan, dev_plan):
    # The Azure ML extension (Kubernetes compute) runs only where the workspace has no
    # managed network: dev. Prod serves Azure ML models from managed online endpoints.
    extension = "azure-native:kubernetesconfiguration:Extension"
    missing = (EVERY_SERVICE - {extension}) - types_of(prod_plan)
    assert not missing, missing
    assert extension not in types_of(prod_plan) and extension in types_of(dev_plan)


def test_prod_plan_is_private(prod_plan):
    assert types_of(prod_plan) >= PRIVATE_ONLY
    endpoints = {resource.properties["privateLinkServiceConnections"][0]["groupIds"][0] for resource in prod_plan.resources_of("azure-native:network:PrivateEndpoint")}
    assert {"blob", "dfs", "vault", "registry", "amlworkspace", "databricks_ui_api"} <= endpoints
    for token in (
        "azure-native:storage:StorageAccount",
        "azure-native:containerregistry:Registry",
        "azure-native:machinelearningservices:Workspace",
        "azure-native:databricks:Workspace",
        "azure-native:containerservice:ManagedCluster",
    ):
        for resource in prod_plan.resources_of(token):
            assert resource.properties["publicNetworkAccess"] == "Disabled", (token, resource.name)
    (vault,) = prod_plan.resources_of("azure-native:keyvault:Vault")
    assert vault.properties["properties"]["publicNetworkAccess"] == "Disabled"


def test_no_human_holds_a_write_role_in_prod(prod_plan):
    assert prod_plan.role_assignments, "a plan without role assignments would pass vacuously"
    assert prod_plan.human_write_assignments == []
    humans = [row for row in prod_plan.role_assignments if row.principal_type in ("Group", "User")]
    assert humans and all(row.role in READ_ONLY_ROLES for row in humans)
    # The CI service principal is the one that writes.
    assert any(row.principal == "sp-example-ci" and row.writes for row in prod_plan.role_assignments)


def test_dev_gives_the_data_science_group_contributor_roles(dev_plan):
    roles = {row.role for row in dev_plan.role_assignments if row.principal == "grp-example-data-science"}
    assert {"Storage Blob Data Contributor", "AzureML Data Scientist", "Contributor"} <= roles
    assert dev_plan.human_write_assignments


def test_workload_identity_gets_exactly_what_it_uses(prod_plan):
    roles = sorted(row.role for row in prod_plan.role_assignments if row.principal == "id-example-prd (managed identity)")
    # Blob and file data roles on the ML workspace's keyless storage too (jobs write there),
    # and calls to the project's AI services account (the example asks for one).
    assert roles == [
        "AcrPull", "Cognitive Services User", "Key Vault Secrets User", "Storage Blob Data Contributor",
        "Storage Blob Data Contributor", "Storage File Data Privileged Contributor",
    ]


def test_unity_catalog_grants_differ_between_dev_and_prod(dev_plan, prod_plan):
    def privileges(plan):
        (grants,) = [r for r in plan.resources_of("databricks:index/grants:Grants") if "catalog" in r.properties]
        return {grant["principal"]: set(grant["privileges"]) for grant in grants.properties["grants"]}

    assert "MODIFY" in privileges(dev_plan)["grp-example-data-science"]
    prod_privileges = privileges(prod_plan)["grp-example-data-science"]
    assert "SELECT" in prod_privileges and not prod_privileges & {"MODIFY", "CREATE_TABLE", "ALL_PRIVILEGES", "WRITE_VOLUME"}


def test_dev_is_public_behind_the_allowlist_and_cheaper(dev_plan, prod_plan):
    # Dev's only network pieces are the Databricks injection VNet: no private endpoints or zones.
    assert not {"azure-native:network:PrivateEndpoint", "azure-native:privatedns:PrivateZone"} & types_of(dev_plan)
    (lake,) = [r for r in dev_plan.resources_of("azure-native:storage:StorageAccount") if r.properties["isHnsEnabled"]]
    assert lake.properties["publicNetworkAccess"] == "Enabled"
    assert lake.properties["networkRuleSet"]["defaultAction"] == "Deny"
    assert lake.properties["networkRuleSet"]["ipRules"] == [{"action": "Allow", "iPAddressOrRange": "203.0.113.0/24"}]
    assert lake.properties["sku"]["name"] == "Standard_LRS"
    (prod_lake,) = [r for r in prod_plan.resources_of("azure-native:storage:StorageAccount") if r.properties["isHnsEnabled"]]
    assert prod_lake.properties["sku"]["name"] == "Standard_ZRS"
    (dev_registry,) = dev_plan.resources_of("azure-native:containerregistry:Registry")
    assert dev_registry.properties["sku"]["name"] == "Standard"
    (dev_cluster,) = dev_plan.resources_of("azure-native:containerservice:ManagedCluster")
    assert dev_cluster.properties["sku"]["tier"] == "Free"


def test_every_service_that_supports_it_sends_diagnostics_to_log_analytics(prod_plan):
    settings = prod_plan.resources_of("azure-native:monitor:DiagnosticSetting")
    (workspace,) = prod_plan.resources_of("azure-native:operationalinsights:Workspace")
    targets = set()
    for setting in settings:
        assert setting.properties["workspaceId"] == workspace.id
        targets.add(setting.properties["resourceUri"].split("/providers/", 1)[1].split("/")[1])
    assert {"vaults", "registries", "storageAccounts", "workspaces", "managedClusters", "components",
            "networkSecurityGroups", "virtualNetworks"} <= targets


def test_role_dependent_resources_wait_for_their_roles(prod_plan):
    by_urn = {resource.urn: resource for resource in prod_plan.resources}
    (scope,) = prod_plan.resources_of("databricks:index/secretScope:SecretScope")
    waited = [by_urn[urn] for urn in scope.dependencies if urn in by_urn]
    descriptions = {r.properties.get("description") for r in waited if r.type.endswith(":RoleAssignment")}
    assert "AzureDatabricks (first-party application) -> Key Vault Secrets User -> kv-example-prd-" + prod_plan.settings.names.key_vault.rsplit("-", 1)[1] in descriptions
    (datastore,) = prod_plan.resources_of("azure-native:machinelearningservices:Datastore")
    assert any(by_urn[urn].type.endswith(":RoleAssignment") for urn in datastore.dependencies if urn in by_urn)


def test_json_contract(prod_plan):
    document = json.loads(to_json(prod_plan))
    assert document["offline"] is True and "Nothing was sent to Azure" in document["notice"]
    assert len(document["resources"]) == len(prod_plan.resources) > 50
    for resource in document["resources"]:
        assert {"type", "name", "properties"} <= set(resource)
        assert ":" in resource["type"]
        assert isinstance(resource["properties"], dict)
        # The Azure name, never Pulumi's logical name.
        assert resource["name"] != resource["logicalName"], resource
    names = {(r["type"], r["name"]) for r in document["resources"]}
    assert ("azure-native:keyvault:Vault", prod_plan.settings.names.key_vault) in names
    assert ("azure-native:storage:StorageAccount", prod_plan.settings.names.storage_account) in names
    assert document["humanWriteAssignments"] == []


def test_every_planned_name_is_valid_for_the_longest_slug(example_data):
    example_data["project"] = "a" * 11 + "-" + "b" * 12
    assert len(example_data["project"]) == PROJECT_SLUG_MAX_LENGTH
    plan = plan_of(settings_from(example_data, "prod"))
    checked = 0
    for resource in plan.resources:
        rule = TYPE_RULES.get(resource.type)
        if rule:
            assert NAME_RULES[rule].problems(resource.name) == [], (resource.type, resource.name)
            checked += 1
    assert checked >= len(TYPE_RULES)
    containers = sorted(r.name for r in plan.resources_of("azure-native:storage:BlobContainer"))
    assert containers == sorted(STORAGE_CONTAINERS)


def test_exports_in_the_plan(prod_plan):
    outputs = prod_plan.outputs
    for key in ("mlWorkspaceId", "mlWorkspaceStudioUrl", "databricksHost", "databricksWorkspaceId", "lakeDfsEndpoint",
                "lakeBlobEndpoint", "containerRegistryLoginServer", "keyVaultUri", "aksClusterName"):
        assert outputs.get(key), key
    assert outputs["privateNetworking"] is True


def test_text_formats_say_the_plan_is_offline_and_list_roles(prod_plan):
    table, markdown, mermaid = to_table(prod_plan), to_markdown(prod_plan), to_mermaid(prod_plan)
    for text in (table, markdown, mermaid):
        assert OFFLINE_NOTICE in " ".join(text.split())  # the table wraps it at 120 columns
    assert "human principals with a write role: none" in table
    assert "grp-example-data-science" in table and "Storage Blob Data Reader" in table
    assert "```mermaid" in markdown and "| principal |" in markdown
    assert mermaid.splitlines()[1] == "flowchart LR"
    assert " --> " in mermaid and "subgraph" in mermaid and "dbw-example-prd" in mermaid


def test_the_same_input_gives_byte_identical_output(example_settings):
    settings = example_settings["prod"]
    first, second = run_plan(settings), run_plan(settings)
    assert to_json(first) == to_json(second)
    assert to_mermaid(first) == to_mermaid(second)
    assert to_table(first) == to_table(second)


def test_a_fresh_process_gives_the_same_bytes(prod_plan):
    # Another process with another hash seed: catches ordering that depends on set or dict hashing.
    environment = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-m", "dsplatform.cli", "plan", str(EXAMPLE), "--env", "prod", "--format", "json"],
        capture_output=True,
        check=False,
        text=True,
        cwd=INFRA,
        env=environment,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == to_json(prod_plan)


def test_private_aks_gets_its_subnet_role_before_the_cluster_exists(prod_plan, dev_plan):
    by_urn = {resource.urn: resource for resource in prod_plan.resources}
    (cluster,) = prod_plan.resources_of("azure-native:containerservice:ManagedCluster")
    assert cluster.properties["identity"]["type"] == "UserAssigned"
    waited = [by_urn[urn].properties.get("description", "") for urn in cluster.dependencies if urn in by_urn]
    assert any("Network Contributor -> vnet-example-prd/snet-aks" in description for description in waited), waited
    (dev_cluster,) = dev_plan.resources_of("azure-native:containerservice:ManagedCluster")
    assert dev_cluster.properties["identity"]["type"] == "SystemAssigned"  # no custom subnet in dev


def test_mermaid_draws_the_diagram_without_a_fan(prod_plan):
    mermaid = to_mermaid(prod_plan)
    node_ids = {}
    for line in mermaid.splitlines():
        stripped = line.strip()
        if '["' in stripped and not stripped.startswith("subgraph"):
            node_id, label = stripped.split('["', 1)
            node_ids[label.rstrip('"]').split("<br/>")[0]] = node_id
    names = prod_plan.settings.names
    workspace, host_subnet = node_ids[names.databricks_workspace], node_ids["snet-dbw-host"]
    # VNet injection: the Databricks workspace uses its host subnet.
    assert f"  {workspace} --> {host_subnet}" in mermaid.splitlines()
    # A private endpoint points at what it exposes; the resource group is the frame, not a node.
    assert names.resource_group not in node_ids and f'subgraph frame["resource group {names.resource_group}' in mermaid
    edges = [line.split() for line in mermaid.splitlines() if line.startswith("  n") and ("-->" in line or "-.->" in line)]
    assert any("|private" in "".join(edge) for edge in edges)
    sources = [edge[0] for edge in edges]
    assert max(sources.count(source) for source in set(sources)) <= 8  # main's graph fanned ~60 edges out of one node
