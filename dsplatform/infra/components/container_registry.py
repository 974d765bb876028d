"""Container registry for training and scoring images: admin user and anonymous pull off,
so every pull and push is an Entra ID identity with a role (AcrPull / AcrPush)."""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure_native

from dsplatform.infra.components.common import child, diagnostic_setting
from dsplatform.infra.components.foundation import Foundation
from dsplatform.infra.components.network import Network
from dsplatform.infra.config.schema import StackSettings


class ContainerRegistry(pulumi.ComponentResource):
    registry: azure_native.containerregistry.Registry

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        foundation: Foundation,
        network: Network | None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("dsplatform:azure:ContainerRegistry", name, None, opts)
        names = settings.names
        private = settings.settings.private_networking
        # Private endpoints and IP rules need Premium; dev stays on Standard (a tenth of the price)
        # and relies on Entra ID authentication with the admin user and anonymous pull off.
        premium = private or settings.is_production
        self.registry = azure_native.containerregistry.Registry(
            f"{name}-registry",
            registry_name=names.container_registry,
            resource_group_name=foundation.resource_group.name,
            location=settings.location,
            sku={"name": "Premium" if premium else "Standard"},
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access="Disabled" if private else "Enabled",
            network_rule_bypass_options="AzureServices",
            network_rule_set=({"default_action": "Deny", "ip_rules": []} if premium and private else None),
            zone_redundancy="Enabled" if settings.is_production else "Disabled",
            tags=settings.resource_tags(),
            opts=child(self),
        )
        self.private_endpoint = (
            network.private_endpoint(names.container_registry, self.registry.id, "registry", ["registry"], self) if network else None
        )
        self.diagnostics = diagnostic_setting(f"{name}-registry", "container_registry", self.registry.id, foundation.log_analytics.id, self)
        self.register_outputs({"login_server": self.registry.login_server})
