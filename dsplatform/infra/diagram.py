"""The plan as an architecture picture: Azure icons, one box per service, the network's
subnets as boxes of what sits in them, and only the edges that say something.

Why: the Mermaid graph drew every creation-order dependency, so the resource group fanned
an edge out to nearly every node and the rendered picture was 2384x4752 px. Here the
resource group is the frame everything sits in; edges are the references a reader cares
about (a private endpoint to its target, a workspace to its storage, a subnet's tenants, a
managed identity to what its roles reach), and configuration detail (grants, diagnostic
settings, DNS links) stays in the table.

Drawn with the `diagrams` package (https://diagrams.mingrammer.com, Azure icon set) and
Graphviz's `dot` (installed by `make -C infra setup`). Icons are inlined into the SVG, so
the file shows the same picture on any machine.
"""

from __future__ import annotations

import base64
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsplatform.infra.plan_view import budget_summary, kind_label, service_of

if TYPE_CHECKING:
    from dsplatform.infra.plan import Plan, PlannedResource

FORMATS = ("svg", "png")
DIRECTION = "TB"
GRID_COLUMNS = 4


class DiagramError(Exception):
    """The picture cannot be drawn (Graphviz missing, unknown format, unwritable path)."""


def _icons() -> dict[str, Callable[..., Any]]:
    from diagrams.azure import analytics, compute, containers, general, identity, ml, monitor, network, networking, security, storage

    return {
        "azure-native:network:PrivateEndpoint": network.PrivateEndpoint,
        "azure-native:network:Subnet": network.Subnets,
        "azure-native:network:NetworkSecurityGroup": network.ApplicationSecurityGroups,
        "azure-native:network:NatGateway": networking.Nat,
        "azure-native:network:PublicIPAddress": network.PublicIpAddresses,
        "azure-native:privatedns:PrivateZone": network.DNSPrivateZones,
        "azure-native:storage:StorageAccount": storage.StorageAccounts,
        "lake": storage.DataLakeStorage,
        "azure-native:keyvault:Vault": security.KeyVaults,
        "azure-native:containerregistry:Registry": containers.ContainerRegistries,
        "azure-native:managedidentity:UserAssignedIdentity": identity.ManagedIdentities,
        "azure-native:machinelearningservices:Workspace": ml.MachineLearningServiceWorkspaces,
        "azure-native:machinelearningservices:Compute": compute.VMScaleSets,
        "azure-native:machinelearningservices:Datastore": storage.GeneralStorage,
        "azure-native:databricks:Workspace": analytics.Databricks,
        "azure-native:databricks:AccessConnector": identity.ManagedIdentities,
        "databricks:index/catalog:Catalog": analytics.AzureDatabricks,
        "databricks:index/externalLocation:ExternalLocation": analytics.AzureDatabricks,
        "databricks:index/storageCredential:StorageCredential": analytics.AzureDatabricks,
        "databricks:index/secretScope:SecretScope": analytics.AzureDatabricks,
        "azure-native:containerservice:ManagedCluster": compute.KubernetesServices,
        "azure-native:containerservice:AgentPool": compute.VMScaleSets,
        "azure-native:kubernetesconfiguration:Extension": general.Extensions,
        "azure-native:operationalinsights:Workspace": monitor.LogAnalyticsWorkspaces,
        "azure-native:applicationinsights:Component": monitor.ApplicationInsights,
        "azure-native:consumption:Budget": general.CostBudgets,
        "azure-native:datafactory:Factory": analytics.DataFactories,
        "azure-native:datafactory:IntegrationRuntime": compute.VMScaleSets,
        "azure-native:datafactory:ManagedPrivateEndpoint": network.PrivateEndpoint,
        "azure-native:cognitiveservices:Account": ml.CognitiveServices,
    }


