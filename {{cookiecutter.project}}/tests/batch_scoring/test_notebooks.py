"""The example notebooks execute top to bottom on tiny data, and every notebook is committed without outputs.

The notebooks run one after another in a python3 kernel of this virtualenv, as a person
would run them, against a lake and an MLflow database of this module's own. What they
print is checked against the data product's known size and against the MLflow records
they claim to have written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import pytest
from jupyter_client import KernelManager
from mlflow.tracking import MlflowClient
from nbclient import NotebookClient

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
def notebook_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment of every kernel this module starts: tiny data in a fresh temporary lake, no cloud."""
    folder = tmp_path_factory.mktemp("notebooks")
    values = {
        "PIPELINE_SIZE": "tiny",
        "DATA_ROOT": str(folder / "lake"),
        "PIPELINE_STATE_DIR": str(folder / "state"),
        "SPARK_MASTER": os.environ.get("SPARK_MASTER", "local[2]"),
        "SPARK_DRIVER_MEMORY": os.environ.get("SPARK_DRIVER_MEMORY", "2g"),
        "SPARK_SHUFFLE_PARTITIONS": os.environ.get("SPARK_SHUFFLE_PARTITIONS", "4"),
    }
    with pytest.MonkeyPatch.context() as patch:
        for name in FOREIGN_VARIABLES:
            patch.delenv(name, raising=False)
        for name, value in values.items():
            patch.setenv(name, value)
        yield values


@pytest.fixture(scope="module")
def kernel(notebook_env: dict[str, str]) -> Iterator[KernelManager]:
    """One kernel for the three examples: starting a kernel with Spark costs 10-20 s each time.

    Each notebook first resets the kernel's namespace, so one that relies on a variable
    another notebook defined still fails here.
    """
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(EXAMPLES))
    try:
        yield manager
    finally:
        manager.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def run_notebook(kernel: KernelManager) -> Callable[[str], str]:
    """Execute an example (and, first, the examples numbered before it); return its printed text.

    The later examples read what 01 wrote, so each runs once per module, in order, whichever
    test asks first.
    """
    printed: dict[str, str] = {}

    def run(name: str) -> str:
        for earlier in EXAMPLE_NAMES[: EXAMPLE_NAMES.index(name) + 1]:
            if earlier not in printed:
                notebook = nbformat.read(EXAMPLES / f"{earlier}.ipynb", as_version=4)
                # %reset also drops __main__.__spec__, which pyspark.ml.connect reads on import.
                notebook.cells.insert(0, nbformat.v4.new_code_cell("%reset -f\n__spec__ = None"))
                client = NotebookClient(notebook, km=kernel, timeout=900, resources={"metadata": {"path": str(EXAMPLES)}})
                try:
                    client.execute()
                finally:
                    if client.kc is not None:
                        client.kc.stop_channels()
                printed[earlier] = _text(notebook)
        return printed[name]

    return run


def _text(notebook) -> str:
    """Everything the notebook showed: printed streams, results and displayed tables as text."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream" and output.name == "stdout":
                parts.append(output.text)
            elif output.output_type in ("execute_result", "display_data"):
                parts.append(output.data.get("text/plain", ""))
    return "\n".join(parts)


def _tiny():
    return load_settings(size="tiny", data_root="unused", state_dir="unused")


def _client(notebook_env: dict[str, str]) -> MlflowClient:
    uri = f"sqlite:///{Path(notebook_env['PIPELINE_STATE_DIR']).resolve() / 'mlflow.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _ingested(text: str) -> dict[str, tuple[int, int, int]]:
    rows = re.findall(r"ingested (\w+)\s+read\s+([\d,]+)\s+accepted\s+([\d,]+)\s+quarantined\s+([\d,]+)", text)
    return {name: tuple(int(value.replace(",", "")) for value in values) for name, *values in rows}


def _table_rows(text: str) -> dict[str, int]:
    return {name: int(count.replace(",", "")) for name, count in re.findall(r"table (\w+)\s+([\d,]+) rows", text)}


@pytest.mark.slow
def test_01_generates_ingests_and_shows_every_silver_table(run_notebook):
    text = run_notebook("01_load_data_product")
    spec = _tiny().size_spec
    hours = int((spec.end - spec.start).total_seconds() // 3600)

    assert "generated raw rows" in text, "a fresh lake has no landing files, so the notebook generates them"
    ingested = _ingested(text)
    assert set(ingested) == {"machines", "telemetry", "errors", "maintenance", "failures"}
    read, accepted, quarantined = ingested["telemetry"]
    assert read == spec.machines * hours, "every simulated telemetry hour is read"
    assert accepted + quarantined == read and accepted > 0
    assert ingested["machines"][1] == spec.machines

    tables = _table_rows(text)
    assert tables["telemetry"] == accepted
    assert tables["machines"] == spec.machines
    assert tables["quarantine"] == sum(counts[2] for counts in ingested.values())
    assert all(tables[name] > 0 for name in ("errors", "maintenance", "failures"))
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
    assert re.search(r"built [\d,]+ feature rows", text), "01 ingested but built no features, so 03 builds them"
    name, version = re.search(r"registered (\S+) version (\d+)", text).groups()

    settings = _tiny()
    assert name == settings.model_name
    registered = _client(notebook_env).get_model_version(name, version)
    train_range = settings.ranges()["train"]
    assert registered.tags["train_start"] == f"{train_range.start:%Y-%m-%d %H:%M}"
    assert registered.tags["train_end"] == f"{train_range.end:%Y-%m-%d %H:%M}"
    assert registered.tags["git_commit"] not in ("", "unknown")
