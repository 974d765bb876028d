"""Security-relevant properties of each component, read from the resources' outputs under
Pulumi's mock runtime. Each test returns the Output it asserts in: `@pulumi.runtime.test`
waits only for the Output a test returns, so assertions inside an `apply` of one it did
not return would never run and the test would pass vacuously."""

from __future__ import annotations

import pulumi
import pytest

from dsplatform.infra.program import build

from .conftest import read, settings_from, use_mocks


@pytest.fixture
def dev(example_settings):
    use_mocks(example_settings["dev"])
    return example_settings["dev"]


@pytest.fixture
def prod(example_settings):
    use_mocks(example_settings["prod"])
    return example_settings["prod"]


@pulumi.runtime.test
def _lake(settings):
    lake = build(settings).lake
    account = lake.storage_account

    def check(values):
        hns, tls, public_blob, shared_key, https, network, sku = values
        assert hns is True
        assert tls == "TLS1_2"
        assert public_blob is False
        assert shared_key is False
        assert https is True
        assert read(network, "default_action") == "Deny"
        return read(sku, "name")

    return pulumi.Output.all(
        account.is_hns_enabled,
        account.minimum_tls_version,
        account.allow_blob_public_access,
        account.allow_shared_key_access,
        account.enable_https_traffic_only,
        account.network_rule_set,
        account.sku,
    ).apply(check)


def test_data_lake_is_hardened_in_dev(dev):
    _lake(dev)


def test_data_lake_is_hardened_in_prod(prod):
    _lake(prod)


def test_lake_has_soft_delete_versioning_and_private_containers(prod):
    @pulumi.runtime.test
    def run():
        lake = build(prod).lake

        def check(values):
            delete_policy, container_policy, versioning, *access = values
            assert read(delete_policy, "enabled") and read(delete_policy, "days") == 30
            assert read(container_policy, "enabled")
            assert versioning is True
            assert access == ["None", "None", "None"]

        return pulumi.Output.all(
            lake.blob_service.delete_retention_policy,
            lake.blob_service.container_delete_retention_policy,
            lake.blob_service.is_versioning_enabled,
            *(lake.containers[name].public_access for name in ("raw", "curated", "ml-artifacts")),
        ).apply(check)

    run()


def test_key_vault_uses_rbac_purge_protection_and_network_acls(prod):
    @pulumi.runtime.test
    def run():
        vault = build(prod).key_vault.vault

        def check(properties):
            assert read(properties, "enable_rbac_authorization") is True
            assert read(properties, "enable_purge_protection") is True
            assert read(properties, "enable_soft_delete") is True
            assert read(properties, "soft_delete_retention_in_days") == 90
            assert read(properties, "public_network_access") == "Disabled"
            assert read(properties, "network_acls.default_action") == "Deny"

        return vault.properties.apply(check)

    run()


def test_registry_has_no_admin_user_and_no_anonymous_pull(dev):
    @pulumi.runtime.test
    def run():
        registry = build(dev).registry.registry

        def check(values):
            admin, anonymous = values
            assert admin is False and anonymous is False

        return pulumi.Output.all(registry.admin_user_enabled, registry.anonymous_pull_enabled).apply(check)

    run()


def test_ml_workspace_is_linked_private_and_identity_based(prod):
    @pulumi.runtime.test
    def run():
        environment = build(prod)
        machine_learning = environment.machine_learning
        workspace = machine_learning.workspace

        def check(values):
            (key_vault, storage, registry, insights, vault_id, storage_id, registry_id, insights_id,
             auth_mode, public_access, identity, scale, local_auth, datastore) = values
            assert (key_vault, storage, registry, insights) == (vault_id, storage_id, registry_id, insights_id)
            assert auth_mode == "identity"
            assert public_access == "Disabled"
            assert read(identity, "type") == "SystemAssigned"
            assert read(scale, "min_node_count") == 0  # scales to zero: no cost while idle
            assert local_auth is True
            assert read(datastore, "credentials.credentials_type") == "None"
            assert read(datastore, "service_data_access_auth_identity") == "WorkspaceSystemAssignedIdentity"

        return pulumi.Output.all(
            workspace.key_vault,
            workspace.storage_account,
            workspace.container_registry,
            workspace.application_insights,
            environment.key_vault.vault.id,
            machine_learning.storage_account.id,
            environment.registry.registry.id,
            environment.foundation.application_insights.id,
            workspace.system_datastores_auth_mode,
            workspace.public_network_access,
            workspace.identity,
            machine_learning.cpu_cluster.properties.apply(lambda p: read(p, "properties.scale_settings")),
            machine_learning.cpu_cluster.properties.apply(lambda p: read(p, "disable_local_auth")),
            machine_learning.lake_datastore.properties,
        ).apply(check)

    run()


