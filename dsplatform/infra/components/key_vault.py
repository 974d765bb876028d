"""Key Vault with the Azure Verified Modules defaults: RBAC mode, purge protection, soft
delete, and network ACLs. Its name carries the deterministic suffix because a deleted
vault keeps its name reserved while soft-deleted (mlops-v2 collided on this repeatedly)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native

from dsplatform.infra.components.common import PrivateCapableArgs, child, diagnostic_setting


@dataclass(frozen=True, kw_only=True)
class KeyVaultArgs(PrivateCapableArgs):
    """Only what the vault reads: where it lives, who signs in (the tenant), whether the
    environment is private, and the allowlist that admits a public one."""

    tenant_id: pulumi.Input[str]
    production: bool
    allowed_ip_ranges: tuple[str, ...] = ()


class KeyVault(pulumi.ComponentResource):
    vault: azure_native.keyvault.Vault

    def __init__(self, name: str, args: KeyVaultArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dsplatform:azure:KeyVault", name, None, opts)
        names = args.names
        private = args.private
        self.vault = azure_native.keyvault.Vault(
            f"{name}-vault",
            vault_name=names.key_vault,
            resource_group_name=args.resource_group_name,
            location=args.location,
            properties={
                "tenant_id": args.tenant_id,
                "sku": {"family": "A", "name": "premium" if args.production else "standard"},
                # Access through Azure RBAC role assignments only, never access policies.
                "enable_rbac_authorization": True,
                "enable_soft_delete": True,
                "enable_purge_protection": True,
                # Short in dev so a torn-down vault frees its name sooner; 90 days in prod.
                "soft_delete_retention_in_days": 90 if args.production else 7,
                "public_network_access": "Disabled" if private else "Enabled",
                "network_acls": {
                    "default_action": "Deny",
                    "bypass": "AzureServices",
                    "ip_rules": [] if private else [{"value": address} for address in args.allowed_ip_ranges],
                },
                "enabled_for_deployment": False,
                "enabled_for_disk_encryption": False,
                "enabled_for_template_deployment": False,
            },
            tags=dict(args.tags),
            # Purge protection means a replaced vault cannot be deleted for good: never replace it by accident.
            opts=child(self).merge(pulumi.ResourceOptions(protect=args.production)),
        )
        self.private_endpoint = (
            args.network.private_endpoint(names.key_vault, self.vault.id, "vault", ["vault"], self) if args.network is not None else None
        )
        self.diagnostics = diagnostic_setting(f"{name}-vault", "key_vault", self.vault.id, args.log_analytics_workspace_id, self)
        self.vault_uri = self.vault.properties.apply(lambda properties: properties.vault_uri)
        self.register_outputs({"vault_uri": self.vault_uri})
