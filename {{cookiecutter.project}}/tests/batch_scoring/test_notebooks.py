"""The example notebooks execute top to bottom on tiny data, and every notebook is committed without outputs.

The notebooks run once per session, in order, in an IPython shell inside the test process
(`Notebooks` in batch_scoring/notebook_shell.py), on a lake of their own. What they print is
checked against the data product's known size and against the MLflow records they claim
to have written. Notebook 03's local training is the session's trained model (`trained` in
batch_scoring/conftest.py), so the suite trains once.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from mlflow.tracking import MlflowClient

from {{ cookiecutter.__package }}.batch_scoring.lake import Lake
from {{ cookiecutter.__package }}.batch_scoring.settings import load_settings
from {{ cookiecutter.__package }}.core.tracking import local_tracking_uri

from batch_scoring.notebook_shell import AZUREML, EXAMPLE_NAMES, EXAMPLES, NOTEBOOKS, TRAINING_NOTEBOOK, Notebooks


def all_notebooks() -> list[Path]:
    return sorted(path for path in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in path.parts)


def test_the_examples_for_this_compute_exist():
    assert sorted(path.stem for path in EXAMPLES.glob("*.ipynb")) == sorted(EXAMPLE_NAMES)


@pytest.mark.parametrize("path", all_notebooks(), ids=lambda path: str(path.relative_to(NOTEBOOKS)))
def test_notebooks_are_committed_valid_and_without_outputs(path: Path):
    notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    assert notebook.metadata.kernelspec.name == "python3"
    dirty = [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code" and (cell.outputs or cell.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} store outputs; clear them before committing (see notebooks/README.md)"


def _tiny():
    return load_settings(size="tiny", data_root="unused", state_dir="unused")


def _client(notebooks: Notebooks) -> MlflowClient:
    """A client of the MLflow database the notebooks logged to: their state folder's."""
    uri = local_tracking_uri(load_settings(size="tiny", data_root="unused", state_dir=notebooks.environment["PIPELINE_STATE_DIR"]))
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _ingested(text: str) -> dict[str, tuple[int, int, int]]:
    rows = re.findall(r"ingested (\w+)\s+read\s+([\d,]+)\s+accepted\s+([\d,]+)\s+quarantined\s+([\d,]+)", text)
    return {name: tuple(int(value.replace(",", "")) for value in values) for name, *values in rows}


def _tables(text: str) -> dict[str, tuple[int, int]]:
    """Rows and Delta version of each table the notebook listed."""
    found = re.findall(r"table (\w+)\s+([\d,]+) rows\s+Delta version (\d+)", text)
    return {name: (int(count.replace(",", "")), int(version)) for name, count, version in found}


@pytest.mark.slow
def test_01_ingests_the_landing_files_and_shows_every_silver_table(spark, notebooks, ingested):
    """The session's ingest is notebook 01's (`ingested`); this checks what it printed against
    the data product's size, the counts ingest returned and the tables it wrote."""
    from batch_scoring.conftest import PLANTED_ROWS

    settings, counts = ingested
    text = notebooks.run("01_load_data_product")
    spec = _tiny().size_spec
    hours = int((spec.end - spec.start).total_seconds() // 3600)

    assert "landing files found" in text and "generated raw rows" not in text, "the lake holds landing files, so the notebook uses them"
    printed = _ingested(text)
    assert printed == {name: (entity.read, entity.accepted, entity.quarantined) for name, entity in counts.items()}
    assert set(printed) == {"machines", "telemetry", "errors", "maintenance", "failures"}
    read, accepted, quarantined = printed["telemetry"]
    assert read == spec.machines * hours + len(PLANTED_ROWS), "every simulated telemetry hour is read, and the planted rows"
    assert accepted + quarantined == read and accepted > 0
    assert printed["machines"][1] == spec.machines

    tables = _tables(text)
    rows = {name: count for name, (count, _) in tables.items()}
    assert rows["telemetry"] == accepted
    assert rows["machines"] == spec.machines
    assert rows["quarantine"] == sum(entity[2] for entity in printed.values())
    assert all(rows[name] > 0 for name in ("errors", "maintenance", "failures"))
    lake = Lake(settings.data_root)
    assert {name: version for name, (_, version) in tables.items()} == {name: lake.version(spark, name) for name in tables}
    for column in ("machine_id", "volt", "error_id", "component", "reasons"):
        assert column in text, f"the displayed rows show column {column}"


@pytest.mark.slow
def test_02_logs_a_run_with_metrics_computed_from_the_telemetry(notebooks):
    text = notebooks.run("02_log_to_mlflow")
    accepted_telemetry = _ingested(notebooks.run("01_load_data_product"))["telemetry"][1]
    run_id = re.search(r"run id: (\w+)", text).group(1)
    assert "mlflow ui --backend-store-uri sqlite:///" in text

    run = _client(notebooks).get_run(run_id)
    metrics = run.data.metrics
    assert metrics["rows"] == accepted_telemetry
    assert metrics["machines"] == _tiny().size_spec.machines
    assert 150 < metrics["volt_mean"] < 190 and 10 < metrics["volt_std"] < 30, "near the simulated volt baseline of 170.8 +- 15.5"
    assert 0 <= metrics["quarantined_share"] < 0.01
    assert run.data.params["size"] == "tiny"
    assert run.data.params["data_root"] == notebooks.environment["DATA_ROOT"]
    assert run.inputs.dataset_inputs and run.inputs.dataset_inputs[0].dataset.name == "telemetry"


@pytest.mark.slow
@pytest.mark.skipif(not AZUREML, reason="generated without Azure ML (compute: databricks)")
def test_03_trains_locally_and_registers_a_model_version(notebooks, trained):
    """The session's `trained` fixture ran 03; this checks what it printed and registered."""
    text = notebooks.run(TRAINING_NOTEBOOK)
    assert "no Azure ML workspace configured, training locally" in text
    assert "feature rows" not in text, "the lake has the feature table, so 03 trains from it without building it again"
    name, version = re.search(r"registered (\S+) version (\d+)", text).groups()

    assert name == notebooks.environment["MODEL_NAME"] == trained[1].model_name
    assert version == trained[1].model_version
    registered = _client(notebooks).get_model_version(name, version)
    train_range = _tiny().ranges()["train"]
    assert registered.tags["train_start"] == f"{train_range.start:%Y-%m-%d %H:%M}"
    assert registered.tags["train_end"] == f"{train_range.end:%Y-%m-%d %H:%M}"
    assert registered.tags["git_commit"] not in ("", "unknown")