def test_ml_workspace_storage_is_not_the_hns_lake(prod):
    # Azure ML rejects a hierarchical-namespace default storage account.
    @pulumi.runtime.test
    def run():
        environment = build(prod)
        return pulumi.Output.all(
            environment.machine_learning.storage_account.is_hns_enabled,
            environment.machine_learning.storage_account.allow_shared_key_access,
        ).apply(lambda values: (assert_equal(values, [False, False])))

    run()


def assert_equal(actual, expected):
    assert actual == expected, (actual, expected)


def test_databricks_is_premium_vnet_injected_without_public_ip_in_prod(prod):
    @pulumi.runtime.test
    def run():
        environment = build(prod)
        workspace = environment.databricks.workspace

        def check(values):
            sku, parameters, public_access, nsg_rules, vnet_id, credential, connector_id = values
            assert read(sku, "name") == "premium"
            assert read(parameters, "enable_no_public_ip.value") is True
            assert read(parameters, "custom_virtual_network_id.value") == vnet_id
            assert read(parameters, "custom_public_subnet_name.value") == "snet-dbw-host"
            assert read(parameters, "custom_private_subnet_name.value") == "snet-dbw-container"
            assert public_access == "Disabled"
            assert nsg_rules == "NoAzureDatabricksRules"
            # Unity Catalog reaches the lake as the access connector's identity.
            assert read(credential, "access_connector_id") == connector_id

        return pulumi.Output.all(
            workspace.sku,
            workspace.parameters,
            workspace.public_network_access,
            workspace.required_nsg_rules,
            environment.network.virtual_network.id,
            environment.databricks_configuration.storage_credential.azure_managed_identity,
            environment.databricks.access_connector.id,
        ).apply(check)

    run()


def test_databricks_subnets_are_delegated_and_share_the_nsg(prod):
    @pulumi.runtime.test
    def run():
        network = build(prod).network

        def check(values):
            host_delegations, container_delegations, host_nsg, container_nsg, nsg_id = values
            for delegations in (host_delegations, container_delegations):
                assert [read(d, "service_name") for d in delegations] == ["Microsoft.Databricks/workspaces"]
            assert read(host_nsg, "id") == read(container_nsg, "id") == nsg_id

        return pulumi.Output.all(
            network.subnets["databricks_host"].delegations,
            network.subnets["databricks_container"].delegations,
            network.subnets["databricks_host"].network_security_group,
            network.subnets["databricks_container"].network_security_group,
            network.databricks_security_group.id,
        ).apply(check)

    run()


def test_databricks_workspace_configuration_uses_the_new_workspace(dev):
    @pulumi.runtime.test
    def run():
        environment = build(dev)
        configuration = environment.databricks_configuration

        def check(values):
            backend, metadata, vault_id, vault_uri, catalog, policy = values
            assert backend == "AZURE_KEYVAULT"
            assert read(metadata, "resource_id") == vault_id and read(metadata, "dns_name") == vault_uri
            assert catalog == "example_dev"
            import json

            definition = json.loads(policy)
            assert definition["autotermination_minutes"]["value"] == 30
            assert definition["custom_tags.project"]["value"] == "example"
            assert definition["node_type_id"]["values"] == ["Standard_DS3_v2"]

        return pulumi.Output.all(
            configuration.secret_scope.backend_type,
            configuration.secret_scope.keyvault_metadata,
            environment.key_vault.vault.id,
            environment.key_vault.vault_uri,
            configuration.catalog.name,
            configuration.cluster_policy.definition,
        ).apply(check)

    run()


def test_aks_uses_entra_rbac_workload_identity_and_autoscaling(prod):
    @pulumi.runtime.test
    def run():
        kubernetes = build(prod).kubernetes
        cluster = kubernetes.cluster

        def check(values):
            aad, local_disabled, oidc, security, pools, api_server, scoring_autoscale, issuer, subject = values
            assert read(aad, "managed") and read(aad, "enable_azure_rbac")
            assert read(aad, "admin_group_object_ids") in (None, [])  # no human cluster-admin in prod
            assert local_disabled is True
            assert read(oidc, "enabled") is True
            assert read(security, "workload_identity.enabled") is True
            assert read(pools, "0.mode") == "System" and read(pools, "0.enable_auto_scaling") is True
            assert read(api_server, "enable_private_cluster") is True
            assert scoring_autoscale is True
            assert issuer.startswith("https://") and subject == "system:serviceaccount:scoring:scoring"

        return pulumi.Output.all(
            cluster.aad_profile,
            cluster.disable_local_accounts,
            cluster.oidc_issuer_profile,
            cluster.security_profile,
            cluster.agent_pool_profiles,
            cluster.api_server_access_profile,
            kubernetes.scoring_pool.enable_auto_scaling,
            kubernetes.federated_credential.issuer,
            kubernetes.federated_credential.subject,
        ).apply(check)

    run()


