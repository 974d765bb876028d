"""Helpers to render the template the way users do: through cookiecutter itself.

The rendering helpers and the option matrix live in `ci.template_ci`, the template CI
command, so the tests and the command render and judge combinations the same way.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "infra"))

from ci.template_ci import DEFAULTS, OPTION_MATRIX, generate, run_cookiecutter  # noqa: E402

__all__ = ["DEFAULTS", "OPTION_MATRIX", "REPO_ROOT", "generate", "run_cookiecutter"]


@pytest.fixture(params=OPTION_MATRIX, ids=lambda answers: "-".join(answers.values()))
def option_answers(request) -> dict[str, str]:
    return request.param
