"""The rendered architecture picture: drawn for every environment, with the nodes a reader
looks for, inside service and subnet boxes, and without the resource group's edge fan."""

from __future__ import annotations

import copy
import struct
import xml.etree.ElementTree as ElementTree
from collections import Counter

import pytest
import yaml

from dsplatform.cli import main
from dsplatform.infra.diagram import DRAWN, picture, render
from dsplatform.vocabulary import ENVIRONMENTS, EXIT_INVALID

from .conftest import EXAMPLE, plan_of, settings_from

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def plans():
    data = yaml.safe_load(EXAMPLE.read_text())
    data = copy.deepcopy(data)
    data["environments"].setdefault("staging", {})  # optional in example.yaml; draw it too
    return {environment: plan_of(settings_from(data, environment)) for environment in ENVIRONMENTS}


def svg_texts(path) -> tuple[list[str], int, int]:
    """Every text in the SVG, the number of nodes and of edges Graphviz drew."""
    root = ElementTree.parse(path).getroot()
    texts = [element.text for element in root.iter(f"{SVG}text") if element.text]
    groups = Counter(element.get("class") for element in root.iter(f"{SVG}g"))
    return texts, groups["node"], groups["edge"]


def png_size(path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", header[16:24])


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_diagram_is_drawn_for_every_environment(plans, environment, tmp_path):
    plan = plans[environment]
    svg = render(plan, tmp_path / f"{environment}.svg")
    texts, nodes, edges = svg_texts(svg)
    drawn = [resource for resource in plan.resources if resource.type in DRAWN]
    scene = picture(plan)
    # Every drawable resource is a node, except a subnet drawn as the box of its endpoints.
    assert nodes == len(scene.nodes) == len(drawn) - len(scene.subnet_boxes) > 15
    assert edges > 10
    joined = "\n".join(texts)
    names = plan.settings.names
    for expected in (names.resource_group, names.storage_account, names.key_vault, names.container_registry,
                     names.machine_learning_workspace, names.databricks_workspace, names.aks_cluster, "Log Analytics"):  # fmt: skip
        assert expected in joined, expected
    # Service boxes, and the subnet box of private endpoints where the network is private.
    assert {"Storage", "Azure ML", "Databricks", "AKS", "Monitoring"} <= set(texts)
    if plan.settings.settings.private_networking:
        assert any(text.startswith("subnet snet-pe") for text in texts)
        assert any(text.startswith("virtual network ") for text in texts)
    # Icons are inlined: the file shows the same picture on any machine.
    content = svg.read_text()
    assert "data:image/png;base64," in content and 'href="/' not in content

    png = render(plan, tmp_path / f"{environment}.png")
    width, height = png_size(png)
    assert png.stat().st_size > 50_000 and width > 1000 and height > 800


def test_no_fan_of_edges_and_every_node_in_one_box(plans):
    for plan in plans.values():
        scene = picture(plan)
        placed = [urn for urns in scene.boxes.values() for urn in urns]
        placed += [urn for urns in scene.subnet_boxes.values() for urn in urns] + scene.network_nodes
        assert sorted(placed) == sorted(scene.nodes), "a node outside every box, or in two"
        degree = Counter([edge.source for edge in scene.edges] + [edge.target for edge in scene.edges])
        # The Mermaid graph gave the resource group ~60 edges; here no node has more than a handful.
        assert max(degree.values()) <= 8, degree.most_common(3)
        assert all(edge.source in scene.nodes and edge.target in scene.nodes for edge in scene.edges)
        assert not [urn for urn in scene.nodes if urn.endswith("ResourceGroup::" + plan.settings.names.resource_group)]


def test_edges_say_something(plans):
    plan = plans["prod"]
    scene = picture(plan)
    by_urn = {resource.urn: resource for resource in plan.resources}
    pairs = {(by_urn[edge.source].name, by_urn[edge.target].name, edge.label) for edge in scene.edges}
    names = plan.settings.names
    assert (f"pe-{names.key_vault}-vault", names.key_vault, "private link") in pairs
    assert (names.machine_learning_workspace, names.machine_learning_storage_account, "") in pairs
    assert ("lake_curated", names.storage_account, "") in pairs  # the datastore reads the lake
    assert ("id-example-prd", names.container_registry, "AcrPull") in pairs


def test_cli_draws_and_refuses_a_bad_path_before_planning(tmp_path, capsys):
    assert main(["plan", str(EXAMPLE), "--env", "dev", "--format", "json", "--diagram", str(tmp_path / "plan.jpg")]) == EXIT_INVALID
    error = capsys.readouterr()
    assert "must end in .svg or .png" in error.err and error.out == ""  # refused before any output
    assert main(["plan", str(EXAMPLE), "--env", "dev", "--diagram", str(tmp_path / "missing" / "plan.svg")]) == EXIT_INVALID
    assert "does not exist" in capsys.readouterr().err
    assert main(["plan", str(EXAMPLE), "--env", "dev", "--diagram", str(tmp_path / "plan.svg")]) == 0
    assert f"wrote {tmp_path / 'plan.svg'}" in capsys.readouterr().err
    assert svg_texts(tmp_path / "plan.svg")[1] > 15
