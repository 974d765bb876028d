"""Container registry for training and scoring images: admin user and anonymous pull off,
so every pull and push is an Entra ID identity with a role (AcrPull / AcrPush)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native

from dsplatform.infra.components.common import PrivateCapableArgs, child, diagnostic_setting


@dataclass(frozen=True, kw_only=True)
class ContainerRegistryArgs(PrivateCapableArgs):
    """Only what the registry reads: its tier follows `production` and `private`."""

    production: bool


class ContainerRegistry(pulumi.ComponentResource):
    registry: azure_native.containerregistry.Registry

    def __init__(self, name: str, args: ContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dsplatform:azure:ContainerRegistry", name, None, opts)
        names = args.names
        private = args.private
        # Private endpoints and IP rules need Premium; dev stays on Standard (a tenth of the price)
        # and relies on Entra ID authentication with the admin user and anonymous pull off.
        premium = private or args.production
        self.registry = azure_native.containerregistry.Registry(
            f"{name}-registry",
            registry_name=names.container_registry,
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku={"name": "Premium" if premium else "Standard"},
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access="Disabled" if private else "Enabled",
            network_rule_bypass_options="AzureServices",
            network_rule_set=({"default_action": "Deny", "ip_rules": []} if premium and private else None),
            zone_redundancy="Enabled" if args.production else "Disabled",
            tags=dict(args.tags),
            opts=child(self),
        )
        self.private_endpoint = (
            args.network.private_endpoint(names.container_registry, self.registry.id, "registry", ["registry"], self)
            if args.network is not None
            else None
        )
        self.diagnostics = diagnostic_setting(
            f"{name}-registry", "container_registry", self.registry.id, args.log_analytics_workspace_id, self
        )
        self.register_outputs({"login_server": self.registry.login_server})
