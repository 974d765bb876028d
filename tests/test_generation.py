"""Every option combination renders to exactly the expected files, fully rendered, and lint-clean."""

from __future__ import annotations

import py_compile
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import generate

PACKAGE = "predictive_maintenance"
PACKAGE_FILES = ["__init__.py", "__main__.py", "cli.py", "lake.py", "pipeline.yml", "settings.py", "spark.py", "tracking.py"]
BATCH_SCORING_PACKAGE_FILES = [
    "azureml_job.py", "data_product.py", "features.py", "ingest.py", "metrics.py", "pipeline.py", "score.py", "train.py", "validate.py",
]  # fmt: skip
BATCH_SCORING_TEST_FILES = [
    "conftest.py", "test_azureml_job.py", "test_cli.py", "test_data_product.py", "test_end_to_end.py", "test_features.py",
    "test_ingest.py", "test_metrics.py", "test_notebooks.py", "test_settings.py",
]  # fmt: skip
MANY_MODELS_PACKAGE_FILES = [
    "__init__.py", "__main__.py", "bundle.py", "cli.py", "data_product.py", "features.py", "many_models.yml", "promote.py",
    "register.py", "score.py", "serve.py", "settings.py", "train.py",
]  # fmt: skip
MANY_MODELS_TEST_FILES = [
    "__init__.py",
    "conftest.py",
    "test_bundle_and_promotion.py",
    "test_deployment_files.py",
    "test_pipeline.py",
    "test_serving.py",
]
COMMON_FILES = {
    ".gitignore", "Makefile", "README.md", "pyproject.toml",
    ".cloud/README.md", "pipelines/README.md",
    "docs/index.md", "docs/local.md",
    "notebooks/README.md", "notebooks/data.science/.gitkeep",
    *(f"code/{PACKAGE}/{name}" for name in PACKAGE_FILES),
}  # fmt: skip
BATCH_SCORING_FILES = {
    "docs/data-contracts.md", "docs/steps-on-databricks-and-azureml.md",
    "notebooks/examples/01_load_data_product.ipynb", "notebooks/examples/02_log_to_mlflow.ipynb",
    "notebooks/examples/03_submit_training_job.ipynb",
    *(f"code/{PACKAGE}/{name}" for name in BATCH_SCORING_PACKAGE_FILES),
    *(f"tests/{name}" for name in BATCH_SCORING_TEST_FILES),
}  # fmt: skip
MANY_MODELS_FILES = {
    "docs/many-models.md", "benchmarks/many_models.py",
    ".cloud/docker/many-models.Dockerfile", ".cloud/kubernetes/many-models-serving.yml",
    *(f"code/{PACKAGE}/many_models/{name}" for name in MANY_MODELS_PACKAGE_FILES),
    *(f"tests/many_models/{name}" for name in MANY_MODELS_TEST_FILES),
}  # fmt: skip
OPTION_FILES = {
    ("cicd", "azure_devops"): {".ado/README.md"},
    ("cicd", "github"): {".github/README.md"},
    ("compute", "databricks"): {".cloud/databricks/README.md"},
    ("compute", "azureml"): {".cloud/azureml/README.md"},
    ("compute", "both"): {".cloud/databricks/README.md", ".cloud/azureml/README.md"},
    ("sample", "batch_scoring"): BATCH_SCORING_FILES,
    ("sample", "many_models"): MANY_MODELS_FILES,
    ("sample", "both"): BATCH_SCORING_FILES | MANY_MODELS_FILES,
}
# Files that need two answers: the many-models online endpoint exists only with Azure ML.
AZUREML_MANY_MODELS_FILES = {".cloud/azureml/endpoints/many-models/endpoint.yml", ".cloud/azureml/endpoints/many-models/deployment.yml"}
# Cookiecutter syntax that must never survive rendering. `${{ ... }}` is Azure ML's and
# GitHub Actions' own expression syntax, so a bare `{{` counts only without the `$`.
LEFTOVER_JINJA = re.compile(r"(?<!\$)\{\{|\{%|%\}|\{#|cookiecutter\.")


def expected_files(answers: dict[str, str]) -> set[str]:
    files = set(COMMON_FILES)
    for answer, value in answers.items():
        files |= OPTION_FILES.get((answer, value), set())
    if answers.get("compute", "both") != "databricks" and answers.get("sample", "both") != "batch_scoring":
        files |= AZUREML_MANY_MODELS_FILES
    return files


def generated_files(project: Path) -> set[str]:
    return {
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(project).parts
    }


_RENDERED: dict[tuple[str, ...], Path] = {}


@pytest.fixture
def project(tmp_path_factory, option_answers) -> Path:
    """Render each combination once; the checks below only read it."""
    key = tuple(option_answers.values())
    if key not in _RENDERED:
        _RENDERED[key] = generate(tmp_path_factory.mktemp("-".join(key)), **option_answers)
    return _RENDERED[key]


def test_exact_file_set(project, option_answers):
    assert generated_files(project) == expected_files(option_answers)


def test_nothing_is_left_unrendered(project):
    for relative in generated_files(project):
        text = (project / relative).read_text(encoding="utf-8")
        match = LEFTOVER_JINJA.search(text)
        assert match is None, f"{relative}: unrendered template syntax {match.group(0)!r}"


def test_python_compiles_and_passes_ruff(project, option_answers):
    for path in project.rglob("*.py"):
        py_compile.compile(str(path), doraise=True)
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "code", "tests", "notebooks"], cwd=project, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "code", "tests", "notebooks"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f'requires-python = ">={option_answers["python_version"]}"' in (project / "pyproject.toml").read_text()


def test_notebooks_are_valid_and_stored_without_outputs(project, option_answers):
    notebooks = sorted(project.glob("notebooks/examples/*.ipynb"))
    assert len(notebooks) == (0 if option_answers["sample"] == "many_models" else 3)
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), path.name


def test_git_repository_starts_with_one_commit(project):
    log = subprocess.run(["git", "log", "--oneline"], cwd=project, capture_output=True, text=True, check=True).stdout
    assert len(log.splitlines()) == 1
    status = subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=True).stdout
    assert status == "", "every generated file is committed"


def test_answers_reach_the_files(tmp_path):
    project = generate(
        tmp_path,
        project_name="Prévision des ventes — Été",
        owner="Équipe Données",
        notebook_authors="alice, bob.smith",
        cicd="github",
        compute="azureml",
    )
    assert project.name == "prevision-des-ventes-ete"
    assert (project / "code" / "prevision_des_ventes_ete" / "cli.py").exists()
    assert {path.name for path in (project / "notebooks").iterdir()} >= {"alice", "bob.smith", "examples"}
    assert "Prévision des ventes — Été" in (project / "README.md").read_text(encoding="utf-8")
    assert 'name = "prevision-des-ventes-ete"' in (project / "pyproject.toml").read_text(encoding="utf-8")
