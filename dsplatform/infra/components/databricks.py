"""Azure Databricks: the premium workspace and its Unity Catalog access connector (Azure
side), then the workspace's own configuration through pulumi-databricks.

The two halves are separate components because role assignments sit between them: the
workspace must exist before roles can be granted on it, and the Key Vault-backed secret
scope and the storage credential only work once those roles are in place.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native
import pulumi_databricks as databricks

from dsplatform.infra.components.common import child, diagnostic_setting
from dsplatform.infra.components.network import Network
from dsplatform.infra.config.schema import DatabricksSettings
from dsplatform.naming import SUBNET_NAMES, ResourceNames

CATALOG_SCHEMAS = ("raw", "curated", "ml")
# Unity Catalog privileges by audience. Prod gives people read access only: changes there go
# through the CI service principal (platform policy, docs/infra.md "Access").
CATALOG_WRITE_PRIVILEGES = (
    "USE_CATALOG",
    "USE_SCHEMA",
    "SELECT",
    "MODIFY",
    "CREATE_SCHEMA",
    "CREATE_TABLE",
    "CREATE_FUNCTION",
    "CREATE_MODEL",
    "CREATE_VOLUME",
    "READ_VOLUME",
    "WRITE_VOLUME",
    "EXECUTE",
)
CATALOG_READ_PRIVILEGES = ("USE_CATALOG", "USE_SCHEMA", "SELECT", "READ_VOLUME", "EXECUTE", "BROWSE")
LOCATION_WRITE_PRIVILEGES = ("READ_FILES", "WRITE_FILES", "CREATE_EXTERNAL_TABLE")
LOCATION_READ_PRIVILEGES = ("READ_FILES",)


@dataclass(frozen=True)
class DatabricksWorkspaceArgs:
    """Only what the Azure side of the workspace reads. `network` is the VNet the clusters
    are injected into, present in every environment with Databricks (a storage firewall
    needs an injected workspace); `private` decides whether the front end is private too."""

    names: ResourceNames
    location: str
    tags: Mapping[str, str]
    resource_group_name: pulumi.Input[str]
    log_analytics_workspace_id: pulumi.Input[str]
    subscription_id: pulumi.Input[str]
    sku: str
    private: bool
    network: Network | None = None

    def __post_init__(self) -> None:
        if self.private and self.network is None:
            raise ValueError("DatabricksWorkspace: private is true but no network was given for its injection and endpoints")


@dataclass(frozen=True)
class DatabricksWorkspaceConfigurationArgs:
    """Only what the workspace's own configuration reads: the workspace and the resources it
    is bound to, by id, and who gets which privileges (groups by display name, the CI
    service principal by application id)."""

    project: str
    environment: str
    names: ResourceNames
    cost_center: str
    production: bool
    private: bool
    allowed_ip_ranges: tuple[str, ...]
    databricks: DatabricksSettings
    data_science_group_name: str
    platform_admins_name: str
    ci_client_id: str
    workspace_host: pulumi.Input[str]
    workspace_id: pulumi.Input[str]
    access_connector_id: pulumi.Input[str]
    key_vault_id: pulumi.Input[str]
    key_vault_uri: pulumi.Input[str]
    lake_account_name: pulumi.Output[str]


class DatabricksWorkspace(pulumi.ComponentResource):
    access_connector: azure_native.databricks.AccessConnector
    workspace: azure_native.databricks.Workspace

    def __init__(self, name: str, args: DatabricksWorkspaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dsplatform:azure:DatabricksWorkspace", name, None, opts)
        names = args.names
        network = args.network
        # Injection follows the network (every environment has the Databricks subnets); the
        # front end is private only in private mode.
        private = args.private
        tags = dict(args.tags)

        # Unity Catalog reaches the lake as this connector's managed identity: no keys, no PAT.
        self.access_connector = azure_native.databricks.AccessConnector(
            f"{name}-access-connector",
            connector_name=names.databricks_access_connector,
            resource_group_name=args.resource_group_name,
            location=args.location,
            identity={"type": "SystemAssigned"},
            tags=tags,
            opts=child(self),
        )
        # Secure cluster connectivity (no public IPs on cluster nodes) everywhere; AVM's
        # module leaves public IPs on. Private mode also injects clusters into our VNet.
        parameters: dict = {"enable_no_public_ip": {"value": True}}
        depends_on: list[pulumi.Resource] = []
        if network is not None:
            parameters |= {
                "custom_virtual_network_id": {"value": network.virtual_network.id},
                "custom_public_subnet_name": {"value": SUBNET_NAMES["databricks_host"]},
                "custom_private_subnet_name": {"value": SUBNET_NAMES["databricks_container"]},
            }
            depends_on = [network.subnets["databricks_host"], network.subnets["databricks_container"]]
        managed_resource_group = names.databricks_managed_resource_group
        self.workspace = azure_native.databricks.Workspace(
            f"{name}-workspace",
            workspace_name=names.databricks_workspace,
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku={"name": args.sku},
            compute_mode="Hybrid",
            managed_resource_group_id=pulumi.Output.from_input(args.subscription_id).apply(
                lambda subscription: f"/subscriptions/{subscription}/resourceGroups/{managed_resource_group}"
            ),
            parameters=parameters,
            public_network_access="Disabled" if private else "Enabled",
            # With front- and back-end private link, Databricks needs no inbound NSG rules of its own.
            required_nsg_rules="NoAzureDatabricksRules" if private else None,
            tags=tags,
            opts=child(self, depends_on),
        )
        self.private_endpoint = None
        self.browser_authentication_endpoint = None
        if private and network is not None:  # network is always given when private (DatabricksWorkspaceArgs)
            self.private_endpoint = network.private_endpoint(
                names.databricks_workspace, self.workspace.id, "databricks_ui_api", ["databricks_ui_api"], self
            )
            # SSO callbacks to a private front end need this endpoint (one per region and DNS
            # zone): "Enable Azure Private Link back-end and front-end connections",
            # https://learn.microsoft.com/azure/databricks/security/network/classic/private-link
            self.browser_authentication_endpoint = network.private_endpoint(
                names.databricks_workspace, self.workspace.id, "browser_authentication", ["databricks_ui_api"], self
            )
        self.diagnostics = diagnostic_setting(
            f"{name}-workspace", "databricks_workspace", self.workspace.id, args.log_analytics_workspace_id, self
        )
        self.host = self.workspace.workspace_url.apply(lambda url: f"https://{url}")
        self.access_connector_principal_id = self.access_connector.identity.apply(lambda identity: identity.principal_id)
        self.register_outputs({"host": self.host})


class DatabricksWorkspaceConfiguration(pulumi.ComponentResource):
    """Workspace-level configuration through a pulumi-databricks provider bound to the new
    workspace by its Azure resource id, so it authenticates with Entra ID (a Key
    Vault-backed secret scope cannot be created with a personal access token)."""

    provider: databricks.Provider
    secret_scope: databricks.SecretScope
    cluster_policy: databricks.ClusterPolicy
    storage_credential: databricks.StorageCredential
    external_location: databricks.ExternalLocation
    catalog: databricks.Catalog
    schemas: dict[str, databricks.Schema]
    experiment_folder: databricks.Directory

    def __init__(
        self,
        name: str,
        args: DatabricksWorkspaceConfigurationArgs,
        depends_on: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("dsplatform:databricks:WorkspaceConfiguration", name, None, opts)
        names = args.names
        production = args.production
        data_scientists = args.data_science_group_name
        ci = args.ci_client_id
        project, environment = args.project, args.environment

        # auth_type is pinned: with it set the provider uses only that method, never a stray
        # PAT or environment credential (Databricks unified authentication), and a Key
        # Vault-backed secret scope needs an Entra ID method.
        self.provider = databricks.Provider(
            f"{name}-provider",
            host=args.workspace_host,
            azure_workspace_resource_id=args.workspace_id,
            auth_type=args.databricks.provider_auth_type,
            opts=child(self, depends_on),
        )

        def options(*extra: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=[*depends_on, *extra])

        self.ip_access_list = None
        if not args.private:
            # The public dev workspace answers the office allowlist only, like the other services.
            self.workspace_conf = databricks.WorkspaceConf(
                f"{name}-workspace-conf", custom_config={"enableIpAccessLists": "true"}, opts=options()
            )
            self.ip_access_list = databricks.IpAccessList(
                f"{name}-ip-access-list",
                label="allowed-ip-ranges",
                list_type="ALLOW",
                ip_addresses=list(args.allowed_ip_ranges),
                opts=options(self.workspace_conf),
            )

        self.secret_scope = databricks.SecretScope(
            f"{name}-secret-scope",
            name=f"{project}-{environment}",
            backend_type="AZURE_KEYVAULT",
            keyvault_metadata={"resource_id": args.key_vault_id, "dns_name": args.key_vault_uri},
            opts=options(),
        )
        policy = {
            "node_type_id": {"type": "allowlist", "values": list(args.databricks.allowed_node_types)},
            "driver_node_type_id": {"type": "allowlist", "values": list(args.databricks.allowed_node_types)},
            "autotermination_minutes": {"type": "fixed", "value": args.databricks.autotermination_minutes, "hidden": False},
            "autoscale.max_workers": {"type": "range", "maxValue": args.databricks.max_workers, "defaultValue": 2},
            "data_security_mode": {"type": "allowlist", "values": ["USER_ISOLATION", "SINGLE_USER"]},
            "custom_tags.project": {"type": "fixed", "value": project},
            "custom_tags.environment": {"type": "fixed", "value": environment},
            "custom_tags.cost-center": {"type": "fixed", "value": args.cost_center},
        }
        self.cluster_policy = databricks.ClusterPolicy(
            f"{name}-cluster-policy",
            name=f"{project}-{environment}-standard",
            definition=json.dumps(policy, sort_keys=True),
            description="Allowed node types, autotermination and cost tags for every cluster of this project.",
            opts=options(),
        )
        self.cluster_policy_permissions = databricks.Permissions(
            f"{name}-cluster-policy-permissions",
            cluster_policy_id=self.cluster_policy.id,
            access_controls=[{"group_name": data_scientists, "permission_level": "CAN_USE"}],
            opts=options(),
        )
        self.storage_credential = databricks.StorageCredential(
            f"{name}-storage-credential",
            name=f"{names.databricks_catalog}_lake",
            azure_managed_identity={"access_connector_id": args.access_connector_id},
            comment="Managed identity of the project's access connector; no keys.",
            isolation_mode="ISOLATION_MODE_ISOLATED",
            opts=options(),
        )
        curated_url = args.lake_account_name.apply(lambda account: f"abfss://curated@{account}.dfs.core.windows.net/")
        self.external_location = databricks.ExternalLocation(
            f"{name}-external-location",
            name=f"{names.databricks_catalog}_curated",
            url=curated_url,
            credential_name=self.storage_credential.name,
            isolation_mode="ISOLATION_MODE_ISOLATED",
            read_only=False,
            opts=options(),
        )
        self.catalog = databricks.Catalog(
            f"{name}-catalog",
            name=names.databricks_catalog,
            storage_root=curated_url.apply(lambda url: f"{url}unity-catalog"),
            isolation_mode="ISOLATED",
            # The CI service principal owns it: ownership is a write privilege no person holds in prod.
            owner=ci,
            comment=f"{project} ({environment})",
            properties={"project": project, "environment": environment},
            opts=options(self.external_location),
        )
        self.schemas = {
            schema: databricks.Schema(
                f"{name}-schema-{schema}",
                catalog_name=self.catalog.name,
                name=schema,
                owner=ci,
                opts=options(),
            )
            for schema in CATALOG_SCHEMAS
        }
        human_catalog_privileges = CATALOG_READ_PRIVILEGES if production else CATALOG_WRITE_PRIVILEGES
        self.catalog_grants = databricks.Grants(
            f"{name}-catalog-grants",
            catalog=self.catalog.name,
            grants=[
                {"principal": ci, "privileges": ["ALL_PRIVILEGES"]},
                {"principal": data_scientists, "privileges": list(human_catalog_privileges)},
                {"principal": args.platform_admins_name, "privileges": ["USE_CATALOG", "BROWSE"]},
            ],
            opts=options(),
        )
        self.external_location_grants = databricks.Grants(
            f"{name}-external-location-grants",
            external_location=self.external_location.name,
            grants=[
                {"principal": ci, "privileges": list(LOCATION_WRITE_PRIVILEGES)},
                {
                    "principal": data_scientists,
                    "privileges": list(LOCATION_READ_PRIVILEGES if production else LOCATION_WRITE_PRIVILEGES),
                },
            ],
            opts=options(),
        )
        # MLflow experiments live in one shared folder per environment; people manage
        # their experiments in dev and only read them in prod, where CI runs training.
        self.experiment_folder = databricks.Directory(
            f"{name}-experiment-folder",
            path=f"/Shared/{project}/{environment}/experiments",
            opts=options(),
        )
        self.experiment_folder_permissions = databricks.Permissions(
            f"{name}-experiment-folder-permissions",
            directory_path=self.experiment_folder.path,
            access_controls=[
                {"group_name": data_scientists, "permission_level": "CAN_READ" if production else "CAN_MANAGE"},
                {"service_principal_name": ci, "permission_level": "CAN_MANAGE"},
            ],
            opts=options(),
        )
        self.register_outputs({"catalog": self.catalog.name})
