"""The stress test: the forecast service under CPU and memory limits, at increasing load.

For each setting in `stress.settings` (many_models.yml) the service starts as the container
starts it (uvicorn, one worker) with its cores pinned (`os.sched_setaffinity`) and its address
space capped (RLIMIT_AS), both set in the child before it runs, and locust, headless on the
other core(s) where there are any, offers each load step in turn for `step_seconds`. Peak
memory is the kernel's high-water mark of the server's resident set (VmHWM in /proc). The
decisions (which step meets the SLO, which setting to recommend) are `sizing.py`'s.

Everything is bounded: loopback only, a random free port, each step's duration, a deadline
for start-up, and the server is stopped whatever happens.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from .settings import ManyModelsSettings
from .sizing import (
    DeploymentSize,
    Limits,
    Profile,
    ProfileError,
    SettingProfile,
    Slo,
    StepResult,
    azureml_disagreements,
    keep_stepping,
    kubernetes_disagreements,
    markdown_table,
    percent,
    profile_document,
    profile_from_document,
    recommend,
    sized_azureml,
    sized_kubernetes,
)

STARTUP_SECONDS = 60
THREAD_STACK_BYTES = 2 * 2**20
APP = "{package}.many_models.serve:app_from_environment"


@dataclass(frozen=True)
class StressPlan:
    slo: Slo
    steps_rps: tuple[int, ...]
    step_seconds: int
    settings: tuple[Limits, ...]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def available_cores() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def split_cores(cores: Sequence[int], wanted: int) -> tuple[list[int], list[int]]:
    """The server's cores and the load generator's: apart when the machine has cores to spare,
    shared when it has not (the table then understates the setting)."""
    server = list(cores[:wanted])
    rest = list(cores[wanted:]) or list(cores)
    return server, rest


def limited(cores: Sequence[int], memory_mib: int | None) -> Callable[[], None]:
    """A preexec function: pin the child to `cores` and cap its address space, as a container's limits would."""

    def apply() -> None:
        os.sched_setaffinity(0, set(cores))
        if memory_mib is not None:
            # RLIMIT_AS caps address space, which a cgroup memory limit does not count: reserved
            # thread stacks (8 MiB each by default) and glibc's per-thread malloc arenas (64 MiB
            # each) would exhaust it with little resident. Smaller stacks here and
            # MALLOC_ARENA_MAX in the environment keep the cap close to, and above, what is resident.
            resource.setrlimit(resource.RLIMIT_STACK, (THREAD_STACK_BYTES, resource.getrlimit(resource.RLIMIT_STACK)[1]))
            cap = memory_mib * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    return apply


def peak_rss_mib(pid: int) -> float:
    """The process's resident-set high-water mark (VmHWM, kB) from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_server(bundle: Path, limits: Limits, cores: Sequence[int], port: int, cache_bytes: int) -> subprocess.Popen:
    threads = str(limits.cpus)
    environment = dict(os.environ, MANY_MODELS_BUNDLE=str(bundle), MANY_MODELS_CACHE_BYTES=str(cache_bytes),
                       # Native thread pools sized to the pinned cores, as in a container with that many CPUs.
                       OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads, MKL_NUM_THREADS=threads, MALLOC_ARENA_MAX="2")  # fmt: skip
    command = [sys.executable, "-m", "uvicorn", "--factory", APP.format(package=__package__.split(".")[0]), "--host", "127.0.0.1",
               "--port", str(port), "--workers", "1", "--log-level", "warning", "--no-access-log"]  # fmt: skip
    return subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=limited(cores, limits.memory_mib))  # fmt: skip


def wait_ready(process: subprocess.Popen, url: str, deadline_seconds: float = STARTUP_SECONDS) -> str | None:
    """None once /ready answers 200; otherwise why the server never became ready."""
    deadline = time.monotonic() + deadline_seconds
    with httpx.Client(timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                output = (process.stdout.read() if process.stdout else "").strip().splitlines()
                return f"did not start: exited with {process.returncode}: {output[-1] if output else 'no output'}"
            try:
                if client.get(f"{url}/ready").status_code == 200:
                    return None
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    return f"did not start: not ready within {deadline_seconds:.0f} s"


def warm_up(url: str, requests_file: Path) -> str | None:
    """Every series asked once before measuring, as readiness traffic would: the first requests
    import scikit-learn's prediction path and fill the cache, which is start-up, not load."""
    bodies = json.loads(requests_file.read_text(encoding="utf-8"))
    with httpx.Client(base_url=url, timeout=30) as client:
        for body in bodies:
            try:
                answer = client.post("/predict", json=body)
            except httpx.TransportError as error:
                return f"warm-up request failed: {type(error).__name__}: {error}"
            if answer.status_code != 200:
                return f"warm-up request answered {answer.status_code}: {answer.text[:200]}"
    return None


