"""A generated repository is green out of the box: its own `make test`, from its own fresh virtualenv.

Slow (a virtualenv, Spark and MLflow per project) but the only proof that what we
generate works; it runs in every `make test`. The projects' commands start together when
this module does (`tests/generated_projects.py`); these tests judge what they printed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from generated_projects import ANSWER_SETS, CLUSTER_PROOF, UNUSUAL_ANSWERS, ProjectRun, start

from dsplatform.naming import PROJECT_SLUG_MAX_LENGTH

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def generated_project_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ProjectRun]]:
    pool, runs = start(tmp_path_factory)
    try:
        yield runs
    finally:
        pool.shutdown(wait=True)


def failure_report(output: str) -> str:
    """The first failure in full (the cause; later ones may only be its consequences) and
    the end of the run (the summary), within what a CI log shows."""
    first = min((output.find(marker) for marker in ("= ERRORS =", "= FAILURES =") if marker in output), default=-1)
    head = output[first : first + 5000] + "\n[...]\n" if first >= 0 else ""
    return head + output[-4000:]


@pytest.mark.parametrize("label", ANSWER_SETS)
def test_generated_project_passes_its_own_make_test(generated_project_runs, label):
    answers = ANSWER_SETS[label]
    run = generated_project_runs[label]
    project, steps = run.project, run.steps.result()
    if answers is UNUSUAL_ANSWERS:
        assert len(project.name) == PROJECT_SLUG_MAX_LENGTH
    result = steps["test"]
    tail = failure_report(result.stdout + result.stderr)
    assert result.returncode == 0, tail
    assert " passed" in result.stdout and " failed" not in result.stdout, tail
    # What a person sees during setup and tests: no dependency resolution, no JVM start banner.
    shown = result.stdout + result.stderr
    for noise in ("Using incubator modules", ":: resolving dependencies ::", "Ivy Default Cache", "log4j"):
        assert noise not in shown, f"'{noise}' was printed:\n{tail}"
    assert (project / ".venv" / "bin" / "python").exists(), "the project made its own virtualenv"
    lint = steps["lint"]
    assert lint.returncode == 0, (lint.stdout + lint.stderr)[-3000:]
    if label == CLUSTER_PROOF:
        cluster = steps["cluster"]
        tail = (cluster.stdout + cluster.stderr)[-6000:]
        assert cluster.returncode == 0 and "2 passed" in cluster.stdout, tail