# Resources drawn as nodes; the rest are folded into a node's label (blob containers into
# their account, schemas into their catalog) or left to the table.
DRAWN = frozenset(
    {
        "azure-native:network:PrivateEndpoint", "azure-native:network:Subnet", "azure-native:network:NetworkSecurityGroup",
        "azure-native:network:NatGateway", "azure-native:network:PublicIPAddress",
        "azure-native:storage:StorageAccount", "azure-native:keyvault:Vault", "azure-native:containerregistry:Registry",
        "azure-native:managedidentity:UserAssignedIdentity", "azure-native:machinelearningservices:Workspace",
        "azure-native:machinelearningservices:Compute", "azure-native:machinelearningservices:Datastore",
        "azure-native:databricks:Workspace", "azure-native:databricks:AccessConnector",
        "databricks:index/catalog:Catalog", "databricks:index/externalLocation:ExternalLocation",
        "databricks:index/storageCredential:StorageCredential", "databricks:index/secretScope:SecretScope",
        "azure-native:containerservice:ManagedCluster", "azure-native:containerservice:AgentPool",
        "azure-native:kubernetesconfiguration:Extension", "azure-native:operationalinsights:Workspace",
        "azure-native:applicationinsights:Component", "azure-native:consumption:Budget",
        "azure-native:datafactory:Factory", "azure-native:datafactory:IntegrationRuntime",
        "azure-native:datafactory:ManagedPrivateEndpoint", "azure-native:cognitiveservices:Account",
    }
)  # fmt: skip
# Services that share a box: a vault and a registry are each one node.
SERVICE_BOXES = {"Key Vault": "Secrets and images", "Container registry": "Secrets and images"}
# Databricks reads its injected subnets by name, not by id (ARM template parameters).
SUBNET_NAME_PARAMETERS = ("customPublicSubnetName", "customPrivateSubnetName")


@dataclass
class Edge:
    source: str
    target: str
    label: str = ""
    style: str = "solid"


@dataclass
class Picture:
    """What is drawn, independent of the drawing library (tests read it too)."""

    title: str
    frame: str
    nodes: dict[str, tuple[str, str]] = field(default_factory=dict)  # urn -> (icon key, label)
    boxes: dict[str, list[str]] = field(default_factory=dict)  # box title -> urns
    network: str = ""  # the VNet box title, when there is a VNet
    subnet_boxes: dict[str, list[str]] = field(default_factory=dict)  # subnet box title -> urns
    network_nodes: list[str] = field(default_factory=list)  # urns directly in the VNet box
    edges: list[Edge] = field(default_factory=list)


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return [value] if isinstance(value, str) else []


