"""The example notebooks execute top to bottom on tiny data, and every notebook is committed without outputs.

The notebooks run one after another, cell by cell, in an IPython shell inside the test
process, against a lake and an MLflow database of this module's own. A Jupyter kernel
would be a second process with a second Spark driver JVM, whose start and cold JIT cost
more than the notebooks' own work; the shell runs the same cells with the same magics and
display hooks, and `get_spark()` hands the notebooks the session the tests already have.
What they print is checked against the data product's known size and against the MLflow
records they claim to have written.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import mlflow
import nbformat
import pandas
import pytest
from IPython.core.interactiveshell import InteractiveShell
from mlflow.tracking import MlflowClient

from {{ cookiecutter.__package }}.batch_scoring.lake import Lake
from {{ cookiecutter.__package }}.batch_scoring.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
EXAMPLES = NOTEBOOKS / "examples"
AZUREML = (ROOT / ".cloud" / "azureml").is_dir()
# 03 submits to Azure ML, so it exists only in repositories generated with Azure ML.
EXAMPLE_NAMES = ("01_load_data_product", "02_log_to_mlflow", *(("03_submit_training_job",) if AZUREML else ()))
# Anything that would send the notebooks somewhere other than this module's temporary lake.
FOREIGN_VARIABLES = (
    "AZUREML_SUBSCRIPTION_ID",
    "AZUREML_RESOURCE_GROUP",
    "AZUREML_WORKSPACE_NAME",
    "MLFLOW_TRACKING_URI",
    "MLFLOW_REGISTRY_URI",
    "MLFLOW_EXPERIMENT_NAME",
    "MODEL_NAME",
    "PIPELINE_CONFIG",
    "DATABRICKS_RUNTIME_VERSION",
)


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


@pytest.fixture(scope="module")
def notebook_env(featured_settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment of the notebooks: a copy of the shared tiny lake (landing files, silver and
    feature tables) in a temporary folder, no cloud.

    The notebooks meet the lake a data scientist has after `make pipeline`, so 01 re-ingests
    what is there (and its test checks that re-ingesting replaces instead of duplicating) and
    03 trains from the feature table instead of building it again.
    The tracking URI the notebooks set is put back afterwards, so later tests keep theirs.
    """
    folder = tmp_path_factory.mktemp("notebooks")
    shutil.copytree(featured_settings.data_root, folder / "lake")
    values = {"PIPELINE_SIZE": "tiny", "DATA_ROOT": str(folder / "lake"), "PIPELINE_STATE_DIR": str(folder / "state")}
    tracking, registry = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    with pytest.MonkeyPatch.context() as patch:
        for name in FOREIGN_VARIABLES:
            patch.delenv(name, raising=False)
        for name, value in values.items():
            patch.setenv(name, value)
        patch.chdir(EXAMPLES)
        yield values
    mlflow.set_tracking_uri(tracking)
    mlflow.set_registry_uri(registry)


@pytest.fixture(scope="module")
def run_notebook(spark, notebook_env: dict[str, str]) -> Iterator[Callable[[str], str]]:
    """Execute an example (and, first, the examples numbered before it); return its printed text.

    The later examples read what 01 wrote, so each runs once per module, in order, whichever
    test asks first. Each notebook starts from an empty namespace, so one that relies on a
    variable another notebook defined still fails here.
    """
    # The shell installs its namespace as __main__ and its own display and exception hooks: put them back after.
    saved = sys.modules["__main__"], sys.displayhook, sys.excepthook
    shell = InteractiveShell.instance()
    printed: dict[str, str] = {}

    def run(name: str) -> str:
        for earlier in EXAMPLE_NAMES[: EXAMPLE_NAMES.index(name) + 1]:
            if earlier not in printed:
                printed[earlier] = _execute(shell, EXAMPLES / f"{earlier}.ipynb")
        return printed[name]

    try:
        yield run
    finally:
        InteractiveShell.clear_instance()
        sys.modules["__main__"], sys.displayhook, sys.excepthook = saved


def _execute(shell: InteractiveShell, path: Path) -> str:
    """Every code cell in order; everything the notebook showed (prints, results, displayed tables) as text."""
    shell.reset(new_session=False)
    # pyspark.ml.connect reads __main__.__spec__ on import; a script's __main__ has one.
    shell.user_ns["__spec__"] = None
    output = io.StringIO()
    notebook = nbformat.read(path, as_version=4)
    # A notebook front end shows every column of a table; pandas truncates to a console's width.
    wide = pandas.option_context("display.max_columns", None, "display.width", 10_000)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        with contextlib.redirect_stdout(output), wide:
            result = shell.run_cell(cell.source, store_history=False)
        if not result.success:
            error = result.error_in_exec or result.error_before_exec
            raise AssertionError(f"{path.name}, cell {index} failed: {error!r}\n{output.getvalue()[-3000:]}") from error
    return output.getvalue()


