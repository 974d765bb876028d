"""`python -m {{ cookiecutter.__package }} <sample> <step>`: one entry point over whichever samples this project has.

Each sample is a subpackage with a `cli` module (`batch_scoring`, `many_models`, ...),
found at run time the way kedro's `find_pipelines()` finds `pipelines/<name>/`, so a
project generated with one sample has no code that mentions the other. The exit codes
and the quiet-logging setup live here so every sample's CLI reports failures the same way:
0 = done, 2 = invalid input a person can fix, 3 = a model failed its promotion rule.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence

from .settings import SettingsError, storage_roots

EXIT_INVALID_INPUT = 2
EXIT_VALIDATION_FAILED = 3
PACKAGE = __package__.rpartition(".")[0]
# Subpackages that hold shared code rather than a sample.
NOT_SAMPLES = {"core"}


def quiet_libraries() -> None:
    """Keep step output to what a person acts on; MLflow's info lines and schema hints are noise here.

    MLflow reconfigures its loggers whenever its modules load, so it is told through its
    own setting, before any import, rather than through `logging`.
    """
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    warnings.filterwarnings("ignore", message=".*Inferred schema contains integer column", category=UserWarning)


def run_step(run: Callable[[], int], refusals: Mapping[type[Exception], tuple[str, int]]) -> int:
    """Run a sample's step; errors a person can act on become one line on stderr and an exit code, never a traceback.

    `refusals` maps a sample's own exception types to the line's label and the exit code.
    """
    try:
        return run()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID_INPUT
    except tuple(refusals) as error:
        label, code = next(outcome for kind, outcome in refusals.items() if isinstance(error, kind))
        print(f"{label}: {error}", file=sys.stderr)
        return code


def samples() -> dict[str, str]:
    """The samples present, by command name (`batch-scoring`), with their modules."""
    package = importlib.import_module(PACKAGE)
    return {
        module.name.replace("_", "-"): f"{PACKAGE}.{module.name}"
        for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda found: found.name)
        if module.ispkg and module.name not in NOT_SAMPLES and importlib.util.find_spec(f"{PACKAGE}.{module.name}.cli") is not None
    }


def check_env() -> int:
    """Start Spark with Delta once: `make setup` runs it so Delta's jars are fetched before the first step."""
    from .spark import get_spark

    _, state_dir = storage_roots(None, None)
    spark = get_spark(state_dir=state_dir)
    spark.range(3).write.format("delta").mode("overwrite").save(str(state_dir / "check-env"))
    print(f"Spark {spark.version} with Delta Lake works; state in {state_dir}")
    return 0


def usage(found: Mapping[str, str]) -> str:
    lines = [f"usage: python -m {PACKAGE} <sample> <step> [options]   (or: python -m {PACKAGE} check-env)", "samples:"]
    lines += [f"  {name:<16} python -m {module} --help" for name, module in found.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    found = samples()
    if arguments[:1] == ["check-env"]:
        return check_env()
    if not arguments or arguments[0] in ("-h", "--help"):
        print(usage(found))
        return 0 if arguments else EXIT_INVALID_INPUT
    name = arguments[0].replace("_", "-")
    if name not in found:
        print(f"error: '{arguments[0]}' is not a sample of this project; use one of: {', '.join([*found, 'check-env'])}", file=sys.stderr)
        return EXIT_INVALID_INPUT
    return importlib.import_module(f"{found[name]}.cli").main(arguments[1:])
