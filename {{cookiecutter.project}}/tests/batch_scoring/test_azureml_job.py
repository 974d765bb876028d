"""The Azure ML training job, built and validated offline: no workspace, no credentials, no network."""

from __future__ import annotations

import shlex
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from azure.ai.ml import load_job
from azure.ai.ml.entities import Command, CommandJob

from {{ cookiecutter.__package }}.batch_scoring import azureml_job
from {{ cookiecutter.__package }}.batch_scoring.cli import _parser
from {{ cookiecutter.__package }}.batch_scoring.settings import DateRange, Settings, SettingsError, load_settings
from {{ cookiecutter.__package }}.core.tracking import git_commit

PACKAGE = azureml_job.PACKAGE
LAKE = "abfss://lake@stexample.dfs.core.windows.net/{{ cookiecutter.project }}"
CODE_DIR = Path(__file__).resolve().parents[2] / "code"


def placeholder(name: str) -> str:
    # Azure ML's input reference, spelled out independently of the module under test.
    return "$" + "{" * 2 + f"inputs.{name}" + "}" * 2


@pytest.fixture
def cloud_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for variable in ("MODEL_NAME", "MLFLOW_EXPERIMENT_NAME", "PIPELINE_CONFIG"):
        monkeypatch.delenv(variable, raising=False)
    return load_settings(size="tiny", data_root=LAKE, state_dir=tmp_path)


def test_the_job_runs_the_train_step_on_the_settings_training_range(cloud_settings: Settings):
    job = azureml_job.build_training_job(cloud_settings)
    train_range = cloud_settings.ranges()["train"]

    assert isinstance(job, Command)
    assert job.command == f"python -m {PACKAGE}.batch_scoring train --start {placeholder('start')} --end {placeholder('end')}"
    assert {name: value._data for name, value in job.inputs.items()} == {
        "start": f"{train_range.start:%Y-%m-%dT%H:%M}",
        "end": f"{train_range.end:%Y-%m-%dT%H:%M}",
    }
    assert {name: spec["type"] for name, spec in job.component.inputs.items()} == {"start": "string", "end": "string"}
    assert job.compute == "cpu-cluster"
    assert job.environment == "{{ cookiecutter.project }}-training@latest"
    assert Path(job.code) == CODE_DIR
    assert job.experiment_name == cloud_settings.config.tracking.experiment
    assert job.environment_variables["DATA_ROOT"] == LAKE
    assert job.environment_variables["PIPELINE_SIZE"] == "tiny"
    assert job.environment_variables["MODEL_NAME"] == cloud_settings.model_name
    assert job.tags["project"] == "{{ cookiecutter.project }}"
    assert job.tags["git_commit"] == git_commit(CODE_DIR.parent)
    assert job.tags["train_start"] == f"{train_range.start:%Y-%m-%dT%H:%M}"
    assert "2015" in job.display_name and "tiny" in job.display_name


def test_arguments_choose_compute_environment_and_range(cloud_settings: Settings):
    custom = DateRange(datetime(2015, 1, 5), datetime(2015, 1, 20, 12))
    job = azureml_job.build_training_job(cloud_settings, compute="gpu-cluster", environment="azureml:custom-env:3", date_range=custom)
    assert job.compute == "gpu-cluster"
    assert job.environment == "azureml:custom-env:3"
    assert job.inputs["start"]._data == "2015-01-05T00:00"
    assert job.inputs["end"]._data == "2015-01-20T12:00"
    assert job.tags["train_end"] == "2015-01-20T12:00"


def test_the_command_with_its_inputs_filled_in_is_a_valid_cli_call(cloud_settings: Settings):
    job = azureml_job.build_training_job(cloud_settings)
    filled = job.command
    for name, value in job.inputs.items():
        filled = filled.replace(placeholder(name), value._data)
    words = shlex.split(filled)
    assert words[:3] == ["python", "-m", f"{PACKAGE}.batch_scoring"]
    arguments = _parser().parse_args(words[3:])
    assert arguments.step == "train"
    parsed = DateRange.parse(arguments.start, arguments.end)
    assert parsed == cloud_settings.ranges()["train"]


