"""An Azure AI services account per project, in the project's own resource group.

Why per project: Microsoft's guidance for data-science projects keeps each project's AI
services in its resource group so that data access stays separate between projects.

Secure by construction:
- kind `AIServices` with local (key) authentication off: callers use Microsoft Entra ID
  only ("Disable local authentication in Azure AI Services",
  https://learn.microsoft.com/azure/ai-services/disable-local-auth);
- a custom subdomain, which Entra ID tokens and private endpoints both need ("Custom
  subdomain names for Azure AI services",
  https://learn.microsoft.com/azure/ai-services/cognitive-services-custom-subdomains); it is
  unique across Azure and cannot be changed later, so it comes from the naming module with
  the deterministic suffix;
- in private environments, public network access off and a private endpoint (`account`,
  zone privatelink.cognitiveservices.azure.com); in public ones, the firewall admits the
  environment's allowlist only ("Configure Azure AI services virtual networks",
  https://learn.microsoft.com/azure/ai-services/cognitive-services-virtual-networks);
- logs and metrics to the project's Log Analytics workspace;
- one role grant, Cognitive Services User to the project's workload identity
  (components/access.py): people and other identities get nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native

from dsplatform.infra.components.common import PrivateCapableArgs, child, diagnostic_setting


@dataclass(frozen=True, kw_only=True)
class AIServicesArgs(PrivateCapableArgs):
    """Only what the account needs from the rest of the stack."""

    allowed_ip_ranges: tuple[str, ...] = ()


class AIServices(pulumi.ComponentResource):
    account: azure_native.cognitiveservices.Account
    private_endpoint: azure_native.network.PrivateEndpoint | None
    diagnostics: azure_native.monitor.DiagnosticSetting

    def __init__(self, name: str, args: AIServicesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dsplatform:azure:AIServices", name, None, opts)
        names = args.names
        private = args.private
        self.account = azure_native.cognitiveservices.Account(
            f"{name}-account",
            account_name=names.ai_services,
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind="AIServices",
            sku={"name": "S0"},
            identity={"type": "SystemAssigned"},
            properties={
                "custom_sub_domain_name": names.ai_services_subdomain,
                "disable_local_auth": True,
                "public_network_access": "Disabled" if private else "Enabled",
                "network_acls": {
                    "default_action": "Deny",
                    "ip_rules": [] if private else [{"value": address} for address in args.allowed_ip_ranges],
                },
                # Nothing leaves the account for destinations the platform did not list.
                "restrict_outbound_network_access": True,
                "allowed_fqdn_list": [],
            },
            tags=dict(args.tags),
            opts=child(self),
        )
        self.private_endpoint = (
            args.network.private_endpoint(names.ai_services, self.account.id, "account", ["account"], self)
            if args.network is not None
            else None
        )
        self.diagnostics = diagnostic_setting(f"{name}-account", "ai_services", self.account.id, args.log_analytics_workspace_id, self)
        self.endpoint = pulumi.Output.from_input(f"https://{names.ai_services_subdomain}.cognitiveservices.azure.com/")
        self.register_outputs({"endpoint": self.endpoint})
