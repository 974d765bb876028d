"""A project's place on the platform's shared test AKS cluster: its own namespace there, and
roles for its CI identity scoped to that namespace.

Why a shared cluster: Microsoft's guidance for data-science projects asks for a central test
AKS instance with the same compute as production, where a model is stress-tested before it
moves to production AKS. The platform provisions it once (infra/projects/platform-test-aks.yaml);
each project that references it (`shared_test_aks` in its environment) gets:

- an AKS managed namespace named after the project ("Use managed namespaces in Azure
  Kubernetes Service (AKS)", https://learn.microsoft.com/azure/aks/managed-namespaces), with
  the cluster's default network policy denying traffic from other namespaces, so one
  project's load test cannot reach another's pods;
- for the CI service principal: Azure Kubernetes Service Cluster User Role on the cluster
  (to fetch a kubeconfig) and Azure Kubernetes Service RBAC Writer scoped to the namespace
  only, with the scope `<cluster id>/namespaces/<namespace>` ("Use Azure role-based access
  control for Kubernetes Authorization", https://learn.microsoft.com/azure/aks/manage-azure-rbac).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native

from dsplatform.infra.components.common import assign_role, child
from dsplatform.infra.config.schema import ServicePrincipal, SharedTestAks


@dataclass(frozen=True)
class SharedTestAksArgs:
    """Only what the namespace reads: the cluster it lives on (`cluster`, named by the
    platform project that provisions it), the project it is named after, and the CI
    service principal that gets roles there."""

    cluster: SharedTestAks
    project: str
    environment: str
    stack_name: str  # role assignment names derive from it
    location: str
    tags: Mapping[str, str]
    ci_service_principal: ServicePrincipal
    subscription_id: pulumi.Input[str]


class SharedTestAksNamespace(pulumi.ComponentResource):
    namespace: azure_native.containerservice.ManagedNamespace
    assignments: dict[str, azure_native.authorization.RoleAssignment]

    def __init__(self, name: str, args: SharedTestAksArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dsplatform:azure:SharedTestAksNamespace", name, None, opts)
        cluster = args.cluster.names
        self.namespace_name = args.project
        self.cluster_id = pulumi.Output.from_input(args.subscription_id).apply(
            lambda subscription: (
                f"/subscriptions/{subscription}/resourceGroups/{cluster.resource_group}"
                f"/providers/Microsoft.ContainerService/managedClusters/{cluster.aks_cluster}"
            )
        )
        self.namespace = azure_native.containerservice.ManagedNamespace(
            f"{name}-namespace",
            managed_namespace_name=self.namespace_name,
            resource_name_=cluster.aks_cluster,
            resource_group_name=cluster.resource_group,
            location=args.location,
            properties={
                # Pods of other projects' namespaces cannot reach this one; egress stays open for the
                # load generator's calls to the model under test.
                "default_network_policy": {"ingress": "AllowSameNamespace", "egress": "AllowAll"},
                "adoption_policy": "Never",
                "delete_policy": "Delete",
                "labels": {"project": args.project, "environment": args.environment},
            },
            tags=dict(args.tags),
            opts=child(self),
        )
        ci = args.ci_service_principal
        namespace_scope = self.cluster_id.apply(lambda cluster_id: f"{cluster_id}/namespaces/{self.namespace_name}")
        self.assignments = {
            "cluster-user": assign_role(
                f"{name}-ci-cluster-user",
                args.stack_name,
                "Azure Kubernetes Service Cluster User Role",
                self.cluster_id,
                cluster.aks_cluster,
                ci.object_id,
                ci.display_name,
                "ServicePrincipal",
                args.subscription_id,
                parent=self,
                depends_on=[self.namespace],
            ),
            "namespace-writer": assign_role(
                f"{name}-ci-namespace-writer",
                args.stack_name,
                "Azure Kubernetes Service RBAC Writer",
                namespace_scope,
                f"{cluster.aks_cluster}/namespaces/{self.namespace_name}",
                ci.object_id,
                ci.display_name,
                "ServicePrincipal",
                args.subscription_id,
                parent=self,
                depends_on=[self.namespace],
            ),
        }
        self.register_outputs({"namespace": self.namespace_name})
