"""AKS for real-time scoring: Entra ID with Azure RBAC, workload identity instead of
secrets, and autoscaling pools.

Where the ML workspace has no managed network (dev), the cluster is also Azure ML
Kubernetes compute through the Azure ML extension. That extension's documented limits
("Deploy Azure Machine Learning extension on AKS", Limitations,
https://learn.microsoft.com/azure/machine-learning/how-to-deploy-kubernetes-extension)
shape this cluster: local accounts stay enabled, the API allowlist admits the Azure ML
control plane of the region and its pair, and scoring stays inside the cluster over HTTP
(no certificate to manage in dev). Staging and prod workspaces use a managed network,
which does not support Kubernetes compute: there Azure ML serves from managed online
endpoints and this cluster runs the FastAPI serving only, with local accounts off."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native

from dsplatform.infra.components.common import PrivateCapableArgs, assign_role, child, diagnostic_setting
from dsplatform.infra.config.schema import AksSettings
from dsplatform.naming import KUBERNETES_COMPUTE_NAME, SCORING_NAMESPACE, SCORING_SERVICE_ACCOUNT
from dsplatform.vocabulary import PAIRED_REGIONS

AZUREML_NAMESPACE = "default"


@dataclass(frozen=True, kw_only=True)
class KubernetesClusterArgs(PrivateCapableArgs):
    """Only what the cluster reads: its pools and versions (`aks`), who administers it in
    dev, the workload identity its scoring pods federate with, whether it is private (then
    it joins the network's AKS subnet), and whether Azure ML deploys to it."""

    stack_name: str  # role assignment names derive from it
    workload_identity_name: pulumi.Input[str]
    tenant_id: pulumi.Input[str]
    subscription_id: pulumi.Input[str]
    aks: AksSettings
    platform_admins_object_id: str
    production: bool
    allowed_ip_ranges: tuple[str, ...] = ()
    hosts_azureml: bool = False


def authorized_ranges(args: KubernetesClusterArgs) -> list[str]:
    """The public API server's allowlist: the environment's ranges, plus, when Azure ML
    deploys to the cluster, the AzureMachineLearning service tag ranges of the region and
    its paired region from the project file."""
    ranges = list(args.allowed_ip_ranges)
    if args.hosts_azureml:
        control_plane = args.aks.azureml_control_plane_ip_ranges
        for region in (args.location, PAIRED_REGIONS.get(args.location, "")):
            ranges += [block for block in control_plane.get(region, []) if block not in ranges]
    return ranges


class KubernetesCluster(pulumi.ComponentResource):
    cluster: azure_native.containerservice.ManagedCluster
    scoring_pool: azure_native.containerservice.AgentPool
    federated_credential: azure_native.managedidentity.FederatedIdentityCredential
    azureml_extension: azure_native.kubernetesconfiguration.Extension | None
    machine_learning_compute: azure_native.machinelearningservices.Compute | None

    def __init__(self, name: str, args: KubernetesClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dsplatform:azure:KubernetesCluster", name, None, opts)
        self._name = name
        self._args = args
        names = args.names
        aks = args.aks
        network = args.network
        private = args.private
        hosts_azureml = args.hosts_azureml
        self.azureml_extension = None
        self.machine_learning_compute = None
        subnet_id = network.subnets["aks"].id if network else None

        system_pool = {
            "name": names.aks_system_pool,
            "mode": "System",
            "type": "VirtualMachineScaleSets",
            "os_type": "Linux",
            "os_sku": "AzureLinux",
            "vm_size": aks.system_pool.vm_size,
            "enable_auto_scaling": True,
            "min_count": aks.system_pool.min_count,
            "max_count": aks.system_pool.max_count,
            "count": aks.system_pool.min_count,
            "enable_node_public_ip": False,
            # Keep scoring pods off the system pool.
            "node_taints": ["CriticalAddonsOnly=true:NoSchedule"],
            "availability_zones": ["1", "2", "3"] if args.production else None,
            "vnet_subnet_id": subnet_id,
        }
        # In private mode the cluster joins our subnet, so its control plane needs Network
        # Contributor there before it is created: a user-assigned identity granted first,
        # rather than a system identity that exists only once the cluster does.
        self.control_plane_identity = None
        self.subnet_role_assignment = None
        cluster_identity: dict = {"type": "SystemAssigned"}
        cluster_depends_on: list[pulumi.Resource] = []
        if network is not None:
            self.control_plane_identity = azure_native.managedidentity.UserAssignedIdentity(
                f"{name}-control-plane-identity",
                resource_name_=names.aks_control_plane_identity,
                resource_group_name=args.resource_group_name,
                location=args.location,
                tags=dict(args.tags),
                opts=child(self),
            )
            self.subnet_role_assignment = assign_role(
                f"{name}-control-plane-network-contributor",
                args.stack_name,
                "Network Contributor",
                network.subnets["aks"].id,
                f"{names.virtual_network}/snet-aks",
                self.control_plane_identity.principal_id,
                names.aks_control_plane_identity,
                "ServicePrincipal",
                args.subscription_id,
                parent=self,
                depends_on=[network.subnets["aks"]],
            )
            cluster_identity = {"type": "UserAssigned", "user_assigned_identities": [self.control_plane_identity.id]}
            cluster_depends_on = [self.subnet_role_assignment]
        self.cluster = azure_native.containerservice.ManagedCluster(
            f"{name}-cluster",
            resource_name_=names.aks_cluster,
            resource_group_name=args.resource_group_name,
            location=args.location,
            dns_prefix=names.aks_dns_prefix,
            kubernetes_version=aks.kubernetes_version,
            node_resource_group=names.aks_node_resource_group,
            sku={"name": "Base", "tier": "Standard" if args.production else "Free"},
            identity=cluster_identity,
            # Entra ID sign-in with Azure RBAC for authorization, and no local (certificate) accounts.
            aad_profile={
                "managed": True,
                "enable_azure_rbac": True,
                "tenant_id": args.tenant_id,
                # Cluster-admin for people only in dev; prod admins get read roles (see Access).
                "admin_group_object_ids": [] if args.production else [args.platform_admins_object_id],
            },
            # Azure ML does not support disabling local accounts; without the extension they stay off.
            disable_local_accounts=not hosts_azureml,
            enable_rbac=True,
            oidc_issuer_profile={"enabled": True},
            security_profile={"workload_identity": {"enabled": True}},
            agent_pool_profiles=[system_pool],
            network_profile={
                "network_plugin": "azure",
                "network_plugin_mode": "overlay",
                "network_dataplane": "cilium",
                "network_policy": "cilium",
                "load_balancer_sku": "standard",
            },
            api_server_access_profile=({"enable_private_cluster": True} if private else {"authorized_ip_ranges": authorized_ranges(args)}),
            auto_upgrade_profile={"upgrade_channel": "patch", "node_os_upgrade_channel": "NodeImage"},
            addon_profiles={
                "omsagent": {
                    "enabled": True,
                    "config": {"logAnalyticsWorkspaceResourceID": args.log_analytics_workspace_id},
                },
                "azurepolicy": {"enabled": True},
            },
            # A private cluster's API server has no public endpoint at all.
            public_network_access="Disabled" if private else "Enabled",
            tags=dict(args.tags),
            # The user pool is a separate AgentPool; without this, a day-2 update of the
            # cluster sends only the inline pool and fails or removes the other
            # (pulumi-azure-native issues #2719 and #4264). Change the system pool by
            # adding a new pool and deleting the old one (docs/infra.md).
            opts=child(self, cluster_depends_on).merge(pulumi.ResourceOptions(ignore_changes=["agentPoolProfiles"])),
        )
        user_pool = aks.user_pool
        self.scoring_pool = azure_native.containerservice.AgentPool(
            f"{name}-scoring-pool",
            agent_pool_name=names.aks_user_pool,
            resource_name_=self.cluster.name,
            resource_group_name=args.resource_group_name,
            mode="User",
            type="VirtualMachineScaleSets",
            os_type="Linux",
            os_sku="AzureLinux",
            vm_size=user_pool.vm_size,
            enable_auto_scaling=True,
            min_count=user_pool.min_count,
            max_count=user_pool.max_count,
            count=user_pool.min_count,
            enable_node_public_ip=False,
            vnet_subnet_id=subnet_id,
            node_labels={"workload": "scoring"},
            opts=child(self),
        )
        # Scoring pods authenticate as the workload identity through OIDC federation: no secret in the cluster.
        self.federated_credential = azure_native.managedidentity.FederatedIdentityCredential(
            f"{name}-federated-credential",
            federated_identity_credential_resource_name=names.federated_identity_credential,
            resource_name_=args.workload_identity_name,
            resource_group_name=args.resource_group_name,
            issuer=self.cluster.oidc_issuer_profile.apply(lambda profile: profile.issuer_url),
            subject=f"system:serviceaccount:{SCORING_NAMESPACE}:{SCORING_SERVICE_ACCOUNT}",
            audiences=["api://AzureADTokenExchange"],
            opts=child(self),
        )
        self.diagnostics = diagnostic_setting(f"{name}-cluster", "aks_cluster", self.cluster.id, args.log_analytics_workspace_id, self)
        self.kubelet_object_id = self.cluster.identity_profile.apply(lambda profiles: profiles["kubeletidentity"].object_id)
        self.oidc_issuer_url = self.cluster.oidc_issuer_profile.apply(lambda profile: profile.issuer_url)
        self.register_outputs({"cluster_name": self.cluster.name})

    def attach_to_machine_learning(
        self, workspace: azure_native.machinelearningservices.Workspace, depends_on: list[pulumi.Resource]
    ) -> azure_native.machinelearningservices.Compute:
        """Install the Azure ML extension and register the cluster as Kubernetes compute."""
        self.azureml_extension = azure_native.kubernetesconfiguration.Extension(
            f"{self._name}-azureml-extension",
            extension_name="azureml",
            extension_type="Microsoft.AzureML.Kubernetes",
            cluster_rp="Microsoft.ContainerService",
            cluster_resource_name="managedClusters",
            cluster_name=self.cluster.name,
            resource_group_name=self._args.resource_group_name,
            auto_upgrade_minor_version=True,
            release_train="stable",
            identity={"type": "SystemAssigned"},
            configuration_settings={
                "enableTraining": "False",
                "enableInference": "True",
                # Dev scoring is reached inside the cluster only (ClusterIP, e.g. through
                # `kubectl port-forward` behind Entra ID), so plain HTTP exposes nothing and
                # no certificate or CNAME is needed; HTTPS would require sslCname plus a
                # certificate. HA routing needs three nodes; dev's scoring pool scales to zero.
                "inferenceRouterServiceType": "ClusterIP",
                "allowInsecureConnections": "True",
                "inferenceRouterHA": "False",
                "nodeSelector.workload": "scoring",
            },
            opts=child(self, [self.scoring_pool]),
        )
        self.machine_learning_compute = azure_native.machinelearningservices.Compute(
            f"{self._name}-machine-learning-compute",
            compute_name=KUBERNETES_COMPUTE_NAME,
            workspace_name=workspace.name,
            resource_group_name=self._args.resource_group_name,
            location=self._args.location,
            properties=azure_native.machinelearningservices.KubernetesArgs(
                compute_type="Kubernetes",
                resource_id=self.cluster.id,
                description="AKS scoring cluster, attached through the Azure ML extension.",
                # The namespace must exist before the attach; "default" always does.
                properties=azure_native.machinelearningservices.KubernetesPropertiesArgs(namespace=AZUREML_NAMESPACE),
            ),
            tags=dict(self._args.tags),
            opts=child(self, [self.azureml_extension, *depends_on]),
        )
        return self.machine_learning_compute
