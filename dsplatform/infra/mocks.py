"""Pulumi mocks that answer like Azure would, without calling it.

Why realistic state: the program reads outputs such as a workspace's `workspaceUrl`, a
vault's `vaultUri` or an identity's `principalId`, and azure-native resources need `name`
in their state or the inputs that read it downstream (`resourceGroupName`) silently
vanish. Ids are real ARM id shapes and every generated GUID is derived from the
resource's name, so the plan is byte-identical run after run.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pulumi

# Obviously fake, fixed identifiers: the offline plan never knows a real subscription.
SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
TENANT_ID = "00000000-0000-0000-0000-000000000001"
DEPLOYER_OBJECT_ID = "00000000-0000-0000-0000-000000000002"
DEPLOYER_CLIENT_ID = "00000000-0000-0000-0000-000000000003"
MOCK_NAMESPACE = uuid.UUID("0e7c5a3e-8f41-4c37-9d5b-6a2f1e9b7c10")

_RESOURCE_GROUP_SCOPE = "/subscriptions/{subscription}/resourceGroups/{resourceGroupName}/providers/"

# Pulumi type token → (ARM id template, input holding the Azure name).
ARM_RESOURCES: dict[str, tuple[str, str]] = {
    "azure-native:resources:ResourceGroup": ("/subscriptions/{subscription}/resourceGroups/{resourceGroupName}", "resourceGroupName"),
    "azure-native:operationalinsights:Workspace": (
        _RESOURCE_GROUP_SCOPE + "Microsoft.OperationalInsights/workspaces/{workspaceName}",
        "workspaceName",
    ),
    "azure-native:applicationinsights:Component": (_RESOURCE_GROUP_SCOPE + "Microsoft.Insights/components/{resourceName}", "resourceName"),
    "azure-native:managedidentity:UserAssignedIdentity": (
        _RESOURCE_GROUP_SCOPE + "Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}",
        "resourceName",
    ),
    "azure-native:managedidentity:FederatedIdentityCredential": (
        _RESOURCE_GROUP_SCOPE
        + "Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}/federatedIdentityCredentials/{federatedIdentityCredentialResourceName}",
        "federatedIdentityCredentialResourceName",
    ),
    "azure-native:network:VirtualNetwork": (
        _RESOURCE_GROUP_SCOPE + "Microsoft.Network/virtualNetworks/{virtualNetworkName}",
        "virtualNetworkName",
    ),
    "azure-native:network:NetworkSecurityGroup": (
        _RESOURCE_GROUP_SCOPE + "Microsoft.Network/networkSecurityGroups/{networkSecurityGroupName}",
        "networkSecurityGroupName",
    ),
    "azure-native:network:Subnet": (
        _RESOURCE_GROUP_SCOPE + "Microsoft.Network/virtualNetworks/{virtualNetworkName}/subnets/{subnetName}",
        "subnetName",
    ),
    "azure-native:network:NatGateway": (_RESOURCE_GROUP_SCOPE + "Microsoft.Network/natGateways/{natGatewayName}", "natGatewayName"),
    "azure-native:network:PublicIPAddress": (
        _RESOURCE_GROUP_SCOPE + "Microsoft.Network/publicIPAddresses/{publicIpAddressName}",
        "publicIpAddressName",
    ),
    "azure-native:network:PrivateEndpoint": (
        _RESOURCE_GROUP_SCOPE + "Microsoft.Network/privateEndpoints/{privateEndpointName}",
        "privateEndpointName",
    ),
    "azure-native:network:PrivateDnsZoneGroup": (
        _RESOURCE_GROUP_SCOPE + "Microsoft.Network/privateEndpoints/{privateEndpointName}/privateDnsZoneGroups/{privateDnsZoneGroupName}",
        "privateDnsZoneGroupName",
    ),
    "azure-native:privatedns:PrivateZone": (
        _RESOURCE_GROUP_SCOPE + "Microsoft.Network/privateDnsZones/{privateZoneName}",
        "privateZoneName",
    ),
    "azure-native:privatedns:VirtualNetworkLink": (
        _RESOURCE_GROUP_SCOPE + "Microsoft.Network/privateDnsZones/{privateZoneName}/virtualNetworkLinks/{virtualNetworkLinkName}",
        "virtualNetworkLinkName",
    ),
    "azure-native:storage:StorageAccount": (_RESOURCE_GROUP_SCOPE + "Microsoft.Storage/storageAccounts/{accountName}", "accountName"),
    "azure-native:storage:BlobServiceProperties": (
        _RESOURCE_GROUP_SCOPE + "Microsoft.Storage/storageAccounts/{accountName}/blobServices/{blobServicesName}",
        "blobServicesName",
    ),
    "azure-native:storage:BlobContainer": (
        _RESOURCE_GROUP_SCOPE + "Microsoft.Storage/storageAccounts/{accountName}/blobServices/default/containers/{containerName}",
        "containerName",
    ),
    "azure-native:keyvault:Vault": (_RESOURCE_GROUP_SCOPE + "Microsoft.KeyVault/vaults/{vaultName}", "vaultName"),
    "azure-native:containerregistry:Registry": (
        _RESOURCE_GROUP_SCOPE + "Microsoft.ContainerRegistry/registries/{registryName}",
        "registryName",
    ),
    "azure-native:machinelearningservices:Workspace": (
        _RESOURCE_GROUP_SCOPE + "Microsoft.MachineLearningServices/workspaces/{workspaceName}",
        "workspaceName",
    ),
    "azure-native:machinelearningservices:Compute": (
        _RESOURCE_GROUP_SCOPE + "Microsoft.MachineLearningServices/workspaces/{workspaceName}/computes/{computeName}",
        "computeName",
    ),
    "azure-native:machinelearningservices:Datastore": (
        _RESOURCE_GROUP_SCOPE + "Microsoft.MachineLearningServices/workspaces/{workspaceName}/datastores/{name}",
        "name",
    ),
    "azure-native:databricks:Workspace": (_RESOURCE_GROUP_SCOPE + "Microsoft.Databricks/workspaces/{workspaceName}", "workspaceName"),
    "azure-native:databricks:AccessConnector": (
        _RESOURCE_GROUP_SCOPE + "Microsoft.Databricks/accessConnectors/{connectorName}",
        "connectorName",
    ),
    "azure-native:containerservice:ManagedCluster": (
        _RESOURCE_GROUP_SCOPE + "Microsoft.ContainerService/managedClusters/{resourceName}",
        "resourceName",
    ),
    "azure-native:containerservice:AgentPool": (
        _RESOURCE_GROUP_SCOPE + "Microsoft.ContainerService/managedClusters/{resourceName}/agentPools/{agentPoolName}",
        "agentPoolName",
    ),
    "azure-native:kubernetesconfiguration:Extension": (
        _RESOURCE_GROUP_SCOPE
        + "Microsoft.ContainerService/managedClusters/{clusterName}/providers/Microsoft.KubernetesConfiguration/extensions/{extensionName}",
        "extensionName",
    ),
    "azure-native:authorization:RoleAssignment": (
        "{scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}",
        "roleAssignmentName",
    ),
    "azure-native:monitor:DiagnosticSetting": ("{resourceUri}/providers/Microsoft.Insights/diagnosticSettings/{name}", "name"),
    "azure-native:consumption:Budget": ("{scope}/providers/Microsoft.Consumption/budgets/{budgetName}", "budgetName"),
    "azure-native:datafactory:Factory": (_RESOURCE_GROUP_SCOPE + "Microsoft.DataFactory/factories/{factoryName}", "factoryName"),
    "azure-native:datafactory:IntegrationRuntime": (
        _RESOURCE_GROUP_SCOPE + "Microsoft.DataFactory/factories/{factoryName}/integrationruntimes/{integrationRuntimeName}",
        "integrationRuntimeName",
    ),
    "azure-native:datafactory:ManagedPrivateEndpoint": (
        _RESOURCE_GROUP_SCOPE
        + "Microsoft.DataFactory/factories/{factoryName}/managedVirtualNetworks/{managedVirtualNetworkName}"
        + "/managedPrivateEndpoints/{managedPrivateEndpointName}",
        "managedPrivateEndpointName",
    ),
    "azure-native:resources:Resource": (
        _RESOURCE_GROUP_SCOPE + "{resourceProviderNamespace}/{parentResourcePath}/{resourceType}/{resourceName}",
        "resourceName",
    ),
    "azure-native:cognitiveservices:Account": (_RESOURCE_GROUP_SCOPE + "Microsoft.CognitiveServices/accounts/{accountName}", "accountName"),
    "azure-native:containerservice:ManagedNamespace": (
        _RESOURCE_GROUP_SCOPE + "Microsoft.ContainerService/managedClusters/{resourceName}/managedNamespaces/{managedNamespaceName}",
        "managedNamespaceName",
    ),
}


def deterministic_guid(*parts: str) -> str:
    return str(uuid.uuid5(MOCK_NAMESPACE, "|".join(parts)))


def azure_name(resource_type: str, logical_name: str, inputs: dict[str, Any]) -> str:
    """The name Azure (or Databricks) would know the resource by, not Pulumi's logical name."""
    if resource_type in ARM_RESOURCES:
        return str(inputs.get(ARM_RESOURCES[resource_type][1], logical_name))
    if resource_type == "pulumi:providers:databricks":
        return str(inputs.get("host", logical_name))
    if resource_type.startswith("databricks:"):
        for securable in ("catalog", "externalLocation", "storageCredential", "schema"):
            if securable in inputs and resource_type.endswith(":Grants"):
                return f"{securable}/{inputs[securable]}"
        for key in ("name", "path", "label", "directoryPath", "clusterPolicyId"):
            if key in inputs:
                return str(inputs[key])
        if resource_type.endswith(":WorkspaceConf"):
            return "workspace-conf"
    return logical_name


