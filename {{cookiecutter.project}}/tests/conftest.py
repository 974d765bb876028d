"""Fixtures every sample's tests share: one Spark session and one MLflow database for the whole run.

Starting Spark costs seconds and creating the MLflow sqlite schema costs more, so both
are made once per session; each test gets its own data root and model name instead.
Nothing here imports a sample, so each sample's tests run when it is generated alone.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import TypeVar

import pytest

from {{ cookiecutter.__package }}.core.settings import RunSettings

os.environ.setdefault("SPARK_MASTER", "local[2]")
os.environ.setdefault("SPARK_SHUFFLE_PARTITIONS", "4")
os.environ.setdefault("SPARK_DRIVER_MEMORY", "2g")
# One driver JVM serves the whole run, so its optimising JIT pays off (monitoring ran in 10 s
# instead of 14 s with the quick C1 compiler only); the serial collector suits a 2 GB heap on 2 cores.
os.environ.setdefault("SPARK_JAVA_OPTIONS", "-XX:+UseSerialGC")


def submit_args(conf: dict[str, str]) -> str:
    """PYSPARK_SUBMIT_ARGS that set these Spark properties."""
    return " ".join(f"--conf {name}={value}" for name, value in conf.items()) + " pyspark-shell"


# On tiny data, compiling each query's generated code, re-planning it (adaptive execution) and
# feeding the web UI cost more than running it. Whole-stage codegen off took the batch pipeline's
# steps to about 85 % of their time; interpreting the remaining expressions too (Spark's
# `spark.sql.codegen.factoryMode`, meant for tests) took features and monitoring from 9.8 and
# 10.6 s to 7.4 and 8.8 s, with the same results.
os.environ.setdefault(
    "PYSPARK_SUBMIT_ARGS",
    submit_args(
        {
            "spark.sql.codegen.wholeStage": "false",
            "spark.sql.codegen.factoryMode": "NO_CODEGEN",
            "spark.sql.adaptive.enabled": "false",
            "spark.ui.enabled": "false",
        }
    ),
)
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

AnySettings = TypeVar("AnySettings", bound=RunSettings)


CLUSTER_MASTER = "local-cluster[2,1,1024]"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that needs Spark is `slow`, so `pytest -m "not slow"` is the quick check
    (settings, CLI parsing, deployment files) and no Spark test can be forgotten unmarked.

    `cluster` tests start a Spark cluster of separate JVMs and an MLflow server: they run
    only when asked for by name (`pytest -m cluster`), never as part of `make test`.
    """
    for item in items:
        if "spark" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
    if "cluster" not in (config.option.markexpr or ""):
        kept = [item for item in items if item.get_closest_marker("cluster") is None]
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("state")


# Exit codes of a JVM whose end explains the failures after it: Spark's own for an
# OutOfMemoryError in local mode, and 128 + the signal that ended it.
JVM_EXIT_MEANINGS = {
    52: "out of memory (Spark's exit code for an OutOfMemoryError)",
    129: "SIGHUP",
    134: "SIGABRT (a JVM crash)",
    137: "SIGKILL (the kernel's OOM killer?)",
    143: "SIGTERM",
}


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """When the shared Spark driver dies, every later Spark test fails with "Connection refused";
    say so once, with the JVM's exit code, so the first failure is the one to read."""
    from pyspark import SparkContext

    process = getattr(SparkContext._gateway, "proc", None)
    if process is not None and process.poll() is not None and exitstatus != 0:
        meaning = JVM_EXIT_MEANINGS.get(process.returncode, "see the first failure's captured stderr")
        code = process.returncode
        terminalreporter.write_line(f"The Spark driver JVM exited during the run with code {code}: {meaning}.")


@pytest.fixture(scope="session")
def spark(state_dir: Path):
    from {{ cookiecutter.__package }}.core.spark import get_spark

    session = get_spark("tests", state_dir=state_dir)
    yield session
    session.stop()


def tiny_settings(settings_type: type[AnySettings], state_dir: Path, data_root: Path, **sections) -> AnySettings:
    """A sample's tiny settings with a model name of their own, so tests never see each other's aliases."""
    settings = settings_type.load(size="tiny", data_root=str(data_root), state_dir=state_dir)
    return settings.with_model_name(f"test-{uuid.uuid4().hex[:8]}").with_config(**sections)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory):
    """`mlflow server` over HTTP on a free port, as a team's shared tracking server; stopped after the run."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    command = [
        *(sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
        *("--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}", "--artifacts-destination", str(folder / "artifacts")),
    ]
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                pytest.fail(f"mlflow server exited with {process.returncode}: {(folder / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("mlflow server did not answer /health within 300 s")
            time.sleep(1)
        yield uri
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def run_on_cluster(sample: str, size: str, mlflow_uri: str, folder: Path, environment: dict[str, str]) -> list[dict]:
    """Run a sample's whole pipeline in its own process with a `local-cluster` master (executors are
    JVMs of their own) and an MLflow server over HTTP; return the Spark application's event log.

    The event log is Spark's own record of the run, so the test can show that the executors
    existed and did the work (https://spark.apache.org/docs/latest/monitoring.html#viewing-after-the-fact).
    """
    events = folder / "spark-events"
    events.mkdir(parents=True)
    env = dict(
        os.environ,
        SPARK_MASTER=CLUSTER_MASTER,
        SPARK_DRIVER_MEMORY="1g",
        # One plain JSON-lines file per application: Spark 4 otherwise compresses the log (zstd)
        # and rolls it into a folder.
        PYSPARK_SUBMIT_ARGS=submit_args(
            {
                "spark.eventLog.enabled": "true",
                "spark.eventLog.dir": events.as_uri(),
                "spark.eventLog.compress": "false",
                "spark.eventLog.rolling.enabled": "false",
            }
        ),
        MLFLOW_TRACKING_URI=mlflow_uri,
        DATA_ROOT=str(folder / "lake"),
        PIPELINE_STATE_DIR=str(folder / "state"),
        **environment,
    )
    env.pop("MLFLOW_REGISTRY_URI", None)
    command = [sys.executable, "-m", "{{ cookiecutter.__package }}", sample, "run-all", "--size", size]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1500, check=False)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    applications = [
        [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for path in events.iterdir()
        if path.is_file()
    ]
    # Only the pipeline's own application counts (a first start may also run a local one that fetches jars).
    on_cluster = [log for log in applications if spark_master(log) == CLUSTER_MASTER]
    assert len(on_cluster) == 1, f"one Spark application on the cluster per sample, found {len(on_cluster)}"
    return on_cluster[0]


def executors_that_ran_tasks(events: list[dict]) -> set[str]:
    """Executor ids that finished at least one task; the driver's id is 'driver'."""
    return {str(event["Task Info"]["Executor ID"]) for event in events if event.get("Event") == "SparkListenerTaskEnd"}


def spark_master(events: list[dict]) -> str:
    environment = next((event for event in events if event.get("Event") == "SparkListenerEnvironmentUpdate"), None)
    return dict(environment["Spark Properties"]).get("spark.master", "") if environment else ""