def picture(plan: Plan) -> Picture:
    """Decide the nodes, boxes and edges of `plan`'s picture."""
    resources = plan.resources
    by_id = {resource.id: resource for resource in resources if resource.id}
    drawn = [resource for resource in resources if resource.type in DRAWN]
    drawn_urns = {resource.urn for resource in drawn}
    (group,) = [resource for resource in resources if resource.type == "azure-native:resources:ResourceGroup"] or [None]
    result = Picture(
        title=f"{plan.settings.stack_name}: {len(resources)} resources, {len(plan.role_assignments)} role assignments",
        frame=f"resource group {group.name if group else plan.settings.names.resource_group} ({plan.settings.location})",
    )
    containers: dict[str, list[str]] = {}
    for resource in plan.resources_of("azure-native:storage:BlobContainer"):
        containers.setdefault(resource.properties.get("accountName", ""), []).append(resource.name)
    schemas: dict[str, list[str]] = {}
    for resource in plan.resources_of("databricks:index/schema:Schema"):
        schemas.setdefault(resource.properties.get("catalogName", ""), []).append(resource.name)
    diagnostics = len(plan.resources_of("azure-native:monitor:DiagnosticSetting"))

    for resource in drawn:
        icon, label = resource.type, f"{resource.name}\n{kind_label(resource.type)}"
        properties = resource.properties
        if resource.type == "azure-native:storage:StorageAccount":
            lake = bool(properties.get("isHnsEnabled"))
            icon = "lake" if lake else icon
            label = f"{resource.name}\n{'data lake (ADLS Gen2)' if lake else 'storage account'}"
            if containers.get(resource.name):
                label += "\n" + ", ".join(sorted(containers[resource.name]))
        elif resource.type == "databricks:index/catalog:Catalog" and schemas.get(resource.name):
            label += "\nschemas: " + ", ".join(sorted(schemas[resource.name]))
        elif resource.type == "azure-native:network:Subnet":
            label = f"{resource.name}\n{properties.get('addressPrefix', '')}"
        elif resource.type == "azure-native:network:PrivateEndpoint":
            connection = (properties.get("privateLinkServiceConnections") or [{}])[0]
            target = by_id.get(connection.get("privateLinkServiceId", ""))
            groups = "+".join(connection.get("groupIds", []))
            label = f"{target.name if target else resource.name}\n{groups} endpoint"
        elif resource.type == "azure-native:operationalinsights:Workspace" and diagnostics:
            label += f"\ndiagnostics of {diagnostics} resources"
        elif resource.type == "azure-native:consumption:Budget":
            label += "\n" + budget_summary(properties).replace(", alerts", "\nalerts")
        elif (
            resource.type == "azure-native:machinelearningservices:Compute"
            and properties.get("properties", {}).get("computeType") == "ComputeInstance"
        ):
            label += "\n" + str(properties["properties"].get("description", ""))
        elif resource.type == "azure-native:datafactory:ManagedPrivateEndpoint":
            endpoint = properties.get("properties", {})
            target = by_id.get(endpoint.get("privateLinkResourceId", ""))
            label = f"{target.name if target else resource.name}\n{endpoint.get('groupId')} managed private endpoint"
        elif resource.type == "azure-native:cognitiveservices:Account":
            label += f"\n{properties.get('properties', {}).get('customSubDomainName')}.cognitiveservices.azure.com"
        elif resource.type == "azure-native:containerservice:AgentPool":
            label += f"\n{properties.get('vmSize')} x{properties.get('minCount')}-{properties.get('maxCount')}"
        result.nodes[resource.urn] = (icon, label)

    # References: a drawn resource whose properties hold another drawn resource's id.
    references: list[tuple[PlannedResource, PlannedResource]] = []
    for resource in drawn:
        seen = set()
        for text in _strings(resource.properties):
            target = by_id.get(text)
            if target and target.urn in drawn_urns and target.urn != resource.urn and target.urn not in seen:
                seen.add(target.urn)
                references.append((resource, target))
        if resource.type == "azure-native:machinelearningservices:Datastore":
            account = resource.properties.get("properties", {}).get("accountName")
            references += [(resource, target) for target in drawn if target.name == account and target.type.endswith("StorageAccount")]
        parameters = resource.properties.get("parameters", {}) if resource.type == "azure-native:databricks:Workspace" else {}
        subnet_names = {parameters.get(key, {}).get("value") for key in SUBNET_NAME_PARAMETERS} - {None}
        references += [(resource, target) for target in drawn if target.type.endswith(":Subnet") and target.name in subnet_names]

    # Subnets that hold private endpoints become boxes of them; others stay nodes.
    vnets = plan.resources_of("azure-native:network:VirtualNetwork")
    placed: set[str] = set()
    if vnets:
        (vnet,) = vnets
        prefixes = ", ".join(vnet.properties.get("addressSpace", {}).get("addressPrefixes", []))
        result.network = f"virtual network {vnet.name} ({prefixes})"
        for source, target in references:
            if source.type == "azure-native:network:PrivateEndpoint" and target.type == "azure-native:network:Subnet":
                title = f"subnet {target.name} ({target.properties.get('addressPrefix', '')}): private endpoints"
                result.subnet_boxes.setdefault(title, []).append(source.urn)
                placed |= {source.urn, target.urn}
                result.nodes.pop(target.urn, None)  # the subnet is drawn as the box itself
        for resource in drawn:
            if service_of(resource.type) == "Networking" and resource.urn not in placed:
                result.network_nodes.append(resource.urn)
                placed.add(resource.urn)
    for resource in drawn:
        if resource.urn not in placed:
            service = service_of(resource.type)
            result.boxes.setdefault(SERVICE_BOXES.get(service, service), []).append(resource.urn)

    edges: dict[tuple[str, str], Edge] = {}
    for source, target in references:
        if target.urn not in result.nodes:
            continue  # a private endpoint's subnet: the endpoint sits inside its box
        if source.type == "azure-native:network:PrivateEndpoint":
            edges[(source.urn, target.urn)] = Edge(source.urn, target.urn, "private link", "dashed")
        else:
            edges.setdefault((source.urn, target.urn), Edge(source.urn, target.urn))
    # What workload identities may reach: their roles on drawn resources.
    identities = {resource.name: resource.urn for resource in drawn if resource.type in (
        "azure-native:managedidentity:UserAssignedIdentity", "azure-native:databricks:AccessConnector")}  # fmt: skip
    targets = {resource.name: resource.urn for resource in drawn}
    for row in plan.role_assignments:
        principal = row.principal.removesuffix(" (managed identity)")
        if principal in identities and row.scope in targets:
            key = (identities[principal], targets[row.scope])
            previous = edges.get(key)
            label = f"{previous.label}\n{row.role}" if previous and previous.label else row.role
            edges[key] = Edge(*key, label, "dotted")
    result.edges = sorted(edges.values(), key=lambda edge: (edge.source, edge.target))
    return result


def _inline_icons(svg_path: Path) -> None:
    """Graphviz links each icon by its absolute path on this machine; embed them instead."""
    text = svg_path.read_text(encoding="utf-8")

    def embed(match: re.Match[str]) -> str:
        path = Path(match.group(2))
        if not path.is_file():
            return match.group(0)
        encoded = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'{match.group(1)}="data:image/png;base64,{encoded}"'

    svg_path.write_text(re.sub(r'(xlink:href|href)="(/[^"]+\.png)"', embed, text), encoding="utf-8")


