"""The Pulumi program body, shared by `pulumi up` (through infra/__main__.py) and the
offline plan (under Pulumi's mock runtime), so that what the plan shows is what deploys.

It is also the one place that reads StackSettings for the components: each component gets
an Args object holding only what it uses (names, tags, location, the resolved flags such as
`private` and `production`, the allowlist, ids of other resources), as pulumi/examples'
`VpcArgs` (gcp-py-network-component) and `HubProps` (azure-py-virtual-data-center) do.
Whether the environment is private is read once here (StackSettings.is_private) and passed
on, so no two components can work it out differently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pulumi
import pulumi_azure_native as azure_native

from dsplatform.infra.components.access import Access, AccessArgs, planned_grants
from dsplatform.infra.components.ai_services import AIServices, AIServicesArgs
from dsplatform.infra.components.budget import BudgetArgs, EnvironmentBudget, first_of_month
from dsplatform.infra.components.container_registry import ContainerRegistry, ContainerRegistryArgs
from dsplatform.infra.components.data_factory import DataFactory, DataFactoryArgs
from dsplatform.infra.components.data_lake import DataLake, DataLakeArgs
from dsplatform.infra.components.databricks import (
    DatabricksWorkspace,
    DatabricksWorkspaceArgs,
    DatabricksWorkspaceConfiguration,
    DatabricksWorkspaceConfigurationArgs,
)
from dsplatform.infra.components.foundation import Foundation, FoundationArgs
from dsplatform.infra.components.key_vault import KeyVault, KeyVaultArgs
from dsplatform.infra.components.kubernetes import KubernetesCluster, KubernetesClusterArgs
from dsplatform.infra.components.machine_learning import MachineLearningWorkspace, MachineLearningWorkspaceArgs
from dsplatform.infra.components.network import Network, NetworkArgs
from dsplatform.infra.components.personal_compute import (
    DataProductAccess,
    DataProductAccessArgs,
    DataProductGrant,
    Person,
    PersonalCompute,
    PersonalComputeArgs,
)
from dsplatform.infra.components.shared_test_aks import SharedTestAksArgs, SharedTestAksNamespace
from dsplatform.infra.config.schema import StackSettings
from dsplatform.naming import budget_name


@dataclass
class Environment:
    """Every component of one project environment, for tests and the plan to inspect."""

    settings: StackSettings
    foundation: Foundation
    network: Network | None  # the private network (None in public environments)
    lake: DataLake
    key_vault: KeyVault
    registry: ContainerRegistry
    machine_learning: MachineLearningWorkspace | None
    databricks: DatabricksWorkspace | None
    databricks_configuration: DatabricksWorkspaceConfiguration | None
    kubernetes: KubernetesCluster | None
    access: Access
    outputs: dict[str, pulumi.Output]
    budget: EnvironmentBudget | None = None
    personal_compute: PersonalCompute | None = None
    data_products: DataProductAccess | None = None
    data_factory: DataFactory | None = None
    ai_services: AIServices | None = None
    shared_test_aks: SharedTestAksNamespace | None = None


STAGES = ("all", "platform")


def build(settings: StackSettings, stage: str = "all", today: date | None = None) -> Environment:
    """Declare the environment. `stage="platform"` leaves out the Databricks workspace
    configuration: in private environments it can only be applied from a runner inside (or
    peered to) the VNet, so a first deployment applies the platform from anywhere, then the
    whole stack ("all") from that runner (docs/infra.md, deploy readiness)."""
    if stage not in STAGES:
        raise ValueError(f"dsplatform:stage is {stage!r}; use one of {', '.join(STAGES)}")
    client = azure_native.authorization.get_client_config_output()
    tenant_id = client.tenant_id
    subscription_id = client.subscription_id
    features = settings.features
    stack = settings.stack_name

    names = settings.names
    production = settings.is_production
    private = settings.is_private
    allowed_ip_ranges = tuple(settings.settings.allowed_ip_ranges)
    where = {"names": names, "location": settings.location, "tags": settings.resource_tags()}

    foundation = Foundation(
        f"{stack}-foundation",
        FoundationArgs(**where, log_retention_days=settings.settings.log_retention_days, production=production),
    )
    # Every component below lives in the foundation's resource group and logs to its workspace.
    placed = {
        **where,
        "resource_group_name": foundation.resource_group.name,
        "log_analytics_workspace_id": foundation.log_analytics.id,
    }
    # Public environments still get a VNet for Databricks alone: a storage firewall needs a
    # VNet-injected workspace. Everything else uses the network only in private mode.
    network = (
        Network(
            f"{stack}-network",
            NetworkArgs(**placed, cidrs=settings.settings.network, production=production, databricks_only=not private),
        )
        if private or features.databricks
        else None
    )
    databricks_network = network if features.databricks else None
    network = network if private else None
    lake = DataLake(
        f"{stack}-lake",
        DataLakeArgs(
            **placed,
            production=production,
            private=private,
            allowed_ip_ranges=allowed_ip_ranges,
            network=network,
            databricks_subnet_ids=(
                tuple(databricks_network.subnets[key].id for key in ("databricks_host", "databricks_container"))
                if databricks_network
                else ()
            ),
            subscription_id=subscription_id,
            tenant_id=tenant_id,
        ),
    )
    key_vault = KeyVault(
        f"{stack}-key-vault",
        KeyVaultArgs(
            **placed,
            tenant_id=tenant_id,
            production=production,
            private=private,
            allowed_ip_ranges=allowed_ip_ranges,
            network=network,
        ),
    )
    registry = ContainerRegistry(
        f"{stack}-registry",
        ContainerRegistryArgs(**placed, production=production, private=private, network=network),
    )
    machine_learning = (
        MachineLearningWorkspace(
            f"{stack}-machine-learning",
            MachineLearningWorkspaceArgs(
                **placed,
                application_insights_id=foundation.application_insights.id,
                workload_identity_id=foundation.workload_identity.id,
                key_vault_id=key_vault.vault.id,
                container_registry_id=registry.registry.id,
                data_classification=settings.tags.data_classification,
                cpu_cluster=settings.settings.azureml,
                production=production,
                private=private,
                allowed_ip_ranges=allowed_ip_ranges,
                lake_account_id=lake.storage_account.id,
                network=network,
            ),
        )
        if features.azureml
        else None
    )
    databricks = (
        DatabricksWorkspace(
            f"{stack}-databricks",
            DatabricksWorkspaceArgs(
                **placed,
                subscription_id=subscription_id,
                sku=settings.settings.databricks.sku,
                private=private,
                network=databricks_network,
            ),
        )
        if features.databricks
        else None
    )
    # Azure ML uses the cluster as Kubernetes compute only where its workspace has no managed
    # network, which does not support Kubernetes compute (staging and prod serve from managed
    # online endpoints instead; docs/infra.md).
    hosts_azureml = features.aks and features.azureml and not private
    kubernetes = (
        KubernetesCluster(
            f"{stack}-kubernetes",
            KubernetesClusterArgs(
                **placed,
                stack_name=stack,
                workload_identity_name=foundation.workload_identity.name,
                tenant_id=tenant_id,
                subscription_id=subscription_id,
                aks=settings.settings.aks,
                platform_admins_object_id=settings.principals.platform_admins.object_id,
                production=production,
                private=private,
                allowed_ip_ranges=allowed_ip_ranges,
                hosts_azureml=hosts_azureml,
                network=network,
            ),
        )
        if features.aks
        else None
    )
    data_factory = (
        DataFactory(
            f"{stack}-data-factory",
            DataFactoryArgs(
                **placed,
                lake_account_id=lake.storage_account.id,
                machine_learning_workspace_id=machine_learning.workspace.id,
                private=private,
                network=network,
            ),
        )
        if features.data_factory and machine_learning is not None
        else None
    )
    ai_services = (
        AIServices(
            f"{stack}-ai-services",
            AIServicesArgs(**placed, private=private, allowed_ip_ranges=allowed_ip_ranges, network=network),
        )
        if features.ai_services
        else None
    )
    access = Access(
        f"{stack}-access",
        AccessArgs(
            stack_name=stack,
            names=names,
            principals=settings.principals,
            subscription_id=subscription_id,
            grants=tuple(planned_grants(settings)),
            foundation=foundation,
            lake=lake,
            key_vault=key_vault,
            registry=registry,
            machine_learning=machine_learning,
            databricks=databricks,
            kubernetes=kubernetes,
            data_factory=data_factory,
            ai_services=ai_services,
        ),
    )

    # The project's namespace on the platform's shared test AKS cluster, for stress tests.
    shared_test_aks = (
        SharedTestAksNamespace(
            f"{stack}-shared-test-aks",
            SharedTestAksArgs(
                cluster=settings.settings.shared_test_aks,
                project=settings.project,
                environment=settings.environment,
                stack_name=stack,
                location=settings.location,
                tags=settings.resource_tags(),
                ci_service_principal=settings.principals.ci_service_principal,
                subscription_id=subscription_id,
            ),
        )
        if settings.settings.shared_test_aks is not None
        else None
    )

    # Every environment has a budget on its resource group (guardrail budget-on-every-environment).
    budget = EnvironmentBudget(
        f"{stack}-budget",
        BudgetArgs(
            budget_name=budget_name(settings.project, settings.environment),
            resource_group_id=foundation.resource_group.id,
            amount=settings.settings.budget.amount,
            thresholds=settings.budget_thresholds,
            contact_emails=settings.budget_contacts,
            start_date=first_of_month(today or date.today()),
        ),
    )
    personal_compute = (
        PersonalCompute(
            f"{stack}-personal-compute",
            PersonalComputeArgs(
                project=settings.project,
                environment=settings.environment,
                people=tuple(Person(person.object_id, person.display_name) for person in settings.personal_compute),
                workspace_name=machine_learning.workspace.name,
                resource_group_name=foundation.resource_group.name,
                location=settings.location,
                tenant_id=tenant_id,
                vm_size=settings.settings.compute_instance_vm_size,
                idle_minutes=settings.settings.compute_instance_idle_minutes,
                private_networking=private,
                tags=settings.resource_tags(),
            ),
        )
        if machine_learning is not None and settings.personal_compute
        else None
    )
    data_products = None
    if settings.data_products:
        readers = [("data_science_group", settings.principals.data_science_group.object_id, "Group")]
        if machine_learning is not None:
            readers.append(
                (
                    "machine_learning_workspace_identity",
                    machine_learning.workspace.identity.apply(lambda identity: identity.principal_id),
                    "ServicePrincipal",
                )
            )
        data_products = DataProductAccess(
            f"{stack}-data-products",
            DataProductAccessArgs(
                stack=stack,
                products=[DataProductGrant(product.name, product.storage_scope) for product in settings.data_products],
                readers=readers,
                subscription_id=subscription_id,
            ),
        )

    # Data-plane pieces: created after the roles they rely on.
    if machine_learning is not None:
        machine_learning.attach_lake(
            lake.storage_account.name,
            subscription_id,
            depends_on=access.needed_by("machine_learning_workspace_identity:lake:Storage Blob Data Reader"),
        )
    if kubernetes is not None and machine_learning is not None and hosts_azureml:
        kubernetes.attach_to_machine_learning(
            machine_learning.workspace,
            depends_on=access.needed_by(
                "workload_identity:container_registry:AcrPull",
                "aks_kubelet_identity:container_registry:AcrPull",
            ),
        )
    databricks_configuration = None
    if databricks is not None and stage == "all":
        databricks_configuration = DatabricksWorkspaceConfiguration(
            f"{stack}-databricks-configuration",
            DatabricksWorkspaceConfigurationArgs(
                project=settings.project,
                environment=settings.environment,
                names=names,
                cost_center=settings.tags.cost_center,
                production=production,
                private=private,
                allowed_ip_ranges=allowed_ip_ranges,
                databricks=settings.settings.databricks,
                data_science_group_name=settings.principals.data_science_group.display_name,
                platform_admins_name=settings.principals.platform_admins.display_name,
                ci_client_id=settings.principals.ci_service_principal.client_id,
                workspace_host=databricks.host,
                workspace_id=databricks.workspace.id,
                access_connector_id=databricks.access_connector.id,
                key_vault_id=key_vault.vault.id,
                key_vault_uri=key_vault.vault_uri,
                lake_account_name=lake.storage_account.name,
            ),
            depends_on=access.needed_by(
                "databricks_access_connector:lake:Storage Blob Data Contributor",
                "azure_databricks_application:key_vault:Key Vault Secrets User",
                "ci_service_principal:databricks_workspace:Contributor",
            ),
        )

    outputs: dict[str, pulumi.Output] = {
        "resourceGroupName": foundation.resource_group.name,
        "location": pulumi.Output.from_input(settings.location),
        "privateNetworking": pulumi.Output.from_input(private),
        "lakeStorageAccountName": lake.storage_account.name,
        "lakeDfsEndpoint": lake.dfs_endpoint,
        "lakeBlobEndpoint": lake.blob_endpoint,
        "keyVaultName": key_vault.vault.name,
        "keyVaultUri": key_vault.vault_uri,
        "containerRegistryLoginServer": registry.registry.login_server,
        "applicationInsightsName": foundation.application_insights.name,
        "logAnalyticsWorkspaceId": foundation.log_analytics.id,
        "workloadIdentityClientId": foundation.workload_identity.client_id,
        "budgetName": budget.budget.name,
    }
    if machine_learning is not None:
        outputs |= {
            "mlWorkspaceName": machine_learning.workspace.name,
            "mlWorkspaceId": machine_learning.workspace.id,
            "mlWorkspaceStudioUrl": machine_learning.studio_url,
        }
    if databricks is not None:
        outputs |= {
            "databricksWorkspaceId": databricks.workspace.id,
            "databricksHost": databricks.host,
        }
    if databricks_configuration is not None:
        outputs["databricksCatalog"] = databricks_configuration.catalog.name
    if kubernetes is not None:
        outputs |= {"aksClusterName": kubernetes.cluster.name, "aksOidcIssuerUrl": kubernetes.oidc_issuer_url}

    if data_factory is not None:
        outputs |= {"dataFactoryName": data_factory.factory.name, "dataFactoryPrincipalId": data_factory.principal_id}
    if ai_services is not None:
        outputs |= {"aiServicesName": ai_services.account.name, "aiServicesEndpoint": ai_services.endpoint}

    if shared_test_aks is not None:
        outputs |= {
            "sharedTestAksClusterId": shared_test_aks.cluster_id,
            "sharedTestAksNamespace": pulumi.Output.from_input(shared_test_aks.namespace_name),
        }

    for key, value in outputs.items():
        pulumi.export(key, value)
    return Environment(
        settings=settings,
        foundation=foundation,
        network=network,
        lake=lake,
        key_vault=key_vault,
        registry=registry,
        machine_learning=machine_learning,
        databricks=databricks,
        databricks_configuration=databricks_configuration,
        kubernetes=kubernetes,
        access=access,
        outputs=outputs,
        budget=budget,
        personal_compute=personal_compute,
        data_products=data_products,
        data_factory=data_factory,
        ai_services=ai_services,
        shared_test_aks=shared_test_aks,
    )
