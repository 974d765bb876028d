"""Helpers to render the template the way users do: through cookiecutter itself.

The rendering helpers and the option matrix live in `ci.template_ci`, the template CI
command, so the tests and the command render and judge combinations the same way.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ci.make_test import GENERATED_PROJECT_TESTS
from ci.template_ci import DEFAULTS, OPTION_MATRIX, generate, run_cookiecutter

REPO_ROOT = Path(__file__).resolve().parent.parent

__all__ = ["DEFAULTS", "OPTION_MATRIX", "REPO_ROOT", "generate", "run_cookiecutter"]


@pytest.fixture(params=OPTION_MATRIX, ids=lambda answers: "-".join(answers.values()))
def option_answers(request) -> dict[str, str]:
    return request.param


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The generated projects' tests go last: their Spark JVMs slow everything beside them
    (`ci/make_test.py` says why), so they start once the other tests are done."""
    items.sort(key=lambda item: item.path == REPO_ROOT / GENERATED_PROJECT_TESTS)
