"""The Pulumi program body, shared by `pulumi up` (through infra/__main__.py) and the
offline plan (under Pulumi's mock runtime), so that what the plan shows is what deploys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pulumi
import pulumi_azure_native as azure_native

from dsplatform.infra.components.access import Access
from dsplatform.infra.components.ai_services import AIServices, AIServicesArgs
from dsplatform.infra.components.budget import BudgetArgs, EnvironmentBudget, first_of_month
from dsplatform.infra.components.container_registry import ContainerRegistry
from dsplatform.infra.components.data_factory import DataFactory, DataFactoryArgs
from dsplatform.infra.components.data_lake import DataLake
from dsplatform.infra.components.databricks import DatabricksWorkspace, DatabricksWorkspaceConfiguration
from dsplatform.infra.components.foundation import Foundation
from dsplatform.infra.components.key_vault import KeyVault
from dsplatform.infra.components.kubernetes import KubernetesCluster
from dsplatform.infra.components.machine_learning import MachineLearningWorkspace
from dsplatform.infra.components.network import Network
from dsplatform.infra.components.personal_compute import (
    DataProductAccess,
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

    foundation = Foundation(f"{stack}-foundation", settings)
    private = settings.settings.private_networking
    # Public environments still get a VNet for Databricks alone: a storage firewall needs a
    # VNet-injected workspace. Everything else uses the network only in private mode.
    network = Network(f"{stack}-network", settings, foundation, databricks_only=not private) if private or features.databricks else None
    databricks_network = network if features.databricks else None
    network = network if private else None
    lake = DataLake(
        f"{stack}-lake",
        settings,
        foundation,
        network,
        databricks_network=databricks_network,
        subscription_id=subscription_id,
        tenant_id=tenant_id,
    )
    key_vault = KeyVault(f"{stack}-key-vault", settings, foundation, network, tenant_id)
    registry = ContainerRegistry(f"{stack}-registry", settings, foundation, network)
    machine_learning = (
        MachineLearningWorkspace(f"{stack}-machine-learning", settings, foundation, key_vault, registry, network, lake=lake)
        if features.azureml
        else None
    )
    databricks = (
        DatabricksWorkspace(f"{stack}-databricks", settings, foundation, databricks_network, subscription_id)
        if features.databricks
        else None
    )
    # Azure ML uses the cluster as Kubernetes compute only where its workspace has no managed
    # network, which does not support Kubernetes compute (staging and prod serve from managed
    # online endpoints instead; docs/infra.md).
    hosts_azureml = features.aks and features.azureml and not private
    kubernetes = (
        KubernetesCluster(f"{stack}-kubernetes", settings, foundation, network, tenant_id, subscription_id, hosts_azureml=hosts_azureml)
        if features.aks
        else None
    )
    data_factory = (
        DataFactory(
            f"{stack}-data-factory",
            DataFactoryArgs(
                settings=settings,
                resource_group_name=foundation.resource_group.name,
                log_analytics_workspace_id=foundation.log_analytics.id,
                lake_account_id=lake.storage_account.id,
                machine_learning_workspace_id=machine_learning.workspace.id,
                network=network,
            ),
        )
        if features.data_factory and machine_learning is not None
        else None
    )
    ai_services = (
        AIServices(
            f"{stack}-ai-services",
            AIServicesArgs(
                settings=settings,
                resource_group_name=foundation.resource_group.name,
                log_analytics_workspace_id=foundation.log_analytics.id,
                network=network,
            ),
        )
        if features.ai_services
        else None
    )
    access = Access(
        f"{stack}-access",
        settings,
        subscription_id,
        foundation,
        lake,
        key_vault,
        registry,
        network=network,
        machine_learning=machine_learning,
        databricks=databricks,
        kubernetes=kubernetes,
        data_factory=data_factory,
        ai_services=ai_services,
    )

    # The project's namespace on the platform's shared test AKS cluster, for stress tests.
    shared_test_aks = (
        SharedTestAksNamespace(f"{stack}-shared-test-aks", SharedTestAksArgs(settings=settings, subscription_id=subscription_id))
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
            stack,
            [DataProductGrant(product.name, product.storage_scope) for product in settings.data_products],
            readers,
            subscription_id,
        )

    # Data-plane pieces: created after the roles they rely on.
    if machine_learning is not None:
        machine_learning.attach_lake(
            lake,
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
            settings,
            databricks,
            key_vault,
            lake,
            depends_on=access.needed_by(
                "databricks_access_connector:lake:Storage Blob Data Contributor",
                "azure_databricks_application:key_vault:Key Vault Secrets User",
                "ci_service_principal:databricks_workspace:Contributor",
            ),
        )

    outputs: dict[str, pulumi.Output] = {
        "resourceGroupName": foundation.resource_group.name,
        "location": pulumi.Output.from_input(settings.location),
        "privateNetworking": pulumi.Output.from_input(settings.settings.private_networking),
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
