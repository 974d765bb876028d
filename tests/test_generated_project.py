"""A generated repository is green out of the box: its own `make test`, from its own fresh virtualenv.

Slow (a virtualenv, Spark and MLflow per project) but the only proof that what we
generate works; it runs in every `make test`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from dsplatform.naming import PROJECT_SLUG_MAX_LENGTH

from conftest import generate

pytestmark = pytest.mark.slow

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


def run_make(project: Path, target: str) -> subprocess.CompletedProcess:
    # The root Makefile's virtualenv provides uv; the project's Makefile uses it when on PATH.
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(["make", target], cwd=project, env=env, capture_output=True, text=True, timeout=1800, check=False)


def failure_report(output: str) -> str:
    """The first failure in full (the cause; later ones may only be its consequences) and
    the end of the run (the summary), within what a CI log shows."""
    first = min((output.find(marker) for marker in ("= ERRORS =", "= FAILURES =") if marker in output), default=-1)
    head = output[first : first + 5000] + "\n[...]\n" if first >= 0 else ""
    return head + output[-4000:]


ANSWER_SETS = {"defaults": {}, "unusual-many-models-only": UNUSUAL_ANSWERS}


@pytest.fixture(scope="module")
def make_test_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Path, Future]]]:
    """Every answer set's project, generated, with its `make test` started at once in the background.

    Each run is a process tree with a virtualenv of its own, so they do not share state; on
    2 cores the many-models-only project's run (mostly installing) overlaps the default
    project's Spark tests instead of queueing behind them. The first project's setup runs
    alone first: Ivy's cache is shared by every virtualenv, so the others copy the Delta
    Lake jars it fetched rather than download the same files at the same time. A failed
    setup shows again, in full, in that project's `make test`.
    """
    projects = {label: generate(tmp_path_factory.mktemp(label), **answers) for label, answers in ANSWER_SETS.items()}
    run_make(next(iter(projects.values())), "setup")
    with ThreadPoolExecutor(len(projects)) as pool:
        yield {label: (project, pool.submit(run_make, project, "test")) for label, project in projects.items()}


@pytest.mark.parametrize("label", ANSWER_SETS)
def test_generated_project_passes_its_own_make_test(make_test_runs, label):
    answers = ANSWER_SETS[label]
    project, run = make_test_runs[label]
    if answers is UNUSUAL_ANSWERS:
        assert len(project.name) == PROJECT_SLUG_MAX_LENGTH
    result = run.result()
    tail = failure_report(result.stdout + result.stderr)
    assert result.returncode == 0, tail
    assert " passed" in result.stdout and " failed" not in result.stdout, tail
    # What a person sees during setup and tests: no dependency resolution, no JVM start banner.
    shown = result.stdout + result.stderr
    for noise in ("Using incubator modules", ":: resolving dependencies ::", "Ivy Default Cache", "log4j"):
        assert noise not in shown, f"'{noise}' was printed:\n{tail}"
    assert (project / ".venv" / "bin" / "python").exists(), "the project made its own virtualenv"
    lint = run_make(project, "lint")
    assert lint.returncode == 0, (lint.stdout + lint.stderr)[-3000:]
    if answers is not UNUSUAL_ANSWERS:
        # Once per run, for the project with both samples: each sample's tiny pipeline on a
        # `local-cluster` master (executor JVMs of their own) against an `mlflow server` over
        # HTTP; the tests assert the models registered on that server.
        cluster = subprocess.run(
            [str(project / ".venv" / "bin" / "python"), "-m", "pytest", "-m", "cluster", "-q", "-p", "no:cacheprovider"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=2400,
            check=False,
        )
        tail = (cluster.stdout + cluster.stderr)[-6000:]
        assert cluster.returncode == 0 and "2 passed" in cluster.stdout, tail
