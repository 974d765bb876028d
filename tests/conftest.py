"""Helpers to render the template the way users do: through cookiecutter itself."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "infra"))

from dsplatform.template import CHOICES  # noqa: E402

DEFAULTS = json.loads((REPO_ROOT / "cookiecutter.json").read_text(encoding="utf-8"))
# The answers that change which files exist; every combination is rendered.
# Every CI/compute/Python combination with both samples, plus each sample alone against
# every compute choice (the sample's files interact with compute's, not with the others).
OPTION_MATRIX = [
    dict(zip(("cicd", "compute", "python_version", "sample"), (*values, "both"), strict=True))
    for values in itertools.product(CHOICES["cicd"], CHOICES["compute"], CHOICES["python_version"])
] + [
    {"cicd": DEFAULTS["cicd"], "compute": compute, "python_version": DEFAULTS["python_version"], "sample": sample}
    for sample in CHOICES["sample"]
    if sample != "both"
    for compute in CHOICES["compute"]
]


def run_cookiecutter(output_dir: Path, **answers: str) -> subprocess.CompletedProcess:
    """Run the cookiecutter CLI non-interactively, as CI and users do."""
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(output_dir), str(REPO_ROOT)]
    command += [f"{key}={value}" for key, value in answers.items()]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def generate(output_dir: Path, **answers: str) -> Path:
    result = run_cookiecutter(output_dir, **answers)
    assert result.returncode == 0, result.stdout + result.stderr
    (project,) = [path for path in output_dir.iterdir() if path.is_dir()]
    return project


@pytest.fixture(params=OPTION_MATRIX, ids=lambda answers: "-".join(answers.values()))
def option_answers(request) -> dict[str, str]:
    return request.param
