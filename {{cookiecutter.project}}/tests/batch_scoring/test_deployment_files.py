"""The batch-scoring sample's serving files: the online scoring script, its sample request,
and the notebook-built training job, against the definitions tests/test_job_definitions.py
checks for every sample.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_job_definitions import AZUREML_REFERENCE, PACKAGE, ROOT, SAMPLE_VALUES, component_command_words, files, load, parse_step

from {{ cookiecutter.__package }}.batch_scoring import online_scoring
from {{ cookiecutter.__package }}.batch_scoring.settings import load_settings
from {{ cookiecutter.__package }}.batch_scoring.train import model_input_columns


def test_online_deployments_use_the_scoring_script():
    for path in files(".cloud/azureml/endpoints/online/*/deployment.yml"):
        configuration = load(path)["code_configuration"]
        script = path.parent / configuration["code"] / configuration["scoring_script"]
        assert script.resolve() == (ROOT / "code" / PACKAGE / "batch_scoring" / "online_scoring.py").resolve(), path
    assert callable(online_scoring.init) and callable(online_scoring.run)


def test_the_sample_request_has_exactly_the_model_inputs():
    for path in files(".cloud/azureml/endpoints/online/sample-request.json"):
        columns = model_input_columns(load_settings())
        rows = online_scoring.parse_request(path.read_text(encoding="utf-8"), columns)
        assert all(set(row) == set(columns) for row in rows)


def test_scoring_requests_are_refused_with_the_field_named():
    columns = ["machine_id", "window_start"]
    with pytest.raises(online_scoring.RequestError, match="not JSON"):
        online_scoring.parse_request("{rows", columns)
    with pytest.raises(online_scoring.RequestError, match='"rows"'):
        online_scoring.parse_request(json.dumps({"rows": []}), columns)
    with pytest.raises(online_scoring.RequestError, match=r"rows\[1\]: missing window_start"):
        online_scoring.parse_request(json.dumps({"rows": [{"machine_id": 1, "window_start": "x"}, {"machine_id": 2}]}), columns)


def test_the_model_directory_is_found_or_named_missing(tmp_path: Path):
    (tmp_path / "model" / "sparkml").mkdir(parents=True)
    (tmp_path / "model" / "MLmodel").write_text("flavors: {}\n")
    assert online_scoring.model_directory(tmp_path) == tmp_path / "model"
    with pytest.raises(FileNotFoundError, match="no MLflow model"):
        online_scoring.model_directory(tmp_path / "model" / "sparkml")


def test_the_python_built_training_job_runs_what_the_train_component_runs():
    """azureml_job.py (for notebooks) and components/train.yml (for pipelines) must not drift."""
    for path in files(".cloud/azureml/components/batch_scoring/train.yml"):
        from {{ cookiecutter.__package }}.batch_scoring import azureml_job

        component = load(path)
        module, words = component_command_words(component, path.name)
        component_call = parse_step(words, path.name, module)
        job_words = AZUREML_REFERENCE.sub(lambda match: SAMPLE_VALUES[match.group(2)], azureml_job.training_command()).split()
        assert job_words[:3] == ["python", "-m", module]
        job_call = parse_step(job_words[3:], "azureml_job.training_command()", module)
        assert (job_call.step, job_call.start, job_call.end) == (component_call.step, component_call.start, component_call.end)
        assert f"azureml:{azureml_job.DEFAULT_ENVIRONMENT}" == component["environment"]
        pipeline = load(ROOT / "pipelines" / "azureml" / "training.yml")
        assert pipeline["settings"]["default_compute"] == f"azureml:{azureml_job.DEFAULT_COMPUTE}"