def run_locust(url: str, rps: int, seconds: int, requests_file: Path, cores: Sequence[int] | None = None,
               environment: dict[str, str] | None = None) -> StepResult:  # fmt: skip
    """One headless locust run of `rps` users at one request a second each; its figures from `--json-file`."""
    locustfile = Path(__file__).with_name("locustfile.py")
    with tempfile.TemporaryDirectory(prefix="locust-") as folder:
        report = Path(folder) / "stats.json"
        command = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "--host", url, "--users", str(rps),
                   "--spawn-rate", str(rps), "--run-time", f"{seconds}s", "--stop-timeout", "2", "--only-summary", "--skip-log",
                   "--json-file", str(report.with_suffix("")), "--exit-code-on-error", "0"]  # fmt: skip
        env = dict(os.environ, STRESS_REQUESTS=str(requests_file), **(environment or {}))
        completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60,
                                   preexec_fn=limited(cores, None) if cores else None)  # fmt: skip
        if completed.returncode != 0 or not report.exists():
            raise RuntimeError(f"locust failed ({completed.returncode}): {(completed.stderr or completed.stdout).strip()[-500:]}")
        return step_from_locust(json.loads(report.read_text(encoding="utf-8")), rps, seconds)


def step_from_locust(stats: list[dict], offered_rps: float, seconds: float) -> StepResult:
    """Figures from locust's JSON stats: percentiles from its response-time histogram (ms, rounded
    as locust stores them), throughput from the requests completed over the step's duration."""
    histogram: dict[int, int] = {}
    requests = failures = 0
    for entry in stats:
        requests += entry["num_requests"]
        failures += entry["num_failures"]
        for milliseconds, count in entry["response_times"].items():
            histogram[int(float(milliseconds))] = histogram.get(int(float(milliseconds)), 0) + count
    return StepResult(float(offered_rps), requests, failures, round(requests / seconds, 2),
                      percentile(histogram, 50), percentile(histogram, 95), percentile(histogram, 99))  # fmt: skip


def percentile(histogram: dict[int, int], share: float) -> float:
    total = sum(histogram.values())
    if not total:
        return 0.0
    needed, seen = total * share / 100, 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= needed:
            return float(value)
    return float(max(histogram))


def profile_setting(bundle: Path, requests_file: Path, limits: Limits, plan: StressPlan, cache_bytes: int,
                    log: Callable[[str], None] = print) -> SettingProfile:  # fmt: skip
    cores = available_cores()
    if limits.cpus > len(cores):
        return SettingProfile(limits, error=f"needs {limits.cpus} cores; this machine gives {len(cores)}")
    server_cores, load_cores = split_cores(cores, limits.cpus)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start_server(bundle, limits, server_cores, port, cache_bytes)
    steps: list[StepResult] = []
    try:
        problem = wait_ready(process, url) or warm_up(url, requests_file)
        if problem:
            return SettingProfile(limits, error=problem, peak_rss_mib=peak_rss_mib(process.pid) if process.poll() is None else 0.0)
        for rps in plan.steps_rps:
            step = run_locust(url, rps, plan.step_seconds, requests_file, load_cores)
            steps.append(step)
            log(f"  {limits.label}: {rps} rps offered -> {step.achieved_rps:.1f} served, p99 {step.p99_ms:.0f} ms, "
                f"errors {percent(step.error_rate)}")  # fmt: skip
            if process.poll() is not None:
                return SettingProfile(limits, tuple(steps), error=f"the server exited with {process.returncode} under load")
            if not keep_stepping(step, plan.slo):
                break
        return SettingProfile(limits, tuple(steps), round(peak_rss_mib(process.pid), 1))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def request_bodies(bundle_keys: Sequence[tuple[int, str]], lags: int) -> list[dict]:
    """One valid forecast request per series of the bundle."""
    return [{"rows": [{"store": store, "brand": brand, "week_starting": "1992-10-08", "price": 2.39, "advert": 1,
                       "recent_quantities": [10240.0, 9856.0, 11520.0, 10880.0][:lags] + [10000.0] * max(lags - 4, 0)}]}
            for store, brand in bundle_keys]  # fmt: skip


