"""Entry file of every Databricks job task: `python -m {{ cookiecutter.__package }} <sample> <step> ...`, on a job cluster.

Why a file rather than a wheel: a wheel would pip-install this project's pinned pyspark,
delta-spark and MLflow over the ones Databricks Runtime ships. The bundle syncs `code/`
next to this file, so the package is imported from there and the runtime's own Spark,
Delta Lake and MLflow are used. A task's parameters are the package entry point's
arguments (`batch-scoring ingest --size small`, `many-models train ...`). A failing step
must fail the task: its exit code is raised, never returned and dropped.
"""

import sys
from pathlib import Path

CODE_DIR = Path(__file__).resolve().parents[2] / "code"
sys.path.insert(0, str(CODE_DIR))

from {{ cookiecutter.__package }}.core.cli import main  # noqa: E402

if __name__ == "__main__":
    exit_code = main(sys.argv[1:])
    if exit_code:
        raise SystemExit(exit_code)
