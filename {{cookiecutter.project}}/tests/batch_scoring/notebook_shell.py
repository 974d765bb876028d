"""The example notebooks, executed cell by cell in an IPython shell inside the test process.

A Jupyter kernel would be a second process with a second Spark driver JVM, whose start and
cold JIT cost more than the notebooks' own work; the shell runs the same cells with the same
magics and display hooks, and `get_spark()` hands the notebooks the session the tests
already have. Each notebook runs once per session, in order, on a lake of its own, with the
environment a data scientist has after `make pipeline`, and that environment is set only
while a notebook runs, so the tests around them keep theirs.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path
from typing import Any

import mlflow
import nbformat
import pandas
from IPython.core.interactiveshell import InteractiveShell

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
EXAMPLES = NOTEBOOKS / "examples"
AZUREML = (ROOT / ".cloud" / "azureml").is_dir()
LOADING_NOTEBOOK = "01_load_data_product"
# 03 submits to Azure ML, so it exists only in repositories generated with Azure ML.
TRAINING_NOTEBOOK = "03_submit_training_job"
EXAMPLE_NAMES = (LOADING_NOTEBOOK, "02_log_to_mlflow", *((TRAINING_NOTEBOOK,) if AZUREML else ()))
# Anything that would send the notebooks somewhere other than their temporary lake.
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


class Notebooks:
    """Runs the examples in order, each once; keeps what each printed and the variables it left."""

    def __init__(self, environment: dict[str, str]) -> None:
        self.environment = environment
        self.printed: dict[str, str] = {}
        self.variables: dict[str, dict[str, Any]] = {}

    def run(self, name: str) -> str:
        """Execute an example (and, first, the examples numbered before it); return its printed text.

        The later examples read what 01 wrote. Each notebook starts from an empty namespace, so
        one that relies on a variable another notebook defined still fails here.
        """
        for earlier in EXAMPLE_NAMES[: EXAMPLE_NAMES.index(name) + 1]:
            if earlier not in self.printed:
                self.printed[earlier] = self._execute(EXAMPLES / f"{earlier}.ipynb")
        return self.printed[name]

    def _execute(self, path: Path) -> str:
        """Every code cell in order; everything the notebook showed (prints, results, displayed tables) as text."""
        # The shell installs its namespace as __main__ and its own display and exception hooks: put them back after.
        saved = sys.modules["__main__"], sys.displayhook, sys.excepthook
        environment, tracking, registry = dict(os.environ), mlflow.get_tracking_uri(), mlflow.get_registry_uri()
        try:
            for variable in FOREIGN_VARIABLES:
                os.environ.pop(variable, None)
            os.environ.update(self.environment)
            with contextlib.chdir(EXAMPLES):
                shell = InteractiveShell.instance()
                sys.modules["__main__"] = shell.user_module
                output = _run_cells(shell, path)
            self.variables[path.stem] = dict(shell.user_ns)
            return output
        finally:
            sys.modules["__main__"], sys.displayhook, sys.excepthook = saved
            mlflow.set_tracking_uri(tracking)
            mlflow.set_registry_uri(registry)
            # Last: MLflow also writes those URIs to MLFLOW_TRACKING_URI and MLFLOW_REGISTRY_URI.
            os.environ.clear()
            os.environ.update(environment)

    def close(self) -> None:
        if InteractiveShell.initialized():
            InteractiveShell.clear_instance()


def _run_cells(shell: InteractiveShell, path: Path) -> str:
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
