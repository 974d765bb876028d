"""Sizing the forecast service from a measured load profile: pure decisions, no I/O.

Why pure: the stress test (`stress.py`) measures, this module decides. Which load step meets
the SLO, the highest throughput that does, the smallest CPU and memory setting that holds the
target load, and what the deployment files must then say, are all functions of the figures,
so they are unit-tested on hand-made figures and the same code gates CI and writes the
Kubernetes manifest and the Azure ML deployment.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from string import Template

PROFILE_FORMAT = 1
MIB = 2**20
# Share of the memory left after the measured peak that the model cache may fill: the cache
# counts estimated model bytes, not the allocator's, so half stays as a margin.
CACHE_SHARE_OF_HEADROOM = 0.5
# A step whose achieved rate falls below this share of the offered rate did not keep up.
KEPT_UP = 0.9
# Azure ML managed online endpoint instance types, smallest first: (name, vCPUs, memory GiB).
# Source: "Managed online endpoints SKU list",
# https://learn.microsoft.com/azure/machine-learning/reference-managed-online-endpoints-vm-sku-list
AZUREML_INSTANCE_TYPES: tuple[tuple[str, int, int], ...] = (
    ("Standard_F2s_v2", 2, 4),
    ("Standard_DS2_v2", 2, 7),
    ("Standard_F4s_v2", 4, 8),
    ("Standard_DS3_v2", 4, 14),
    ("Standard_F8s_v2", 8, 16),
    ("Standard_DS4_v2", 8, 28),
)


@dataclass(frozen=True)
class Slo:
    """What the service promises at the target load: the 99th percentile latency and the error rate."""

    p99_ms: float
    max_error_rate: float
    target_rps: float


@dataclass(frozen=True)
class Limits:
    """A container's CPU and memory limits: whole cores pinned, the address space capped."""

    cpus: int
    memory_mib: int

    @property
    def label(self) -> str:
        return f"{self.cpus} CPU / {self.memory_mib} MiB"


@dataclass(frozen=True)
class StepResult:
    """One load step's figures, as the load tool measured them."""

    offered_rps: float
    requests: int
    failures: int
    achieved_rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 1.0


@dataclass(frozen=True)
class SettingProfile:
    """Every step run under one setting, the process's peak resident memory, and why it stopped early."""

    limits: Limits
    steps: tuple[StepResult, ...] = ()
    peak_rss_mib: float = 0.0
    error: str | None = None


@dataclass(frozen=True)
class Profile:
    slo: Slo
    settings: tuple[SettingProfile, ...]
    command: str = ""
    measured_on: str = ""
    series: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)


def percent(value: float) -> str:
    """A share as '1.25%' (a format spec ending the replacement field would read as template syntax here)."""
    return format(value, ".2%")


def step_problems(step: StepResult, slo: Slo) -> list[str]:
    """Why a step misses the SLO (empty when it meets it)."""
    problems = []
    if step.requests == 0:
        return ["no request completed"]
    if step.error_rate > slo.max_error_rate:
        problems.append(f"error rate {percent(step.error_rate)} > {percent(slo.max_error_rate)}")
    if step.p99_ms >= slo.p99_ms:
        problems.append(f"p99 {step.p99_ms:.0f} ms >= {slo.p99_ms:.0f} ms")
    if step.achieved_rps < KEPT_UP * step.offered_rps:
        problems.append(f"served {step.achieved_rps:.1f} of {step.offered_rps:.0f} rps offered")
    return problems


def meets_slo(step: StepResult, slo: Slo) -> bool:
    return not step_problems(step, slo)


def keep_stepping(step: StepResult, slo: Slo) -> bool:
    """A heavier step cannot pass once a lighter one failed: stop, which bounds the run."""
    return meets_slo(step, slo)


def highest_passing_rps(setting: SettingProfile, slo: Slo) -> float | None:
    """The highest throughput measured under this setting that met the SLO."""
    passing = [step.achieved_rps for step in setting.steps if meets_slo(step, slo)]
    return max(passing) if passing else None


def holds_target(setting: SettingProfile, slo: Slo) -> bool:
    return setting.error is None and any(meets_slo(step, slo) and step.offered_rps >= slo.target_rps for step in setting.steps)


def recommend(settings: Sequence[SettingProfile], slo: Slo) -> SettingProfile | None:
    """The smallest setting (fewest cores, then least memory) that met the SLO at the target load."""
    fitting = [setting for setting in settings if holds_target(setting, slo)]
    return min(fitting, key=lambda setting: (setting.limits.cpus, setting.limits.memory_mib), default=None)


