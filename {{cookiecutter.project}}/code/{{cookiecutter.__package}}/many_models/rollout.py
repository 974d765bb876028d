"""Controlled rollout of a new forecast service version, with automatic rollback.

The decision is pure (`decide`): given what the candidate did during a stage (requests, errors,
p99 latency), proceed, wait for more evidence, or roll back. Two drivers apply it:

- Azure ML managed online endpoint (`azureml_rollout`): the candidate deployment is created
  beside the current one with 0% traffic, smoke-tested by invoking it directly, then a share of
  live traffic is mirrored to it (its answers are discarded), then live traffic moves in steps.
  Source: "Perform safe rollout of new deployments for real-time inference",
  https://learn.microsoft.com/azure/machine-learning/how-to-safely-rollout-online-endpoints
  (mirrored traffic may total at most 50%: OnlineEndpoint.MirrorTraffic in the REST API reference).
- AKS (`aks_rollout`): two Deployments, stable and canary, behind one Service; the canary's
  share of traffic is its share of the ready replicas; rollback scales the canary to 0.

Both drivers take the API they call as an argument, so tests run them against local stand-ins.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

Decision = Literal["proceed", "wait", "rollback"]
# Mirrored traffic may total at most 50% (REST API reference, OnlineEndpoint mirrorTraffic).
MAX_MIRROR_PERCENT = 50


@dataclass(frozen=True)
class Health:
    """What the candidate did during a stage."""

    requests: int
    errors: int
    p99_ms: float

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class RolloutPolicy:
    traffic_steps: tuple[int, ...] = (10, 50, 100)
    mirror_percent: int = 10
    max_error_rate: float = 0.01
    max_p99_ms: float = 200.0
    min_requests: int = 20

    def __post_init__(self) -> None:
        steps = list(self.traffic_steps)
        if not steps or steps != sorted(set(steps)) or steps[0] <= 0 or steps[-1] != 100:
            raise ValueError(f"traffic_steps: {steps} must increase from above 0 to 100, e.g. 10,50,100")
        if not 0 <= self.mirror_percent <= MAX_MIRROR_PERCENT:
            raise ValueError(f"mirror_percent: {self.mirror_percent} must be between 0 and {MAX_MIRROR_PERCENT} (Azure ML's limit)")


def decide(health: Health, policy: RolloutPolicy) -> Decision:
    """Roll back as soon as the thresholds are crossed, even on little evidence; proceed only on enough of it."""
    if health.requests and (health.error_rate > policy.max_error_rate or health.p99_ms > policy.max_p99_ms):
        return "rollback"
    if health.requests < policy.min_requests:
        return "wait"
    return "proceed"


def traffic_split(stable: str, candidate: str, percent: int) -> dict[str, int]:
    return {stable: 100 - percent, candidate: percent}


def replica_split(total: int, percent: int) -> tuple[int, int]:
    """(stable, canary) replicas giving the canary about `percent` of the traffic, at least one
    canary replica while it is on and no stable replica once it has everything."""
    if percent >= 100:
        return 0, total
    canary = max(1, round(total * percent / 100)) if percent > 0 else 0
    return max(total - canary, 1), canary


class RolloutFailed(RuntimeError):
    """The candidate was rolled back; the message carries the figures."""


@dataclass
class RolloutLog:
    stages: list[str]

    def __call__(self, line: str) -> None:
        self.stages.append(line)
        print(line, flush=True)


def observe(probe: Callable[[], Health], policy: RolloutPolicy, max_rounds: int, pause_seconds: float) -> tuple[Decision, Health]:
    """Probe until the decision is not 'wait' or the rounds run out (then the evidence is too thin: roll back)."""
    total = Health(0, 0, 0.0)
    for _ in range(max_rounds):
        health = probe()
        total = Health(total.requests + health.requests, total.errors + health.errors, max(total.p99_ms, health.p99_ms))
        decision = decide(total, policy)
        if decision != "wait":
            return decision, total
        time.sleep(pause_seconds)
    return "rollback", total


def _figures(health: Health) -> str:
    return f"{health.requests} requests, error rate {format(health.error_rate, '.2%')}, p99 {health.p99_ms:.0f} ms"


# ---- Azure ML managed online endpoint ----


class Poller(Protocol):
    def result(self) -> object: ...


class Endpoints(Protocol):
    def get(self, name: str) -> object: ...
    def begin_create_or_update(self, endpoint: object) -> Poller: ...
    def invoke(self, endpoint_name: str, request_file: str, deployment_name: str) -> str: ...


class Deployments(Protocol):
    def begin_create_or_update(self, deployment: object) -> Poller: ...
    def begin_delete(self, name: str, endpoint_name: str) -> Poller: ...


class MlClientLike(Protocol):
    """The part of azure.ai.ml.MLClient the rollout uses."""

    online_endpoints: Endpoints
    online_deployments: Deployments


def smoke_test(answer: str) -> bool:
    """The simple input/output check: a forecast for every row of the sample request."""
    try:
        body = json.loads(answer)
        return bool(body.get("forecasts")) and all(isinstance(item.get("quantity"), float | int) for item in body["forecasts"])
    except (ValueError, AttributeError, TypeError):
        return False


def invoke_probe(client: MlClientLike, endpoint: str, deployment: str, request_file: Path, count: int) -> Callable[[], Health]:
    """`count` direct invocations of one deployment, timed: errors are exceptions or failed smoke checks."""

    def probe() -> Health:
        latencies, errors = [], 0
        for _ in range(count):
            started = time.perf_counter()
            try:
                ok = smoke_test(
                    client.online_endpoints.invoke(endpoint_name=endpoint, request_file=str(request_file), deployment_name=deployment)
                )
            except Exception:  # noqa: BLE001 - any failed call is an error the policy counts
                ok = False
            latencies.append((time.perf_counter() - started) * 1000)
            errors += not ok
        ordered = sorted(latencies)
        return Health(count, errors, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0)

    return probe


def azureml_rollout(client: MlClientLike, endpoint_name: str, candidate: object, request_file: Path, policy: RolloutPolicy,
                    probe: Callable[[], Health], *, max_rounds: int = 10, pause_seconds: float = 30.0,
                    log: Callable[[str], None] = print) -> dict[str, int]:  # fmt: skip
    """Deploy `candidate` (an azure.ai.ml ManagedOnlineDeployment) beside the endpoint's current deployment and
    move traffic to it stage by stage; on a failed stage, give all traffic back and delete the candidate."""
    name = candidate.name
    endpoint = client.online_endpoints.get(endpoint_name)
    current = {deployment: share for deployment, share in (endpoint.traffic or {}).items() if share > 0 and deployment != name}
    if len(current) != 1:
        raise RolloutFailed(
            f"endpoint {endpoint_name}: expected one deployment with traffic, found {current or 'none'}; fix the traffic first"
        )
    (stable,) = current

    def update(traffic: dict[str, int], mirror: dict[str, int]) -> None:
        endpoint.traffic, endpoint.mirror_traffic = traffic, mirror
        client.online_endpoints.begin_create_or_update(endpoint).result()

    def roll_back(reason: str) -> None:
        update({stable: 100, name: 0}, {})
        client.online_deployments.begin_delete(name=name, endpoint_name=endpoint_name).result()
        log(f"rolled back: {reason}; {stable} has 100% and {name} was deleted")
        raise RolloutFailed(f"{name} rolled back: {reason}")

    log(f"deploy {name} beside {stable} with 0% traffic")
    client.online_deployments.begin_create_or_update(candidate).result()
    update({stable: 100, name: 0}, {})
    answer = ""
    try:
        answer = client.online_endpoints.invoke(endpoint_name=endpoint_name, request_file=str(request_file), deployment_name=name)
    except Exception as error:  # noqa: BLE001 - reported in the rollback reason
        answer = f"{type(error).__name__}: {error}"
    if not smoke_test(answer):
        roll_back(f"smoke test failed: {answer[:200]}")
    log(f"smoke test passed; mirror {policy.mirror_percent}% of live traffic to {name}")
    stages = ([("mirror", policy.mirror_percent)] if policy.mirror_percent else []) + [("traffic", step) for step in policy.traffic_steps]
    for kind, percent in stages:
        if kind == "mirror":
            update({stable: 100, name: 0}, {name: percent})
        else:
            update(traffic_split(stable, name, percent), {})
        decision, health = observe(probe, policy, max_rounds, pause_seconds)
        log(f"{kind} {percent}%: {_figures(health)} -> {decision}")
        if decision == "rollback":
            roll_back(
                f"at {kind} {percent}%: {_figures(health)} (limits: error rate {format(policy.max_error_rate, '.2%')}, p99 {policy.max_p99_ms:.0f} ms)"
            )
    log(f"{name} has 100% of the traffic; {stable} stays deployed with 0% for a manual rollback until you delete it")
    return dict(endpoint.traffic)


# ---- AKS: stable and canary Deployments behind one Service ----

Kubectl = Callable[[Sequence[str]], str]


def aks_rollout(kubectl: Kubectl, namespace: str, image: str, total_replicas: int, policy: RolloutPolicy,
                probe: Callable[[], Health], *, max_rounds: int = 10, pause_seconds: float = 30.0,
                log: Callable[[str], None] = print) -> tuple[int, int]:  # fmt: skip
    """Shift traffic to the canary Deployment by replica counts; promote its image to stable at 100%,
    or scale it to 0 (the scripted rollback) when a stage fails. Returns the final (stable, canary) replicas."""
    stable, canary = "deployment/many-models-forecast", "deployment/many-models-forecast-canary"

    replicas = {stable: total_replicas, canary: 0}

    def scale(stable_replicas: int, canary_replicas: int) -> None:
        """Grow before shrinking, so the Service never has fewer ready pods than it had."""
        wanted = {stable: stable_replicas, canary: canary_replicas}
        for deployment in sorted(wanted, key=lambda name: wanted[name] <= replicas[name]):
            if wanted[deployment] != replicas[deployment]:
                kubectl(["-n", namespace, "scale", deployment, f"--replicas={wanted[deployment]}"])
                kubectl(["-n", namespace, "rollout", "status", deployment, "--timeout=10m"])
                replicas[deployment] = wanted[deployment]

    kubectl(["-n", namespace, "set", "image", canary, f"forecast={image}"])
    for percent in policy.traffic_steps:
        stable_replicas, canary_replicas = replica_split(total_replicas, percent)
        scale(stable_replicas, canary_replicas)
        decision, health = observe(probe, policy, max_rounds, pause_seconds)
        log(f"canary {canary_replicas}/{stable_replicas + canary_replicas} replicas (~{percent}%): {_figures(health)} -> {decision}")
        if decision == "rollback":
            scale(total_replicas, 0)
            log(f"rolled back: the canary is scaled to 0 and {stable} serves with {total_replicas} replicas")
            raise RolloutFailed(f"canary rolled back at ~{percent}%: {_figures(health)}")
    # Promote: the stable Deployment takes the new image, then the canary steps aside.
    kubectl(["-n", namespace, "set", "image", stable, f"forecast={image}"])
    scale(total_replicas, 0)
    log(f"promoted {image} to {stable} ({total_replicas} replicas); the canary is at 0")
    return total_replicas, 0
