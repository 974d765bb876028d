"""Each validator really fails: corrupt one generated file of each kind and the checks name it.

Guards the template CI against passing vacuously: a validator that is never reached, or
that accepts anything, would let every combination through green.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from ci.validators import file_kind, validate_files

from conftest import generate


def _rewrite_yaml(relative: str, change: Callable[[dict], None]) -> Callable[[Path], Path]:
    def corrupt(project: Path) -> Path:
        path = project / relative
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(document)
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        return path

    return corrupt


def _append(relative: str, text: str) -> Callable[[Path], Path]:
    def corrupt(project: Path) -> Path:
        path = project / relative
        path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")
        return path

    return corrupt


def _substitute(relative: str, pattern: str, replacement: str) -> Callable[[Path], Path]:
    def corrupt(project: Path) -> Path:
        path = project / relative
        text, count = re.subn(pattern, replacement, path.read_text(encoding="utf-8"), count=1)
        assert count == 1, f"{pattern!r} is not in {relative}"
        path.write_text(text, encoding="utf-8")
        return path

    return corrupt


def _rewrite_json(relative: str, change: Callable[[dict], None]) -> Callable[[Path], Path]:
    def corrupt(project: Path) -> Path:
        path = project / relative
        document = json.loads(path.read_text(encoding="utf-8"))
        change(document)
        path.write_text(json.dumps(document, indent=2), encoding="utf-8")
        return path

    return corrupt


def _rename_key(mapping: dict, old: str, new: str) -> None:
    mapping[new] = mapping.pop(old)


def _add_outputs(project: Path) -> Path:
    path = project / "notebooks" / "examples" / "01_load_data_product.ipynb"
    notebook = json.loads(path.read_text(encoding="utf-8"))
    code_cell = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
    code_cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["left behind\n"]}]
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path


def _break_notebook(project: Path) -> Path:
    path = project / "notebooks" / "examples" / "02_log_to_mlflow.ipynb"
    notebook = json.loads(path.read_text(encoding="utf-8"))
    del notebook["cells"]
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path


# (kind the file must be classified as, cicd answer of the project, corruption)
CORRUPTIONS = {
    "bundle: unknown task field": ("bundle", "azure_devops", _rewrite_yaml(
        "pipelines/databricks/training.yml",
        lambda bundle: _rename_key(bundle["resources"]["jobs"]["training"]["tasks"][0], "spark_python_task", "spark_python_tsk"),
    )),
    "bundle: wrong type": ("bundle", "azure_devops", _rewrite_yaml(
        "databricks.yml", lambda bundle: bundle["targets"]["prod"].update(default="maybe")
    )),
    "azureml component": ("azureml", "azure_devops", _rewrite_yaml(
        ".cloud/azureml/components/batch_scoring/train.yml", lambda component: _rename_key(component, "command", "comand")
    )),
    "azureml pipeline": ("azureml", "azure_devops", _rewrite_yaml(
        "pipelines/azureml/training.yml", lambda pipeline: pipeline["jobs"]["train"].update(component="../../.cloud/azureml/components/batch_scoring/missing.yml")
    )),
    "azureml online endpoint": ("azureml", "azure_devops", _rewrite_yaml(
        ".cloud/azureml/endpoints/online/managed/endpoint.yml", lambda endpoint: endpoint.update(auth_mode="password")
    )),
    "azureml online deployment": ("azureml", "azure_devops", _rewrite_yaml(
        ".cloud/azureml/endpoints/online/kubernetes/deployment.yml", lambda deployment: deployment.update(instance_count="two")
    )),
    "azureml batch deployment": ("azureml", "azure_devops", _rewrite_yaml(
        ".cloud/azureml/endpoints/batch/deployment.yml", lambda deployment: deployment.update(endpoint_nam="typo")
    )),
    "azureml environment": ("azureml", "azure_devops", _rewrite_yaml(
        ".cloud/azureml/environment.yml", lambda environment: _rename_key(environment, "image", "imag")
    )),
    "azureml compute": ("azureml", "azure_devops", _rewrite_yaml(
        ".cloud/azureml/compute/cpu-cluster.yml", lambda compute: compute.update(min_instances="none")
    )),
    "azureml file without $schema": ("azureml", "azure_devops", _rewrite_yaml(
        ".cloud/azureml/components/batch_scoring/score.yml", lambda component: component.pop("$schema")
    )),
    "azure devops pipeline": ("azure-pipelines", "azure_devops", _rewrite_yaml(
        ".ado/pr.yml", lambda pipeline: pipeline["steps"].append({"scrpt": "make lint"})
    )),
    "github workflow": ("github-workflow", "github", _rewrite_yaml(
        ".github/workflows/pr.yml", lambda workflow: workflow["jobs"]["test"].pop("runs-on")
    )),
    "notebook with outputs": ("notebook", "azure_devops", _add_outputs),
    "invalid notebook": ("notebook", "azure_devops", _break_notebook),
    "python (ruff)": ("python", "azure_devops", _append("code/predictive_maintenance/batch_scoring/score.py", "\nimport os\n")),
    "leftover jinja": ("other", "azure_devops", _append("README.md", "\nOwner: {{ cookiecutter.owner }}\n")),
    "plain yaml": ("yaml", "azure_devops", _append(".cloud/azureml/conda.yml", "\n  - [unclosed\n")),
    "kubernetes manifest": ("kubernetes", "azure_devops", _append(".cloud/kubernetes/many-models-serving.yml", "\n---\nkind: Service\n")),
    "kubernetes image not pinned": ("kubernetes", "azure_devops", _substitute(
        ".cloud/kubernetes/many-models-serving.yml", r"image: FORECAST_IMAGE_SET_AT_DEPLOY", "image: cr.azurecr.io/forecast:latest"
    )),
    "github action pinned to a tag": ("github-workflow", "github", _substitute(
        ".github/workflows/pr.yml", r"uses: actions/checkout@[0-9a-f]{40} # v[\d.]+", "uses: actions/checkout@v4"
    )),
    "github pull-request login without environment": ("github-workflow", "github", _substitute(
        ".github/workflows/databricks.yml", r"    environment: pr-validation\n", ""
    )),
    "azure devops pull-request login": ("azure-pipelines", "azure_devops", _substitute(
        ".ado/databricks.yml", r"        condition: ne\(variables\['Build.Reason'\], 'PullRequest'\)\n", ""
    )),
    "shell script": ("shell", "azure_devops", _append("pipelines/azureml/deploy.sh", "\nif then fi\n")),
    "data factory activity property": ("datafactory", "azure_devops", _rewrite_json(
        ".cloud/datafactory/pipeline/batch-scoring.json",
        lambda pipeline: _rename_key(pipeline["properties"]["activities"][0]["typeProperties"], "method", "verb"),
    )),
    "data factory trigger type": ("datafactory", "azure_devops", _rewrite_json(
        ".cloud/datafactory/trigger/landing-data.json", lambda trigger: trigger["properties"].update(type="BlobEventTrigger")
    )),
    "data factory not json": ("datafactory", "azure_devops", _append(".cloud/datafactory/trigger/daily.json", "\n}\n")),
}  # fmt: skip


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> dict[str, Path]:
    """One generated repository per CI system, with every compute file: each test corrupts a copy."""
    return {cicd: generate(tmp_path_factory.mktemp(cicd), cicd=cicd, compute="both") for cicd in ("azure_devops", "github")}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_a_corrupted_file_fails_its_validator_and_is_named(case, pristine, tmp_path):
    kind, cicd, corrupt = CORRUPTIONS[case]
    project = tmp_path / pristine[cicd].name
    shutil.copytree(pristine[cicd], project, symlinks=True)
    assert validate_files(project, [project / "README.md"]) == [], "the pristine copy is valid"

    path = corrupt(project)
    relative = path.relative_to(project).as_posix()
    assert file_kind(path, project) == kind, f"{relative} is judged as {file_kind(path, project)}"
    problems = validate_files(project, [path])
    assert problems, f"{case}: corrupting {relative} went unnoticed"
    assert any(relative in problem for problem in problems), f"{case}: no problem names {relative}: {problems}"