def stress_test(bundle: Path, plan: StressPlan, cache_bytes: int, command: str, log: Callable[[str], None] = print) -> Profile:
    from .bundle import BundleReader

    reader = BundleReader(bundle)
    keys, lags = list(reader.index), int(reader.metadata["lags"])
    reader.close()
    with tempfile.TemporaryDirectory(prefix="stress-") as folder:
        requests_file = Path(folder) / "requests.json"
        requests_file.write_text(json.dumps(request_bodies(keys, lags)), encoding="utf-8")
        settings = []
        for limits in plan.settings:
            log(f"setting {limits.label}:")
            settings.append(profile_setting(bundle, requests_file, limits, plan, cache_bytes, log))
    machine = f"{platform.machine()} {len(available_cores())} cores, {platform.processor() or platform.system()}, Python {platform.python_version()}"
    notes = ("one uvicorn worker, as the container runs it",
             "load generator on the other core(s) when the machine has any left, else on the same ones")  # fmt: skip
    return Profile(plan.slo, tuple(settings), command, machine, len(keys), notes)


# ---- from the settings, and into the files ----

ROOT = Path(__file__).resolve().parents[3]
PROFILE = Path(".cloud") / "serving-profile.json"
KUBERNETES_FILES = (Path(".cloud/kubernetes/many-models-serving.yml"), Path(".cloud/kubernetes/many-models-canary.yml"))
AZUREML_FILE = Path(".cloud/azureml/endpoints/many-models/deployment.yml")


def plan_from(settings: ManyModelsSettings) -> StressPlan:
    stress = settings.config.stress
    return StressPlan(Slo(**stress.slo.model_dump()), tuple(stress.steps_rps), stress.step_seconds,
                      tuple(Limits(item.cpus, item.memory_mib) for item in stress.settings))  # fmt: skip


def simulated_bundle(settings: ManyModelsSettings, folder: Path) -> Path:
    """A bundle of the settings' size, every series fitted in process by the per-series function training runs."""
    from .bundle import write_bundle
    from .data_product import simulate_sales
    from .train import bundle_metadata, bundle_records, fit_in_process

    weeks = settings.weeks()
    write_bundle(folder, bundle_records(fit_in_process(simulate_sales(settings), settings)),
                 bundle_metadata(settings, "stress-test", weeks[0], weeks[-1]))  # fmt: skip
    return folder


def write_profile(profile: Profile, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    machine, table = folder / "profile.json", folder / "profile.md"
    machine.write_text(json.dumps(profile_document(profile), indent=2) + "\n", encoding="utf-8")
    table.write_text(f"Measured with `{profile.command}` on {profile.measured_on}, {profile.series} series.\n\n" + markdown_table(profile),
                     encoding="utf-8")  # fmt: skip
    return machine, table


def read_profile(path: Path) -> Profile:
    try:
        return profile_from_document(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ProfileError(f"{path}: no profile; run 'make stress-test' first") from None
    except json.JSONDecodeError as error:
        raise ProfileError(f"{path}: not JSON ({error.msg} at line {error.lineno}); re-run 'make stress-test'") from None


def recommended_size(profile: Profile) -> DeploymentSize:
    chosen = recommend(profile.settings, profile.slo)
    if chosen is None:
        raise ProfileError(f"the profile recommends no setting: none held {profile.slo.target_rps:.0f} requests/s within the SLO; "
                           "add a larger setting under stress.settings in many_models.yml and re-run 'make stress-test'")  # fmt: skip
    return DeploymentSize.of(chosen)


def size_deployment(profile_path: Path, root: Path = ROOT) -> list[Path]:
    """Copy a measured profile to the committed one and write its recommendation into every deployment
    file present; nothing is written unless every file can be sized."""
    profile = read_profile(profile_path)
    size = recommended_size(profile)
    updates = {root / path: sized_kubernetes((root / path).read_text(encoding="utf-8"), size) for path in KUBERNETES_FILES}
    if (root / AZUREML_FILE).exists():
        updates[root / AZUREML_FILE] = sized_azureml((root / AZUREML_FILE).read_text(encoding="utf-8"), size)
    updates[root / PROFILE] = json.dumps(profile_document(profile), indent=2) + "\n"
    for path, text in updates.items():
        path.write_text(text, encoding="utf-8")
    return list(updates)


def deployment_disagreements(root: Path = ROOT) -> list[str]:
    """Every place a deployment file says something other than the committed profile recommends."""
    size = recommended_size(read_profile(root / PROFILE))
    problems = []
    for path in KUBERNETES_FILES:
        problems += kubernetes_disagreements((root / path).read_text(encoding="utf-8"), size, str(path))
    if (root / AZUREML_FILE).exists():
        problems += azureml_disagreements((root / AZUREML_FILE).read_text(encoding="utf-8"), size, str(AZUREML_FILE))
    return problems
