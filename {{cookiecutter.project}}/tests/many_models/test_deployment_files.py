"""The serving container's deployment definitions agree with the app and load in their own tools' validators."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / ".cloud" / "docker" / "many-models.Dockerfile"
KUBERNETES = ROOT / ".cloud" / "kubernetes" / "many-models-serving.yml"
AZUREML = ROOT / ".cloud" / "azureml" / "endpoints" / "many-models"


def _container_command() -> list[str]:
    match = re.search(r"^CMD (\[.*\])$", DOCKERFILE.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, "the Dockerfile has an exec-form CMD"
    return yaml.safe_load(match.group(1))


def test_the_container_starts_the_app_factory_that_exists():
    command = _container_command()
    module, factory = command[command.index("--factory") + 1].split(":")
    assert callable(getattr(importlib.import_module(module), factory))
    assert command[command.index("--port") + 1] == "8080"


def test_kubernetes_deployment_has_probes_limits_and_a_matching_service():
    documents = {document["kind"]: document for document in yaml.safe_load_all(KUBERNETES.read_text(encoding="utf-8"))}
    assert set(documents) == {"ConfigMap", "Deployment", "Service"}
    pod = documents["Deployment"]["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["ports"][0]["containerPort"] == 8080
    assert {"cpu", "memory"} <= set(container["resources"]["limits"]) and {"cpu", "memory"} <= set(container["resources"]["requests"])
    cache_bytes = int(documents["ConfigMap"]["data"]["MANY_MODELS_CACHE_BYTES"])
    assert cache_bytes < int(container["resources"]["limits"]["memory"].removesuffix("Gi")) * 2**30, "the cache fits the memory limit"
    selector = documents["Service"]["spec"]["selector"]
    assert selector.items() <= pod["metadata"]["labels"].items()
    assert documents["Deployment"]["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()


@pytest.mark.skipif(not AZUREML.is_dir(), reason="generated without Azure ML (compute: databricks)")
def test_azureml_online_endpoint_and_deployment_load_offline():
    from azure.ai.ml import load_online_deployment, load_online_endpoint

    endpoint = load_online_endpoint(AZUREML / "endpoint.yml")
    deployment = load_online_deployment(AZUREML / "deployment.yml")
    assert deployment.endpoint_name == endpoint.name and 3 <= len(endpoint.name) <= 32
    routes = deployment.environment.inference_config
    assert (routes["livenessRoute"]["path"], routes["readinessRoute"]["path"], routes["scoringRoute"]["path"]) == (
        "/health",
        "/ready",
        "/predict",
    )