class PlanMocks(pulumi.runtime.Mocks):
    """Answers resource registrations and the one invoke the program makes."""

    def __init__(self) -> None:
        # principal id → (type token, Azure name): lets the plan label role assignments.
        self.principals: dict[str, tuple[str, str]] = {}

    def call(self, args: pulumi.runtime.MockCallArgs):
        if args.token == "azure-native:authorization:getClientConfig":
            return {
                "clientId": DEPLOYER_CLIENT_ID,
                "objectId": DEPLOYER_OBJECT_ID,
                "subscriptionId": SUBSCRIPTION_ID,
                "tenantId": TENANT_ID,
            }
        raise NotImplementedError(f"the offline plan has no mock for invoke {args.token}")

    def _identity(self, resource_type: str, name: str, purpose: str = "principal") -> dict[str, str]:
        principal_id = deterministic_guid(resource_type, name, purpose)
        self.principals[principal_id] = (resource_type, name if purpose == "principal" else f"{name} ({purpose})")
        return {"principalId": principal_id, "tenantId": TENANT_ID}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        inputs = dict(args.inputs)
        resource_type = args.typ
        name = azure_name(resource_type, args.name, inputs)
        state: dict[str, Any] = {**inputs, "name": name}

        identity = state.get("identity")
        if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
            # Requests list the identities; Azure answers with a map keyed by identity id.
            state["identity"] = {
                **identity,
                "userAssignedIdentities": {
                    identity_id: {
                        "principalId": deterministic_guid(identity_id, "principal"),
                        "clientId": deterministic_guid(identity_id, "client"),
                    }
                    for identity_id in identity["userAssignedIdentities"]
                },
            }

        if resource_type in ARM_RESOURCES:
            template = ARM_RESOURCES[resource_type][0]
            values = {"subscription": SUBSCRIPTION_ID, **{key: value for key, value in inputs.items() if isinstance(value, str)}}
            resource_id = template.format_map(_Missing(values))
        elif resource_type == "pulumi:providers:databricks":
            resource_id = deterministic_guid(resource_type, name)
        else:
            resource_id = name

        if resource_type == "azure-native:storage:StorageAccount":
            state["primaryEndpoints"] = {
                service: f"https://{name}.{service}.core.windows.net/" for service in ("blob", "dfs", "file", "queue", "table", "web")
            }
            if "identity" in inputs:
                state["identity"] = {**state["identity"], **self._identity(resource_type, name)}
        elif resource_type == "azure-native:keyvault:Vault":
            state["properties"] = {**inputs.get("properties", {}), "vaultUri": f"https://{name}.vault.azure.net/"}
        elif resource_type == "azure-native:containerregistry:Registry":
            state["loginServer"] = f"{name}.azurecr.io"
        elif resource_type == "azure-native:managedidentity:UserAssignedIdentity":
            identity = self._identity(resource_type, name)
            state |= identity | {"clientId": deterministic_guid(resource_type, name, "client")}
        elif resource_type == "azure-native:machinelearningservices:Workspace":
            state["identity"] = {**state.get("identity", {}), **self._identity(resource_type, name)}
            state["workspaceId"] = deterministic_guid(resource_type, name, "workspace")
            state["discoveryUrl"] = f"https://{inputs.get('location', 'westeurope')}.api.azureml.ms/discovery"
        elif resource_type == "azure-native:databricks:Workspace":
            digits = int(hashlib.sha256(name.encode()).hexdigest(), 16) % 10**16
            state["workspaceUrl"] = f"adb-{digits:016d}.{digits % 20}.azuredatabricks.net"
            state["workspaceId"] = f"{digits:016d}"
        elif resource_type == "azure-native:databricks:AccessConnector":
            state["identity"] = {**state.get("identity", {}), **self._identity(resource_type, name)}
        elif resource_type == "azure-native:containerservice:ManagedCluster":
            state["identity"] = {**state.get("identity", {}), **self._identity(resource_type, name)}
            kubelet = self._identity(resource_type, name, "kubelet identity")
            state["identityProfile"] = {
                "kubeletidentity": {
                    "objectId": kubelet["principalId"],
                    "clientId": deterministic_guid(resource_type, name, "kubelet client"),
                    "resourceId": f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{inputs.get('nodeResourceGroup', '')}"
                    f"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}-agentpool",
                }
            }
            state["oidcIssuerProfile"] = {
                "enabled": True,
                "issuerURL": f"https://{inputs.get('location', 'westeurope')}.oic.prod-aks.azure.com/{TENANT_ID}/"
                f"{deterministic_guid(resource_type, name, 'issuer')}/",
            }
            state["fqdn"] = f"{inputs.get('dnsPrefix', name)}.hcp.{inputs.get('location', 'westeurope')}.azmk8s.io"
        elif resource_type == "azure-native:applicationinsights:Component":
            key = deterministic_guid(resource_type, name, "instrumentation key")
            state["instrumentationKey"] = key
            state["connectionString"] = (
                f"InstrumentationKey={key};IngestionEndpoint=https://{inputs.get('location', 'westeurope')}.in.applicationinsights.azure.com/"
            )
        elif resource_type == "azure-native:operationalinsights:Workspace":
            state["customerId"] = deterministic_guid(resource_type, name, "customer")
        elif resource_type in (
            "azure-native:kubernetesconfiguration:Extension",
            "azure-native:datafactory:Factory",
            "azure-native:cognitiveservices:Account",
        ):
            state["identity"] = {**state.get("identity", {}), **self._identity(resource_type, name)}
        return resource_id, state


class _Missing(dict):
    """Leave unknown template fields visible instead of failing, so a gap in the table shows up in the plan."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
