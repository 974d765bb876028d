"""Entry file of every Databricks job task: `python -m {{ cookiecutter.__package }} <step> ...`, on a job cluster.

Why a file rather than a wheel: a wheel would pip-install this project's pinned pyspark,
delta-spark and MLflow over the ones Databricks Runtime ships. The bundle syncs `code/`
next to this file, so the package is imported from there and the runtime's own Spark,
Delta Lake and MLflow are used. A failing step must fail the task: its exit code is
raised, never returned and dropped. `many-models <step>` runs the many-models sample's
CLI (`python -m {{ cookiecutter.__package }}.many_models <step>`) the same way.
"""

import sys
from pathlib import Path

CODE_DIR = Path(__file__).resolve().parents[2] / "code"
sys.path.insert(0, str(CODE_DIR))

from {{ cookiecutter.__package }}.cli import main  # noqa: E402

MANY_MODELS = "many-models"


def run(arguments: list[str]) -> int:
    if arguments[:1] == [MANY_MODELS]:
        from {{ cookiecutter.__package }}.many_models.cli import main as many_models_main

        return many_models_main(arguments[1:])
    return main(arguments)


if __name__ == "__main__":
    exit_code = run(sys.argv[1:])
    if exit_code:
        raise SystemExit(exit_code)
