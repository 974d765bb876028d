"""Serving readiness: the sizing decisions, the deployment files against the committed profile,
the rollout decisions and drivers against local stand-ins, and a short real stress run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from {{ cookiecutter.__package }}.many_models import rollout, sizing, stress
from {{ cookiecutter.__package }}.many_models.sizing import Limits, SettingProfile, Slo, StepResult

ROOT = Path(__file__).resolve().parents[2]
SLO = Slo(p99_ms=100, max_error_rate=0.0, target_rps=40)


def _step(rps: float, p99: float, failures: int = 0, served: float | None = None) -> StepResult:
    return StepResult(rps, int(rps * 10), failures, rps if served is None else served, p99 / 3, p99 / 1.5, p99)


def _setting(cpus: int, memory: int, *steps: StepResult, error: str | None = None) -> SettingProfile:
    return SettingProfile(Limits(cpus, memory), steps, 300.0, error)


@pytest.mark.parametrize(
    ("step", "says"),
    [
        (_step(40, 99), None),
        (_step(40, 100), "p99 100 ms >= 100 ms"),
        (_step(40, 50, failures=1), "error rate"),
        (_step(40, 50, served=30), "served 30.0 of 40 rps"),
        (StepResult(40, 0, 0, 0, 0, 0, 0), "no request completed"),
    ],
)
def test_a_step_meets_the_slo_only_within_every_bound(step, says):
    problems = sizing.step_problems(step, SLO)
    assert (problems == []) if says is None else any(says in problem for problem in problems)
    assert sizing.keep_stepping(step, SLO) is (says is None)


def test_the_smallest_setting_holding_the_target_is_recommended():
    small = _setting(1, 512, _step(20, 50), _step(40, 150))  # misses at the target
    enough = _setting(1, 1024, _step(20, 40), _step(40, 80), _step(80, 300))
    bigger = _setting(2, 1024, _step(40, 30), _step(80, 60))
    broken = _setting(1, 256, error="did not start: out of memory")
    assert sizing.recommend([bigger, small, broken, enough], SLO) is enough
    assert sizing.highest_passing_rps(enough, SLO) == 40 and sizing.highest_passing_rps(bigger, SLO) == 80
    assert sizing.recommend([small, broken], SLO) is None
    assert sizing.recommend([bigger], SLO) is bigger


def test_the_deployment_size_follows_the_recommended_setting():
    size = sizing.DeploymentSize.of(_setting(1, 1024, _step(40, 50)))
    assert (size.cpu, size.memory, size.instance_type) == ("1", "1024Mi", "Standard_F2s_v2")
    assert size.cache_bytes == int((1024 - 300) * 2**20 * sizing.CACHE_SHARE_OF_HEADROOM)
    assert sizing.azureml_instance_type(Limits(4, 6000)) == "Standard_DS3_v2"
    with pytest.raises(ValueError, match="no listed Azure ML instance type"):
        sizing.azureml_instance_type(Limits(64, 1024))


def test_the_profile_round_trips_and_reads_as_a_table():
    profile = sizing.Profile(SLO, (_setting(1, 512, _step(40, 150)), _setting(1, 1024, _step(40, 80))), "make stress-test", "here", 36)
    document = json.loads(json.dumps(sizing.profile_document(profile)))
    assert sizing.profile_from_document(document) == profile
    assert document["recommendation"]["limits"] == {"cpus": 1, "memory_mib": 1024}
    table = sizing.markdown_table(profile)
    assert "Recommendation: 1 CPU / 1024 MiB" in table and "no: p99 150 ms >= 100 ms" in table
    with pytest.raises(sizing.ProfileError, match="re-run 'make stress-test'"):
        sizing.profile_from_document({"format": 1, "slo": {}})


def test_the_gate_fails_with_the_figures_and_passes_within_the_slo():
    assert "stress gate passed" in sizing.gate_verdict(_step(40, 80), SLO)
    with pytest.raises(sizing.GateFailed, match=r"p99 120 ms.*p99 120 ms >= 100 ms"):
        sizing.gate_verdict(_step(40, 120), SLO)


# ---- the committed profile and the deployment files ----


def test_the_deployment_files_carry_the_committed_profiles_recommendation():
    profile = stress.read_profile(ROOT / stress.PROFILE)
    assert profile.series > 0 and any(setting.steps for setting in profile.settings), "a measured run, not a hand-written one"
    assert stress.deployment_disagreements(ROOT) == []


@pytest.mark.parametrize(
    ("path", "old", "new", "says"),
    [
        (stress.KUBERNETES_FILES[0], 'limits: {cpu: "', 'limits: {cpu: "3', "limits cpu 3"),
        (stress.KUBERNETES_FILES[1], "requests: {cpu:", "requests: {cpu: 250m, memory: 64Mi, x:", "requests cpu 250m"),
        (stress.KUBERNETES_FILES[0], 'MANY_MODELS_CACHE_BYTES: "', 'MANY_MODELS_CACHE_BYTES: "9', "MANY_MODELS_CACHE_BYTES"),
        (stress.AZUREML_FILE, "instance_type: ", "instance_type: Standard_DS4_v2\n#", "instance_type Standard_DS4_v2"),
    ],
)
def test_a_deployment_file_that_drifted_from_the_profile_fails(tmp_path, path, old, new, says):
    if not (ROOT / path).exists():
        pytest.skip(f"{path} is not generated for these answers")
    for relative in (stress.PROFILE, *stress.KUBERNETES_FILES, stress.AZUREML_FILE):
        if (ROOT / relative).exists():
            (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / relative, tmp_path / relative)
    text = (tmp_path / path).read_text(encoding="utf-8")
    assert old in text
    (tmp_path / path).write_text(text.replace(old, new, 1), encoding="utf-8")
    problems = stress.deployment_disagreements(tmp_path)
    assert problems and any(says in problem for problem in problems), problems
    # size-deployment puts them back in line.
    stress.size_deployment(tmp_path / stress.PROFILE, tmp_path)
    assert stress.deployment_disagreements(tmp_path) == []


def test_size_deployment_without_a_profile_says_what_to_run(tmp_path, capsys):
    from {{ cookiecutter.__package }}.many_models.cli import main

    assert main(["size-deployment", "--profile", str(tmp_path / "none.json")]) == 2
    error = capsys.readouterr().err
    assert "run 'make stress-test' first" in error and len(error.strip().splitlines()) == 1


# ---- rollout ----

POLICY = rollout.RolloutPolicy(traffic_steps=(10, 50, 100), mirror_percent=10, max_error_rate=0.01, max_p99_ms=200, min_requests=20)


@pytest.mark.parametrize(
    ("health", "decision"),
    [
        (rollout.Health(100, 0, 150), "proceed"),
        (rollout.Health(100, 2, 150), "rollback"),
        (rollout.Health(100, 0, 250), "rollback"),
        (rollout.Health(5, 0, 150), "wait"),
        (rollout.Health(5, 1, 150), "rollback"),
        (rollout.Health(0, 0, 0), "wait"),
    ],
)
def test_the_rollout_decision(health, decision):
    assert rollout.decide(health, POLICY) == decision


@pytest.mark.parametrize(("steps", "mirror"), [((10, 50), 10), ((50, 10, 100), 10), ((0, 100), 10), ((10, 100), 60)])
def test_a_policy_that_cannot_finish_or_exceeds_the_mirror_limit_is_refused(steps, mirror):
    with pytest.raises(ValueError, match="traffic_steps|mirror_percent"):
        rollout.RolloutPolicy(traffic_steps=steps, mirror_percent=mirror)


def test_replica_split_keeps_a_canary_while_on_and_a_stable_until_the_end():
    assert [rollout.replica_split(4, percent) for percent in (0, 10, 50, 100)] == [(4, 0), (3, 1), (2, 2), (0, 4)]


class FakeEndpoints:
    """The calls the rollout makes on MLClient.online_endpoints, recorded, with a deployment's answers scripted."""

    def __init__(self, answers: dict[str, str]):
        self.endpoint = SimpleNamespace(name="forecast", traffic={"blue": 100}, mirror_traffic={})
        self.answers, self.history = answers, []

    def get(self, name):
        assert name == "forecast"
        return self.endpoint

    def begin_create_or_update(self, endpoint):
        assert sum(endpoint.traffic.values()) == 100 and sum(endpoint.mirror_traffic.values()) <= rollout.MAX_MIRROR_PERCENT
        self.history.append((dict(endpoint.traffic), dict(endpoint.mirror_traffic)))
        return SimpleNamespace(result=lambda: endpoint)

    def invoke(self, endpoint_name, request_file, deployment_name):
        assert Path(request_file).exists()
        return self.answers[deployment_name]


