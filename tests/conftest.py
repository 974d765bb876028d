"""Helpers to render the template the way users do: through cookiecutter itself.

The rendering helpers and the option matrix live in `ci.template_ci`, the template CI
command, so the tests and the command render and judge combinations the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ci.template_ci import DEFAULTS, OPTION_MATRIX, generate, run_cookiecutter

REPO_ROOT = Path(__file__).resolve().parent.parent
GENERATED_PROJECT_TESTS = "test_generated_project.py"

__all__ = ["DEFAULTS", "OPTION_MATRIX", "REPO_ROOT", "generate", "run_cookiecutter"]


@pytest.fixture(params=OPTION_MATRIX, ids=lambda answers: "-".join(answers.values()))
def option_answers(request) -> dict[str, str]:
    return request.param


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The generated projects' tests go last: their projects run in the background from the
    start (`generated_project_runs`), so these tests only wait for what is left of them."""
    items.sort(key=lambda item: item.path.name == GENERATED_PROJECT_TESTS)


@pytest.fixture(scope="session", autouse=True)
def generated_project_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict | None]:
    """When the generated projects' tests are selected, their projects start with the session
    (`tests/generated_projects.py` says why); otherwise nothing starts."""
    if not any(item.path.name == GENERATED_PROJECT_TESTS for item in request.session.items):
        yield None
        return
    from generated_projects import start

    pool, runs = start(tmp_path_factory)
    try:
        yield runs
    finally:
        pool.shutdown(wait=True)