def _tiny():
    return load_settings(size="tiny", data_root="unused", state_dir="unused")


def _client(notebook_env: dict[str, str]) -> MlflowClient:
    uri = f"sqlite:///{Path(notebook_env['PIPELINE_STATE_DIR']).resolve() / 'mlflow.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _ingested(text: str) -> dict[str, tuple[int, int, int]]:
    rows = re.findall(r"ingested (\w+)\s+read\s+([\d,]+)\s+accepted\s+([\d,]+)\s+quarantined\s+([\d,]+)", text)
    return {name: tuple(int(value.replace(",", "")) for value in values) for name, *values in rows}


def _tables(text: str) -> dict[str, tuple[int, int]]:
    """Rows and Delta version of each table the notebook listed."""
    found = re.findall(r"table (\w+)\s+([\d,]+) rows\s+Delta version (\d+)", text)
    return {name: (int(count.replace(",", "")), int(version)) for name, count, version in found}


@pytest.mark.slow
def test_01_reingests_the_lake_without_duplicating_and_shows_every_silver_table(spark, run_notebook, ingested, featured_settings):
    # The shared lake holds what the session's ingest accepted and quarantined: those counts are its rows before.
    _, session_counts = ingested
    text = run_notebook("01_load_data_product")
    spec = _tiny().size_spec
    hours = int((spec.end - spec.start).total_seconds() // 3600)

    assert "landing files found" in text and "generated raw rows" not in text, "the lake holds landing files, so the notebook uses them"
    ingested = _ingested(text)
    assert set(ingested) == {"machines", "telemetry", "errors", "maintenance", "failures"}
    read, accepted, quarantined = ingested["telemetry"]
    assert read == spec.machines * hours, "every simulated telemetry hour is read"
    assert accepted + quarantined == read and accepted > 0
    assert ingested["machines"][1] == spec.machines

    tables = _tables(text)
    rows = {name: count for name, (count, _) in tables.items()}
    assert rows["telemetry"] == accepted
    assert rows["machines"] == spec.machines
    assert rows["quarantine"] == sum(counts[2] for counts in ingested.values())
    assert all(rows[name] > 0 for name in ("errors", "maintenance", "failures"))
    # The lake already held the whole range: every table was rewritten in one commit and keeps one copy of each row.
    before_rows = {name: counts.accepted for name, counts in session_counts.items()}
    before_rows["quarantine"] = sum(counts.quarantined for counts in session_counts.values())
    before = Lake(featured_settings.data_root)
    assert tables == {name: (before_rows[name], before.version(spark, name) + 1) for name in tables}
    for column in ("machine_id", "volt", "error_id", "component", "reasons"):
        assert column in text, f"the displayed rows show column {column}"


@pytest.mark.slow
def test_02_logs_a_run_with_metrics_computed_from_the_telemetry(run_notebook, notebook_env):
    text = run_notebook("02_log_to_mlflow")
    accepted_telemetry = _ingested(run_notebook("01_load_data_product"))["telemetry"][1]
    run_id = re.search(r"run id: (\w+)", text).group(1)
    assert "mlflow ui --backend-store-uri sqlite:///" in text

    run = _client(notebook_env).get_run(run_id)
    metrics = run.data.metrics
    assert metrics["rows"] == accepted_telemetry
    assert metrics["machines"] == _tiny().size_spec.machines
    assert 150 < metrics["volt_mean"] < 190 and 10 < metrics["volt_std"] < 30, "near the simulated volt baseline of 170.8 +- 15.5"
    assert 0 <= metrics["quarantined_share"] < 0.01
    assert run.data.params["size"] == "tiny"
    assert run.data.params["data_root"] == notebook_env["DATA_ROOT"]
    assert run.inputs.dataset_inputs and run.inputs.dataset_inputs[0].dataset.name == "telemetry"


@pytest.mark.slow
@pytest.mark.skipif(not AZUREML, reason="generated without Azure ML (compute: databricks)")
def test_03_trains_locally_and_registers_a_model_version(run_notebook, notebook_env):
    text = run_notebook("03_submit_training_job")
    assert "no Azure ML workspace configured, training locally" in text
    assert "feature rows" not in text, "the lake has the feature table, so 03 trains from it without building it again"
    name, version = re.search(r"registered (\S+) version (\d+)", text).groups()

    settings = _tiny()
    assert name == settings.model_name
    registered = _client(notebook_env).get_model_version(name, version)
    train_range = settings.ranges()["train"]
    assert registered.tags["train_start"] == f"{train_range.start:%Y-%m-%d %H:%M}"
    assert registered.tags["train_end"] == f"{train_range.end:%Y-%m-%d %H:%M}"
    assert registered.tags["git_commit"] not in ("", "unknown")