class FakeDeployments:
    def __init__(self):
        self.created, self.deleted = [], []

    def begin_create_or_update(self, deployment):
        self.created.append(deployment.name)
        return SimpleNamespace(result=lambda: deployment)

    def begin_delete(self, name, endpoint_name):
        self.deleted.append(name)
        return SimpleNamespace(result=lambda: None)


GOOD = json.dumps({"model": "m", "forecasts": [{"quantity": 10.5}]})


def _client(answer: str = GOOD):
    return SimpleNamespace(online_endpoints=FakeEndpoints({"green": answer}), online_deployments=FakeDeployments())


def test_azureml_rollout_mirrors_then_shifts_traffic_in_steps(tmp_path):
    client, request = _client(), tmp_path / "request.json"
    request.write_text("{}")
    traffic = rollout.azureml_rollout(client, "forecast", SimpleNamespace(name="green"), request, POLICY,
                                      lambda: rollout.Health(50, 0, 80), pause_seconds=0, log=lambda _: None)  # fmt: skip
    assert traffic == {"blue": 0, "green": 100}
    assert client.online_deployments.created == ["green"] and client.online_deployments.deleted == []
    assert client.online_endpoints.history == [
        ({"blue": 100, "green": 0}, {}),
        ({"blue": 100, "green": 0}, {"green": 10}),
        ({"blue": 90, "green": 10}, {}),
        ({"blue": 50, "green": 50}, {}),
        ({"blue": 0, "green": 100}, {}),
    ]