def test_local_tracking_is_not_sent_into_azure_ml(cloud_settings: Settings, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////home/me/.local/mlflow.db")
    monkeypatch.setenv("MODEL_NAME", "catalog.schema.failure")
    monkeypatch.setenv("SPARK_SHUFFLE_PARTITIONS", "64")
    variables = azureml_job.build_training_job(cloud_settings).environment_variables
    assert "MLFLOW_TRACKING_URI" not in variables
    assert variables["MODEL_NAME"] == "catalog.schema.failure"
    assert variables["SPARK_SHUFFLE_PARTITIONS"] == "64"


def test_a_local_data_root_is_refused_before_anything_is_submitted(tmp_path: Path):
    local = load_settings(size="tiny", data_root=str(tmp_path / "lake"), state_dir=tmp_path)
    with pytest.raises(SettingsError, match="abfss://"):
        azureml_job.build_training_job(local)


def test_a_code_folder_without_the_package_is_refused(cloud_settings: Settings, tmp_path: Path):
    with pytest.raises(SettingsError, match="code/ folder"):
        azureml_job.build_training_job(cloud_settings, code=tmp_path)


def test_the_dumped_job_yaml_validates_against_the_azure_ml_schema(cloud_settings: Settings, tmp_path: Path):
    job = azureml_job.build_training_job(cloud_settings)._to_job()
    path = tmp_path / "train-job.yml"
    job.dump(path)

    loaded = load_job(path)
    assert isinstance(loaded, (Command, CommandJob))
    assert loaded.command == job.command
    assert loaded.compute == "cpu-cluster"
    assert loaded.environment in ("{{ cookiecutter.project }}-training@latest", "azureml:{{ cookiecutter.project }}-training@latest")
    assert loaded.environment_variables == job.environment_variables
    assert loaded.experiment_name == cloud_settings.config.tracking.experiment
    assert {name: str(getattr(value, "_data", value)) for name, value in loaded.inputs.items()} == {
        name: str(getattr(value, "_data", value)) for name, value in job.inputs.items()
    }
    assert Path(loaded.code) == CODE_DIR


def test_the_loader_really_rejects_a_malformed_job(cloud_settings: Settings, tmp_path: Path):
    """Guards the test above against passing vacuously: the same loader refuses a broken file."""
    path = tmp_path / "train-job.yml"
    azureml_job.build_training_job(cloud_settings)._to_job().dump(path)
    spec = yaml.safe_load(path.read_text())
    spec["comand"] = spec.pop("command")
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(Exception, match="comand"):
        load_job(path)


def test_submission_creates_the_job_and_streams_it(cloud_settings: Settings, monkeypatch: pytest.MonkeyPatch):
    import azure.ai.ml
    import azure.identity

    calls: list[tuple] = []

    class FakeJobs:
        def create_or_update(self, job):
            calls.append(("create", job))
            return type("Submitted", (), {"name": "brave_kettle_42"})()

        def stream(self, name):
            calls.append(("stream", name))

    class FakeClient:
        def __init__(self, credential, subscription_id, resource_group, workspace):
            calls.append(("client", type(credential).__name__, subscription_id, resource_group, workspace))
            self.jobs = FakeJobs()

    class FakeCredential:
        pass

    monkeypatch.setattr(azure.ai.ml, "MLClient", FakeClient)
    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", FakeCredential)
    job = azureml_job.build_training_job(cloud_settings)
    submitted = azureml_job.submit_training_job(job, "sub-id", "rg-example", "mlw-example")

    assert submitted.name == "brave_kettle_42"
    assert calls == [("client", "FakeCredential", "sub-id", "rg-example", "mlw-example"), ("create", job), ("stream", "brave_kettle_42")]
