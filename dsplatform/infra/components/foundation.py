"""The resources every other component hangs off: resource group, logs, telemetry, and the
workload identity that jobs and scoring pods run as."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native

from dsplatform.infra.components.common import child, diagnostic_setting
from dsplatform.naming import ResourceNames


@dataclass(frozen=True)
class FoundationArgs:
    """Only what the foundation reads, so it can be built and tested without a whole stack."""

    names: ResourceNames
    location: str
    tags: Mapping[str, str]
    log_retention_days: int
    production: bool  # prod's logs are uncapped


class Foundation(pulumi.ComponentResource):
    resource_group: azure_native.resources.ResourceGroup
    log_analytics: azure_native.operationalinsights.Workspace
    application_insights: azure_native.applicationinsights.Component
    workload_identity: azure_native.managedidentity.UserAssignedIdentity

    def __init__(self, name: str, args: FoundationArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dsplatform:azure:Foundation", name, None, opts)
        names = args.names
        tags = dict(args.tags)

        self.resource_group = azure_native.resources.ResourceGroup(
            f"{name}-resource-group",
            resource_group_name=names.resource_group,
            location=args.location,
            tags=tags,
            opts=child(self),
        )
        common = {"resource_group_name": self.resource_group.name, "location": args.location, "tags": tags}

        self.log_analytics = azure_native.operationalinsights.Workspace(
            f"{name}-log-analytics",
            workspace_name=names.log_analytics_workspace,
            sku={"name": "PerGB2018"},
            retention_in_days=args.log_retention_days,
            # A daily cap keeps a noisy dev cluster from running up the bill; prod is uncapped
            # so that an incident never loses its logs.
            workspace_capping=None if args.production else {"daily_quota_gb": 1},
            **common,
            opts=child(self),
        )
        # Workspace-based Application Insights: classic (standalone) resources are retired.
        self.application_insights = azure_native.applicationinsights.Component(
            f"{name}-application-insights",
            resource_name_=names.application_insights,
            kind="web",
            application_type="web",
            workspace_resource_id=self.log_analytics.id,
            ingestion_mode="LogAnalytics",
            # Entra ID auth only: no instrumentation-key-only ingestion.
            disable_local_auth=True,
            **common,
            opts=child(self),
        )
        # One identity for workloads (AML jobs, AKS scoring pods via workload identity
        # federation); it gets exactly the data-plane roles it uses (see Access).
        self.workload_identity = azure_native.managedidentity.UserAssignedIdentity(
            f"{name}-workload-identity",
            resource_name_=names.user_assigned_identity,
            **common,
            opts=child(self),
        )
        self.log_analytics_diagnostics = diagnostic_setting(
            f"{name}-log-analytics", "log_analytics", self.log_analytics.id, self.log_analytics.id, self
        )
        self.application_insights_diagnostics = diagnostic_setting(
            f"{name}-application-insights", "application_insights", self.application_insights.id, self.log_analytics.id, self
        )
        self.register_outputs({"resource_group_name": self.resource_group.name})