def cache_bytes_for(setting: SettingProfile) -> int:
    """The model cache bound that fits the memory limit beside the measured process."""
    headroom = (setting.limits.memory_mib - setting.peak_rss_mib) * MIB
    return max(int(headroom * CACHE_SHARE_OF_HEADROOM), 0)


def azureml_instance_type(limits: Limits) -> str:
    """The smallest managed-endpoint instance type with the cores and at least twice the memory
    (the instance also runs the inference server's sidecars)."""
    for name, cpus, memory_gib in AZUREML_INSTANCE_TYPES:
        if cpus >= limits.cpus and memory_gib * 1024 >= 2 * limits.memory_mib:
            return name
    raise ValueError(f"no listed Azure ML instance type has {limits.cpus} vCPUs and {2 * limits.memory_mib} MiB")


@dataclass(frozen=True)
class DeploymentSize:
    """What the deployment files must say for a recommended setting."""

    cpu: str
    memory: str
    cache_bytes: int
    instance_type: str

    @classmethod
    def of(cls, setting: SettingProfile) -> DeploymentSize:
        limits = setting.limits
        return cls(str(limits.cpus), f"{limits.memory_mib}Mi", cache_bytes_for(setting), azureml_instance_type(limits))


# ---- the profile as a document and as a table ----


def profile_document(profile: Profile) -> dict[str, object]:
    recommended = recommend(profile.settings, profile.slo)
    return {
        "format": PROFILE_FORMAT,
        "command": profile.command,
        "measured_on": profile.measured_on,
        "series": profile.series,
        "notes": list(profile.notes),
        "slo": asdict(profile.slo),
        "settings": [
            {
                "limits": asdict(setting.limits),
                "peak_rss_mib": round(setting.peak_rss_mib, 1),
                "error": setting.error,
                "highest_passing_rps": highest_passing_rps(setting, profile.slo),
                "holds_target": holds_target(setting, profile.slo),
                "steps": [
                    {**asdict(step), "error_rate": step.error_rate, "meets_slo": meets_slo(step, profile.slo)} for step in setting.steps
                ],
            }
            for setting in profile.settings
        ],
        "recommendation": None if recommended is None else {"limits": asdict(recommended.limits), **asdict(DeploymentSize.of(recommended))},
    }


class ProfileError(ValueError):
    """A profile file that is not one this module wrote."""


class GateFailed(RuntimeError):
    """The deployed service missed the SLO at the target load; the message carries the figures."""


def gate_verdict(step: StepResult, slo: Slo) -> str:
    """The pre-production gate's one line: the figures, and why it fails (raises GateFailed) or that it passes."""
    figures = (f"{step.offered_rps:.0f} rps offered, {step.achieved_rps:.1f} served, p50 {step.p50_ms:.0f} ms, p95 {step.p95_ms:.0f} ms, "
               f"p99 {step.p99_ms:.0f} ms, error rate {percent(step.error_rate)} over {step.requests} requests")  # fmt: skip
    problems = step_problems(step, slo)
    if problems:
        raise GateFailed(f"{figures}: " + "; ".join(problems))
    return f"stress gate passed: {figures} (SLO p99 < {slo.p99_ms:.0f} ms, error rate <= {percent(slo.max_error_rate)})"


def profile_from_document(document: dict) -> Profile:
    try:
        if document["format"] != PROFILE_FORMAT:
            raise ProfileError(f"format: {document['format']} is not {PROFILE_FORMAT}; re-run 'make stress-test'")
        settings = tuple(
            SettingProfile(
                Limits(**item["limits"]),
                tuple(StepResult(**{key: step[key] for key in StepResult.__dataclass_fields__}) for step in item["steps"]),
                float(item["peak_rss_mib"]),
                item["error"],
            )
            for item in document["settings"]
        )
        return Profile(Slo(**document["slo"]), settings, document["command"], document["measured_on"], int(document["series"]),
                       tuple(document.get("notes", ())))  # fmt: skip
    except (KeyError, TypeError) as error:
        raise ProfileError(f"not a stress-test profile (missing or wrong field {error}); re-run 'make stress-test'") from None


