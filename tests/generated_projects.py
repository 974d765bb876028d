"""Generated projects' own commands, each project's in a thread of its own.

Each project's `make setup`, `make test`, `make lint` and (for the defaults) the `local-cluster`
proof run one after another; the projects run side by side, after the first one's setup.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from dsplatform.naming import PROJECT_SLUG_MAX_LENGTH

from conftest import generate

UNUSUAL_ANSWERS = {
    "project_name": "Wartung & Prognose für Maschinen — Ünïcödé",
    "project": "m" + "-x1" * ((PROJECT_SLUG_MAX_LENGTH - 1) // 3) + "z" * ((PROJECT_SLUG_MAX_LENGTH - 1) % 3),
    "owner": "Équipe Données",
    "notebook_authors": "zoe.t, o_brien",
    "cicd": "github",
    "compute": "azureml",
    "azure_location": "swedencentral",
    # The many-models sample alone: the odd names go through its whole Spark path, and the
    # shared modules must stand without the batch-scoring ones. The defaults run both samples.
    "sample": "many_models",
}
# The first set is set up alone first (see `_run_steps`).
ANSWER_SETS = {"defaults": {}, "unusual-many-models-only": UNUSUAL_ANSWERS}
# The project with both samples runs the `local-cluster` proof, once per session.
CLUSTER_PROOF = "defaults"


def run_make(project: Path, target: str) -> subprocess.CompletedProcess:
    # The root Makefile's virtualenv provides uv; the project's Makefile uses it when on PATH.
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(["make", target], cwd=project, env=env, capture_output=True, text=True, timeout=1800, check=False)


def run_cluster_proof(project: Path) -> subprocess.CompletedProcess:
    """Each sample's tiny pipeline on a `local-cluster` master (executor JVMs of their own) against
    an `mlflow server` over HTTP; the project's `cluster` tests assert the models registered there."""
    command = [str(project / ".venv" / "bin" / "python"), "-m", "pytest", "-m", "cluster", "-q", "-p", "no:cacheprovider"]
    return subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=2400, check=False)


@dataclass(frozen=True)
class ProjectRun:
    """One generated project and, once its commands finish, what each printed."""

    project: Path
    steps: Future[dict[str, subprocess.CompletedProcess]]


def _run_steps(label: str, project: Path, setup_done: threading.Event, *, first: bool) -> dict[str, subprocess.CompletedProcess]:
    """Ivy's cache is shared by every virtualenv, so the first project's setup runs alone and the
    others copy the Delta Lake jars it fetched rather than download the same files at once. A
    failed setup shows again, in full, in that project's `make test`."""
    steps: dict[str, subprocess.CompletedProcess] = {}
    if first:
        try:
            steps["setup"] = run_make(project, "setup")
        finally:
            setup_done.set()
    else:
        setup_done.wait()
    steps["test"] = run_make(project, "test")
    if steps["test"].returncode == 0:
        steps["lint"] = run_make(project, "lint")
        if label == CLUSTER_PROOF:
            steps["cluster"] = run_cluster_proof(project)
    return steps


def start(tmp_path_factory: pytest.TempPathFactory) -> tuple[ThreadPoolExecutor, dict[str, ProjectRun]]:
    """Generate every answer set's project and start its commands in a thread of its own."""
    projects = {label: generate(tmp_path_factory.mktemp(label), **answers) for label, answers in ANSWER_SETS.items()}
    pool = ThreadPoolExecutor(len(projects), thread_name_prefix="generated-project")
    setup_done = threading.Event()
    runs = {
        label: ProjectRun(project, pool.submit(_run_steps, label, project, setup_done, first=index == 0))
        for index, (label, project) in enumerate(projects.items())
    }
    return pool, runs
