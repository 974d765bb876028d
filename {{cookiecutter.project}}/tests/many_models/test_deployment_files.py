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


def _kubernetes_documents(text: str | None = None) -> list[dict]:
    return [document for document in yaml.safe_load_all(text or KUBERNETES.read_text(encoding="utf-8")) if document]


def test_kubernetes_deployment_has_probes_limits_and_a_matching_service():
    documents = {document["kind"]: document for document in _kubernetes_documents()}
    assert set(documents) == {"ConfigMap", "Deployment", "Service", "NetworkPolicy"}
    pod = documents["Deployment"]["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["ports"][0]["containerPort"] == 8080
    assert {"cpu", "memory"} <= set(container["resources"]["limits"]) and {"cpu", "memory"} <= set(container["resources"]["requests"])
    cache_bytes = int(documents["ConfigMap"]["data"]["MANY_MODELS_CACHE_BYTES"])
    assert cache_bytes < int(container["resources"]["limits"]["memory"].removesuffix("Mi")) * 2**20, "the cache fits the memory limit"
    selector = documents["Service"]["spec"]["selector"]
    assert selector.items() <= pod["metadata"]["labels"].items()
    assert documents["Deployment"]["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()


def test_kubernetes_pod_is_locked_down_and_writes_only_to_its_empty_dir():
    documents = _kubernetes_documents()
    assert {document["metadata"].get("namespace") for document in documents} == {"scoring"}, "one named namespace, never default"
    deployment = next(document for document in documents if document["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]} and context["seccompProfile"] == {"type": "RuntimeDefault"}
    # Everything the app writes (tempfile, MLflow downloads, HOME caches, the state folder) lands on the emptyDir.
    (mount,) = container["volumeMounts"]
    (volume,) = pod["volumes"]
    assert volume["name"] == mount["name"] and "emptyDir" in volume
    environment = next(document for document in documents if document["kind"] == "ConfigMap")["data"]
    for variable in ("TMPDIR", "HOME", "XDG_CACHE_HOME", "PIPELINE_STATE_DIR"):
        assert Path(environment[variable]).is_relative_to(mount["mountPath"]), variable


def test_kubernetes_network_policy_denies_by_default_and_allows_only_the_serving_port():
    policies = [document for document in _kubernetes_documents() if document["kind"] == "NetworkPolicy"]
    labels = next(document for document in _kubernetes_documents() if document["kind"] == "Deployment")["spec"]["template"]["metadata"]
    for policy in policies:
        assert policy["spec"]["podSelector"]["matchLabels"].items() <= labels["labels"].items()
    deny = [policy for policy in policies if "ingress" not in policy["spec"] and "egress" not in policy["spec"]]
    assert deny and set(deny[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    allowed_ports = [port for policy in policies for rule in policy["spec"].get("ingress", []) for port in rule["ports"]]
    assert allowed_ports == [{"protocol": "TCP", "port": 8080}]


def test_manifest_pins_the_image_given_at_deploy_time():
    from {{ cookiecutter.__package }}.many_models.cli import main
    from {{ cookiecutter.__package }}.many_models.manifest import PLACEHOLDER, pinned_manifest

    image = "crexample.azurecr.io/forecast@sha256:" + "a1" * 32
    pinned = pinned_manifest(image, KUBERNETES)
    assert f"image: {PLACEHOLDER}" not in pinned
    deployment = next(document for document in _kubernetes_documents(pinned) if document["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == image
    assert pinned_manifest("crexample.azurecr.io/forecast:1.4.2", KUBERNETES).count("forecast:1.4.2") == 1
    assert main(["manifest", "--image", image, "--manifest", str(KUBERNETES)]) == 0


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ("crexample.azurecr.io/forecast:latest", "can move"),
        ("crexample.azurecr.io/forecast:main", "can move"),
        ("crexample.azurecr.io/forecast", "has no digest or version"),
        ("crexample.azurecr.io/forecast@sha256:abc", "not an image reference"),
        ("forecast; rm -rf /", "not an image reference"),
    ],
)
def test_manifest_refuses_an_image_that_is_not_pinned(image, message, capsys):
    from {{ cookiecutter.__package }}.many_models.cli import main

    assert main(["manifest", "--image", image, "--manifest", str(KUBERNETES)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err and "Traceback" not in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_manifest_refuses_a_file_without_the_placeholder(tmp_path, capsys):
    from {{ cookiecutter.__package }}.many_models.cli import main

    pinned = tmp_path / "serving.yml"
    pinned.write_text(KUBERNETES.read_text(encoding="utf-8").replace("FORECAST_IMAGE_SET_AT_DEPLOY", "other"), encoding="utf-8")
    assert main(["manifest", "--image", "crexample.azurecr.io/forecast:1.4.2", "--manifest", str(pinned)]) == 2
    assert "exactly once (found 0)" in capsys.readouterr().err


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
