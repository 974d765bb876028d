"""A Data Factory per project environment that orchestrates Azure ML batch scoring.

Why a factory: Microsoft's guidance for data-science projects has batch pipelines on Azure
ML compute started by Data Factory, e.g. when data lands in the lake. The generated
repository carries the factory's pipeline, triggers and linked service under
`.cloud/datafactory/`; this component provides the factory they are published to.

Secure by construction:
- a system-assigned managed identity and no stored credentials: the pipeline calls Azure ML
  as that identity ("Execute Azure Machine Learning pipelines in Azure Data Factory and
  Synapse Analytics", https://learn.microsoft.com/azure/data-factory/transform-data-machine-learning-service);
- its activities run on an integration runtime inside the factory's managed virtual network,
  reaching the lake and the workspace through managed private endpoints ("Managed virtual
  network and managed private endpoints",
  https://learn.microsoft.com/azure/data-factory/managed-virtual-network-private-endpoint);
  in private environments public network access is off too and the factory is reached
  through a private endpoint.
  Managed private endpoints arrive as *pending* connections on the lake and the workspace;
  their owner approves them once (docs/infra.md, deploy readiness).
- the roles it holds (components/access.py, `planned_grants`) are AzureML Data Scientist on
  the workspace (to invoke the batch endpoint) and Storage Blob Data Reader on the landing
  container only.

pulumi-azure-native has no resource for a factory's managed virtual network
(https://github.com/pulumi/pulumi-azure-native/issues/896), so it is declared as the generic
ARM resource `Microsoft.DataFactory/factories/managedVirtualNetworks` with the API version
the other Data Factory resources use.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native

from dsplatform.infra.components.common import PrivateCapableArgs, child, diagnostic_setting
from dsplatform.naming import DATA_FACTORY_MANAGED_VNET

DATA_FACTORY_API_VERSION = "2018-06-01"


@dataclass(frozen=True, kw_only=True)
class DataFactoryArgs(PrivateCapableArgs):
    """Only what the factory needs from the rest of the stack (not whole components), so it
    can be built and tested on its own."""

    lake_account_id: pulumi.Input[str]
    machine_learning_workspace_id: pulumi.Input[str]


class DataFactory(pulumi.ComponentResource):
    factory: azure_native.datafactory.Factory
    managed_virtual_network: azure_native.resources.Resource
    integration_runtime: azure_native.datafactory.IntegrationRuntime
    managed_private_endpoints: dict[str, azure_native.datafactory.ManagedPrivateEndpoint]
    private_endpoint: azure_native.network.PrivateEndpoint | None
    diagnostics: azure_native.monitor.DiagnosticSetting

    def __init__(self, name: str, args: DataFactoryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dsplatform:azure:DataFactory", name, None, opts)
        names = args.names
        private = args.private
        self.factory = azure_native.datafactory.Factory(
            f"{name}-factory",
            factory_name=names.data_factory,
            resource_group_name=args.resource_group_name,
            location=args.location,
            identity={"type": "SystemAssigned"},
            public_network_access="Disabled" if private else "Enabled",
            tags=dict(args.tags),
            opts=child(self),
        )
        self.principal_id = self.factory.identity.apply(lambda identity: identity.principal_id)
        # Every environment, not only private ones: the generated pipeline names this runtime
        # (connectVia), and even dev's lake admits only its IP allowlist, which Azure's shared
        # integration runtime addresses are not on; managed private endpoints reach it anyway.
        self.managed_virtual_network = azure_native.resources.Resource(
            f"{name}-managed-virtual-network",
            resource_name_=DATA_FACTORY_MANAGED_VNET,
            resource_group_name=args.resource_group_name,
            resource_provider_namespace="Microsoft.DataFactory",
            parent_resource_path=self.factory.name.apply(lambda factory: f"factories/{factory}"),
            resource_type="managedVirtualNetworks",
            api_version=DATA_FACTORY_API_VERSION,
            properties={},
            opts=child(self, [self.factory]),
        )
        self.integration_runtime = azure_native.datafactory.IntegrationRuntime(
            f"{name}-integration-runtime",
            integration_runtime_name=names.data_factory_integration_runtime,
            factory_name=self.factory.name,
            resource_group_name=args.resource_group_name,
            properties={
                "type": "Managed",
                "description": "Runs the batch-scoring pipeline inside the factory's managed virtual network",
                "managed_virtual_network": {"reference_name": DATA_FACTORY_MANAGED_VNET, "type": "ManagedVirtualNetworkReference"},
                "compute_properties": {"location": "AutoResolve"},
            },
            opts=child(self, [self.managed_virtual_network]),
        )
        self.managed_private_endpoints = {}
        for key, (target_id, group_id) in {
            "lake-blob": (args.lake_account_id, "blob"),
            "machine-learning": (args.machine_learning_workspace_id, "amlworkspace"),
        }.items():
            self.managed_private_endpoints[key] = azure_native.datafactory.ManagedPrivateEndpoint(
                f"{name}-managed-private-endpoint-{key}",
                managed_private_endpoint_name=f"mpe-{key}",
                managed_virtual_network_name=DATA_FACTORY_MANAGED_VNET,
                factory_name=self.factory.name,
                resource_group_name=args.resource_group_name,
                properties={"group_id": group_id, "private_link_resource_id": target_id},
                opts=child(self, [self.managed_virtual_network]),
            )
        # Authoring and CI publishing reach a factory with public access off only here.
        self.private_endpoint = (
            args.network.private_endpoint(names.data_factory, self.factory.id, "dataFactory", ["dataFactory"], self)
            if args.network is not None
            else None
        )
        self.diagnostics = diagnostic_setting(f"{name}-factory", "data_factory", self.factory.id, args.log_analytics_workspace_id, self)
        self.register_outputs({"factory_id": self.factory.id})