@pytest.mark.parametrize(
    ("answer", "health", "says", "stages"),
    [
        ("upstream error", rollout.Health(50, 0, 80), "smoke test failed", 1),
        (GOOD, rollout.Health(50, 5, 80), "at mirror 10%", 2),
    ],
)
def test_azureml_rollout_rolls_back_and_deletes_the_candidate(tmp_path, answer, health, says, stages):
    client, request = _client(answer), tmp_path / "request.json"
    request.write_text("{}")
    with pytest.raises(rollout.RolloutFailed, match=says):
        rollout.azureml_rollout(client, "forecast", SimpleNamespace(name="green"), request, POLICY, lambda: health,
                                pause_seconds=0, log=lambda _: None)  # fmt: skip
    assert client.online_deployments.deleted == ["green"]
    assert client.online_endpoints.history[-1] == ({"blue": 100, "green": 0}, {})
    assert len(client.online_endpoints.history) == stages + 1


class FakeCluster:
    """kubectl against two Deployments' replica counts; records the ready replicas the Service could reach."""

    def __init__(self, total: int):
        self.replicas = {"deployment/many-models-forecast": total, "deployment/many-models-forecast-canary": 0}
        self.images: dict[str, str] = {}
        self.least_ready = total

    def __call__(self, command):
        if command[2] == "scale":
            self.replicas[command[3]] = int(command[4].split("=")[1])
            self.least_ready = min(self.least_ready, sum(self.replicas.values()))
        elif command[2] == "set":
            self.images[command[4]] = command[5].split("=", 1)[1]
        return ""


def test_aks_canary_promotes_by_replica_counts_without_losing_capacity():
    cluster = FakeCluster(4)
    final = rollout.aks_rollout(cluster, "scoring", "cr.io/f@sha256:" + "a" * 64, 4, POLICY, lambda: rollout.Health(50, 0, 80),
                                pause_seconds=0, log=lambda _: None)  # fmt: skip
    assert final == (4, 0) and cluster.replicas == {"deployment/many-models-forecast": 4, "deployment/many-models-forecast-canary": 0}
    assert set(cluster.images.values()) == {"cr.io/f@sha256:" + "a" * 64} and len(cluster.images) == 2
    assert cluster.least_ready >= 4


def test_aks_canary_is_scaled_to_zero_when_a_step_fails():
    cluster = FakeCluster(4)
    healths = iter([rollout.Health(50, 0, 80), rollout.Health(50, 0, 900)])
    with pytest.raises(rollout.RolloutFailed, match="~50%"):
        rollout.aks_rollout(cluster, "scoring", "cr.io/f:1.2.0", 4, POLICY, lambda: next(healths), pause_seconds=0, log=lambda _: None)
    assert cluster.replicas == {"deployment/many-models-forecast": 4, "deployment/many-models-forecast-canary": 0}
    assert "deployment/many-models-forecast" not in cluster.images, "stable keeps its image"


# ---- a short real run ----


def test_a_short_real_stress_run_measures_latency_throughput_and_memory(tmp_path, tiny_fits, state_dir, build_bundle):
    from {{ cookiecutter.__package }}.many_models.settings import load_many_models_settings

    settings = load_many_models_settings(size="tiny", state_dir=state_dir, data_root=str(state_dir / "unused"))
    bundle = build_bundle(tmp_path / "bundle", settings, tiny_fits)
    plan = stress.StressPlan(Slo(p99_ms=5_000, max_error_rate=0.0, target_rps=5), (5,), 1, (Limits(1, 1024), Limits(1, 200)))
    profile = stress.stress_test(bundle, plan, 10_000_000, "test", log=lambda _: None)
    measured, starved = profile.settings
    (step,) = measured.steps
    # Whether it kept up depends on this machine's load; that it measured does not.
    assert step.requests >= 3 and step.failures == 0 and 0 < step.p50_ms <= step.p99_ms and step.achieved_rps > 0
    assert 50 < measured.peak_rss_mib < 1024
    assert starved.error and not starved.steps, "200 MiB of address space cannot hold the service"
    assert "1 CPU / 200 MiB" in sizing.markdown_table(profile)