def check_target(output: str | Path) -> str:
    """The format for `output`, or DiagramError: called before planning, so a bad path
    costs nothing and leaves nothing half-written."""
    output = Path(output)
    fmt = output.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise DiagramError(f"--diagram {output}: the file name must end in .svg or .png")
    if not output.parent.is_dir():
        raise DiagramError(f"--diagram {output}: folder {output.parent} does not exist")
    if shutil.which("dot") is None:
        raise DiagramError("--diagram needs Graphviz's dot: run `make -C infra setup` (it installs graphviz)")
    return fmt


def render(plan: Plan, output: str | Path) -> Path:
    """Draw `plan` to `output` (.svg or .png, by its suffix) and return the path."""
    output = Path(output)
    fmt = check_target(output)
    from diagrams import Cluster, Diagram
    from diagrams import Edge as DrawnEdge

    scene = picture(plan)
    icons = _icons()
    drawn: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch) / "plan"
        graph = {"pad": "0.4", "nodesep": "0.9", "ranksep": "1.0", "fontsize": "22", "labelloc": "t", "splines": "spline"}
        node_attributes = {"fontsize": "12"}
        with Diagram(scene.title, filename=str(base), outformat=fmt, show=False, direction=DIRECTION,
                     graph_attr=graph, node_attr=node_attributes, edge_attr={"fontsize": "10", "color": "#56606a"}):  # fmt: skip

            def draw_box(urns: list[str]) -> None:
                for urn in urns:
                    icon, label = scene.nodes[urn]
                    drawn[urn] = icons[icon](label, nodeid=f"n{len(drawn)}")  # stable ids: stable files
                # Graphviz puts a box's unconnected nodes side by side in one rank; invisible
                # edges fold a long box into rows of GRID_COLUMNS, so the picture stays wide
                # rather than a 7-node-long strip.
                for index in range(GRID_COLUMNS, len(urns)):
                    drawn[urns[index - GRID_COLUMNS]] >> DrawnEdge(style="invis") >> drawn[urns[index]]

            with Cluster(scene.frame, graph_attr={"fontsize": "16"}):
                if scene.network:
                    with Cluster(scene.network, graph_attr={"fontsize": "14"}):
                        for title, urns in scene.subnet_boxes.items():
                            with Cluster(title):
                                draw_box(urns)
                        draw_box(scene.network_nodes)
                for title, urns in scene.boxes.items():
                    with Cluster(title, graph_attr={"fontsize": "14"}):
                        draw_box(urns)
            for edge in scene.edges:
                drawn[edge.source] >> DrawnEdge(label=edge.label, style=edge.style) >> drawn[edge.target]
        produced = base.with_suffix(f".{fmt}")
        if fmt == "svg":
            _inline_icons(produced)
        try:
            shutil.copyfile(produced, output)
        except OSError as error:
            raise DiagramError(f"--diagram {output}: cannot write it ({error.strerror})") from None
    return output


def _mermaid_text(text: str) -> str:
    return re.sub(r'["<>]', "", text).replace("\n", "<br/>")


def mermaid_lines(plan: Plan) -> list[str]:
    """The same picture as Mermaid text (`--format mermaid`, and in the Markdown plan, which
    GitHub and Azure DevOps render): the same boxes and edges, so it has no fan either."""
    scene = picture(plan)
    ids = {urn: f"n{index}" for index, urn in enumerate(scene.nodes)}

    def nodes(urns: list[str], indent: str) -> list[str]:
        return [f'{indent}{ids[urn]}["{_mermaid_text(scene.nodes[urn][1])}"]' for urn in urns]

    lines = ["flowchart LR", f'  subgraph frame["{_mermaid_text(scene.frame)}"]']
    if scene.network:
        lines.append(f'    subgraph network["{_mermaid_text(scene.network)}"]')
        for index, (title, urns) in enumerate(scene.subnet_boxes.items()):
            lines += [f'      subgraph subnet{index}["{_mermaid_text(title)}"]', *nodes(urns, "        "), "      end"]
        lines += [*nodes(scene.network_nodes, "      "), "    end"]
    for index, (title, urns) in enumerate(scene.boxes.items()):
        lines += [f'    subgraph box{index}["{_mermaid_text(title)}"]', *nodes(urns, "      "), "    end"]
    lines.append("  end")
    for edge in scene.edges:
        arrow = "-->" if edge.style == "solid" else "-.->"
        label = f"|{_mermaid_text(edge.label).replace('<br/>', ' + ')}|" if edge.label else ""
        lines.append(f"  {ids[edge.source]} {arrow}{label} {ids[edge.target]}")
    return lines