def test_aks_is_attached_to_the_ml_workspace_as_kubernetes_compute(dev):
    @pulumi.runtime.test
    def run():
        environment = build(dev)
        compute = environment.kubernetes.machine_learning_compute

        def check(values):
            properties, cluster_id, extension_type = values
            assert read(properties, "compute_type") == "Kubernetes"
            assert read(properties, "resource_id") == cluster_id
            assert extension_type == "Microsoft.AzureML.Kubernetes"

        return pulumi.Output.all(
            compute.properties,
            environment.kubernetes.cluster.id,
            environment.kubernetes.azureml_extension.extension_type,
        ).apply(check)

    run()


def test_dev_services_answer_the_allowlist_only(dev):
    @pulumi.runtime.test
    def run():
        environment = build(dev)

        def check(values):
            storage_rules, vault_properties, api_server, ip_access_list = values
            assert [read(rule, "i_p_address_or_range") for rule in read(storage_rules, "ip_rules")] == ["203.0.113.0/24"]
            assert read(storage_rules, "default_action") == "Deny"
            assert [read(rule, "value") for rule in read(vault_properties, "network_acls.ip_rules")] == ["203.0.113.0/24"]
            assert read(vault_properties, "public_network_access") == "Enabled"
            # The office allowlist, plus the Azure ML control plane of westeurope and its pair.
            assert read(api_server, "authorized_ip_ranges") == ["203.0.113.0/24", "198.51.100.0/25", "198.51.100.128/25"]
            assert ip_access_list == ["203.0.113.0/24"]

        return pulumi.Output.all(
            environment.lake.storage_account.network_rule_set,
            environment.key_vault.vault.properties,
            environment.kubernetes.cluster.api_server_access_profile,
            environment.databricks_configuration.ip_access_list.ip_addresses,
        ).apply(check)

    run()


def test_switches_leave_services_out(example_data):
    example_data["features"] = {"databricks": False, "azureml": True, "aks": False}
    settings = settings_from(example_data, "dev")
    use_mocks(settings)

    @pulumi.runtime.test
    def run():
        environment = build(settings)
        assert environment.databricks is None and environment.kubernetes is None
        assert environment.databricks_configuration is None
        assert "databricksHost" not in environment.outputs and "aksClusterName" not in environment.outputs
        return environment.machine_learning.workspace.name.apply(lambda name: assert_equal(name, "mlw-example-dev"))

    run()


def test_every_resource_carries_the_required_tags(prod):
    @pulumi.runtime.test
    def run():
        environment = build(prod)
        tagged = [
            environment.foundation.resource_group,
            environment.lake.storage_account,
            environment.key_vault.vault,
            environment.registry.registry,
            environment.machine_learning.workspace,
            environment.databricks.workspace,
            environment.kubernetes.cluster,
        ]

        def check(all_tags):
            for tags in all_tags:
                assert {"owner", "cost-center", "data-classification", "project", "environment"} <= set(tags)
                assert tags["environment"] == "prod" and tags["project"] == "example"

        return pulumi.Output.all(*(resource.tags for resource in tagged)).apply(check)

    run()


def test_exports_resolve_with_the_unmodified_program(example_settings):
    # Aliases kept: exactly what `pulumi up` registers.
    settings = example_settings["prod"]
    use_mocks(settings, keep_aliases=True)

    @pulumi.runtime.test
    def run():
        outputs = build(settings).outputs

        def check(values):
            assert values["resourceGroupName"] == "rg-example-prd"
            assert values["keyVaultUri"] == f"https://{settings.names.key_vault}.vault.azure.net/"
            assert values["containerRegistryLoginServer"] == f"{settings.names.container_registry}.azurecr.io"
            assert values["lakeDfsEndpoint"] == f"https://{settings.names.storage_account}.dfs.core.windows.net/"
            assert values["databricksHost"].startswith("https://adb-") and values["databricksHost"].endswith(".azuredatabricks.net")
            assert values["aksClusterName"] == "aks-example-prd"
            assert values["mlWorkspaceId"].endswith("/Microsoft.MachineLearningServices/workspaces/mlw-example-prd")
            assert values["mlWorkspaceStudioUrl"].startswith("https://ml.azure.com/?wsid=/subscriptions/")
            assert values["databricksCatalog"] == "example_prod"
            # The same outputs are exported on the stack.
            root = pulumi.runtime.get_root_resource()
            assert set(values) <= set(root.outputs)

        return pulumi.Output.from_input(outputs).apply(check)

    run()


def test_pulumi_entry_point_reads_the_project_file_named_by_the_stack(example_settings):
    # What `pulumi up` runs: infra/__main__.py under stack example-prod.
    import runpy

    from .conftest import INFRA

    use_mocks(example_settings["prod"], keep_aliases=True)

    @pulumi.runtime.test
    def run():
        runpy.run_path(str(INFRA / "__main__.py"), run_name="__main__")
        outputs = pulumi.runtime.get_root_resource().outputs

        def check(values):
            resource_group, private, host = values
            assert resource_group == "rg-example-prd"
            assert private is True
            assert host.startswith("https://adb-")

        return pulumi.Output.all(
            outputs["resourceGroupName"], outputs["privateNetworking"], outputs["databricksHost"]
        ).apply(check)

    run()
