"""The serving commands behind the CLI: stress test, pre-production gate and the two rollouts.

Each is a few lines wiring settings and arguments to `stress.py`, `sizing.py` and `rollout.py`,
where the logic is, typed and tested.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import httpx

from .settings import ManyModelsSettings
from .sizing import gate_verdict, markdown_table
from .stress import plan_from, request_bodies, run_locust, simulated_bundle, stress_test, write_profile


def _series_keys(settings: ManyModelsSettings) -> list[tuple[int, str]]:
    return [(store, brand) for store in range(1, settings.size_spec.stores + 1) for brand in settings.config.data.brands]


def _policy(arguments: argparse.Namespace, settings: ManyModelsSettings):
    from .rollout import RolloutPolicy

    try:
        steps = tuple(int(step) for step in arguments.steps.split(","))
        return RolloutPolicy(steps, getattr(arguments, "mirror_percent", 0), arguments.max_error_rate,
                             arguments.max_p99_ms or settings.config.stress.slo.p99_ms)  # fmt: skip
    except ValueError as error:
        from ..core.settings import SettingsError

        raise SettingsError(
            str(error) if "must" in str(error) else f"steps: '{arguments.steps}' is not a comma-separated list of percentages"
        ) from None


def _http_probe(url: str, body: dict, count: int = 20):
    from .rollout import Health

    def probe() -> Health:
        import time

        latencies, errors = [], 0
        with httpx.Client(base_url=url, timeout=10) as client:
            for _ in range(count):
                started = time.perf_counter()
                try:
                    errors += client.post("/predict", json=body).status_code != 200
                except httpx.TransportError:
                    errors += 1
                latencies.append((time.perf_counter() - started) * 1000)
        return Health(count, errors, sorted(latencies)[min(count - 1, int(count * 0.99))])

    return probe


def run_serving_command(arguments: argparse.Namespace, settings: ManyModelsSettings) -> int:
    plan = plan_from(settings)
    if arguments.step == "stress-test":
        with tempfile.TemporaryDirectory(prefix="stress-bundle-") as folder:
            bundle = Path(arguments.bundle) if arguments.bundle else simulated_bundle(settings, Path(folder) / "bundle")
            command = f"make stress-test SIZE={settings.size}" if not arguments.bundle else f"stress-test --bundle {arguments.bundle}"
            profile = stress_test(bundle, plan, settings.config.serving.cache_max_bytes, command)
        machine, table = write_profile(profile, Path(arguments.out))
        print(
            "\n" + markdown_table(profile) + f"\nwritten: {table} and {machine}; 'make size-deployment' writes it into the deployment files"
        )
        return 0
    if arguments.step == "smoke-test":
        from .rollout import RolloutFailed, smoke_test

        body = request_bodies(_series_keys(settings)[:1], settings.config.training.lags)[0]
        try:
            answer = httpx.post(arguments.url.rstrip("/") + arguments.path, json=body, timeout=30)
        except httpx.TransportError as error:
            raise RolloutFailed(f"smoke test: {arguments.url} did not answer ({type(error).__name__}: {error})") from None
        if answer.status_code != 200 or not smoke_test(answer.text):
            raise RolloutFailed(f"smoke test: {arguments.url} answered {answer.status_code}: {answer.text[:200]}")
        print(f"smoke test passed: {answer.text[:200]}")
        return 0
    if arguments.step == "stress-gate":
        with tempfile.TemporaryDirectory(prefix="stress-gate-") as folder:
            requests = Path(folder) / "requests.json"
            requests.write_text(json.dumps(request_bodies(_series_keys(settings), settings.config.training.lags)), encoding="utf-8")
            step = run_locust(
                arguments.url, int(plan.slo.target_rps), arguments.seconds, requests, environment={"STRESS_PATH": arguments.path}
            )
        print(gate_verdict(step, plan.slo))
        return 0
    policy = _policy(arguments, settings)
    body = request_bodies(_series_keys(settings)[:1], settings.config.training.lags)[0]
    if arguments.step == "rollout-aks":
        from .rollout import aks_rollout

        def kubectl(command: list[str]) -> str:
            return subprocess.run(["kubectl", *command], check=True, capture_output=True, text=True).stdout

        aks_rollout(kubectl, arguments.namespace, arguments.image, arguments.replicas, policy, _http_probe(arguments.url, body),
                    pause_seconds=arguments.pause_seconds)  # fmt: skip
        return 0
    from azure.ai.ml import MLClient, load_online_deployment
    from azure.identity import DefaultAzureCredential

    from .rollout import azureml_rollout, invoke_probe
    from .stress import AZUREML_FILE, ROOT

    candidate = load_online_deployment(ROOT / AZUREML_FILE)
    candidate.name, candidate.environment.image = arguments.name, arguments.image
    client = MLClient(DefaultAzureCredential(), arguments.subscription_id, arguments.resource_group, arguments.workspace)
    with tempfile.TemporaryDirectory(prefix="rollout-") as folder:
        request = Path(folder) / "request.json"
        request.write_text(json.dumps(body), encoding="utf-8")
        probe = invoke_probe(client, candidate.endpoint_name, candidate.name, request, count=20)
        traffic = azureml_rollout(client, candidate.endpoint_name, candidate, request, policy, probe, pause_seconds=arguments.pause_seconds)
    print(f"traffic now {traffic}")
    return 0