def markdown_table(profile: Profile) -> str:
    slo = profile.slo
    lines = [
        f"SLO: p99 < {slo.p99_ms:.0f} ms, error rate <= {percent(slo.max_error_rate)}, at {slo.target_rps:.0f} requests/s.",
        "",
        "| setting | offered rps | achieved rps | p50 ms | p95 ms | p99 ms | errors | meets SLO |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for setting in profile.settings:
        if setting.error:
            lines.append(f"| {setting.limits.label} | | | | | | | no: {setting.error} |")
        for step in setting.steps:
            problems = step_problems(step, slo)
            verdict = "yes" if not problems else "no: " + "; ".join(problems)
            lines.append(
                f"| {setting.limits.label} | {step.offered_rps:.0f} | {step.achieved_rps:.1f} | {step.p50_ms:.0f} | {step.p95_ms:.0f} "
                f"| {step.p99_ms:.0f} | {percent(step.error_rate)} | {verdict} |"
            )
    lines += ["", "| setting | highest rps meeting the SLO | peak memory (RSS) | holds the target |", "|---|---:|---:|---|"]
    for setting in profile.settings:
        best = highest_passing_rps(setting, slo)
        lines.append(f"| {setting.limits.label} | {'-' if best is None else f'{best:.1f}'} | {setting.peak_rss_mib:.0f} MiB | "
                     f"{'yes' if holds_target(setting, slo) else 'no'} |")  # fmt: skip
    recommended = recommend(profile.settings, slo)
    lines.append("")
    if recommended is None:
        lines.append(f"Recommendation: none of the settings holds {slo.target_rps:.0f} requests/s within the SLO; add a larger setting.")
    else:
        size = DeploymentSize.of(recommended)
        lines.append(f"Recommendation: {recommended.limits.label} per replica (Kubernetes requests = limits: cpu {size.cpu}, memory "
                     f"{size.memory}; model cache {size.cache_bytes:,} bytes; Azure ML instance type {size.instance_type}).")  # fmt: skip
    return "\n".join(lines) + "\n"


# ---- the deployment files ----

_K8S_RESOURCES = re.compile(r"^(?P<indent>\s*)(?P<kind>requests|limits): \{cpu: (?P<cpu>[^,]+), memory: (?P<memory>[^,]+),", re.MULTILINE)
_K8S_CACHE = re.compile(r'^(?P<indent>\s*)MANY_MODELS_CACHE_BYTES: "(?P<value>\d+)"', re.MULTILINE)
_AML_INSTANCE = re.compile(r"^instance_type: (?P<value>\S+)$", re.MULTILINE)


def sized_kubernetes(text: str, size: DeploymentSize) -> str:
    """The manifest with every container's requests and limits set to the recommendation (Guaranteed QoS:
    the pod gets exactly the cores and memory it was measured with) and the cache bound beside it."""
    if not _K8S_RESOURCES.search(text):
        raise ProfileError("the Kubernetes manifest has no 'requests: {cpu: ..., memory: ...,' line to set")
    resources = Template("$indent$kind: " + "{" + 'cpu: "$cpu", memory: $memory,')  # no doubled braces: this file is a Jinja template
    text = _K8S_RESOURCES.sub(lambda m: resources.substitute(indent=m["indent"], kind=m["kind"], cpu=size.cpu, memory=size.memory), text)
    return _K8S_CACHE.sub(lambda m: f'{m["indent"]}MANY_MODELS_CACHE_BYTES: "{size.cache_bytes}"', text)


def sized_azureml(text: str, size: DeploymentSize) -> str:
    if not _AML_INSTANCE.search(text) or not _K8S_CACHE.search(text):
        raise ProfileError("the Azure ML deployment has no 'instance_type:' or MANY_MODELS_CACHE_BYTES line to set")
    text = _AML_INSTANCE.sub(f"instance_type: {size.instance_type}", text)
    return _K8S_CACHE.sub(lambda m: f'{m["indent"]}MANY_MODELS_CACHE_BYTES: "{size.cache_bytes}"', text)


def kubernetes_disagreements(text: str, size: DeploymentSize, name: str) -> list[str]:
    problems = []
    for match in _K8S_RESOURCES.finditer(text):
        found = (match["cpu"].strip('"'), match["memory"])
        if found != (size.cpu, size.memory):
            problems.append(
                f"{name}: {match['kind']} cpu {found[0]}, memory {found[1]}; the profile recommends cpu {size.cpu}, memory {size.memory}"
            )
    if not _K8S_RESOURCES.search(text):
        problems.append(f"{name}: no container resources found")
    if _K8S_CACHE.search(text):  # the ConfigMap lives in one manifest; the canary shares it
        problems += _cache_disagreements(text, size, name)
    return problems


def azureml_disagreements(text: str, size: DeploymentSize, name: str) -> list[str]:
    match = _AML_INSTANCE.search(text)
    problems = [] if match and match["value"] == size.instance_type else [
        f"{name}: instance_type {match['value'] if match else 'missing'}; the profile recommends {size.instance_type}"]  # fmt: skip
    return problems + _cache_disagreements(text, size, name)


def _cache_disagreements(text: str, size: DeploymentSize, name: str) -> list[str]:
    values = [int(match["value"]) for match in _K8S_CACHE.finditer(text)]
    if values != [size.cache_bytes]:
        return [f"{name}: MANY_MODELS_CACHE_BYTES {values}; the profile sets {size.cache_bytes}"]
    return []
