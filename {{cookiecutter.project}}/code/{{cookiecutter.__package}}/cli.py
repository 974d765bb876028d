"""`python -m {{ cookiecutter.__package }} <step> --start ... --end ...`: every step, one entry point.

Databricks jobs and Azure ML components call this same entry point, so a step runs
the same way everywhere. Errors a person can fix are printed as one message and a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence

from .settings import DateRange, Settings, SettingsError, load_settings

# The range each step uses when --start/--end are not given (see Settings.ranges).
DEFAULT_RANGE = {"ingest": "ingest", "features": "data", "train": "train", "validate": "holdout", "score": "score"}
EXIT_INVALID_INPUT = 2
EXIT_VALIDATION_FAILED = 3


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="pipeline settings file (default: the packaged pipeline.yml)")
    common.add_argument("--size", help="data product size defined in the settings: tiny, small, reference")
    common.add_argument("--data-root", help="storage root: a folder, or abfss://container@account.dfs.core.windows.net/path")
    ranged = argparse.ArgumentParser(add_help=False)
    ranged.add_argument("--start", help="range start, UTC (YYYY-MM-DD[THH:MM]); default from settings")
    ranged.add_argument("--end", help="range end, exclusive; default from settings")

    parser = argparse.ArgumentParser(prog="python -m {{ cookiecutter.__package }}", description=__doc__.splitlines()[0], parents=[common])
    steps = parser.add_subparsers(dest="step", required=True, metavar="step")
    steps.add_parser("generate", parents=[common], help="write the simulated data product's raw files")
    for step, text in [
        ("ingest", "validate raw files into Delta tables; bad rows go to quarantine"),
        ("features", "build features (and labels where known) for a range"),
        ("train", "train, log and register a candidate model"),
        ("validate", "compare the candidate with thresholds and the champion; promote on a pass"),
        ("score", "score a range with the champion model"),
    ]:
        sub = steps.add_parser(step, parents=[common, ranged], help=text)
        if step == "validate":
            sub.add_argument("--version", help="model version to validate (default: the latest)")
    promote = steps.add_parser("promote", parents=[common], help="sign off a validated version as champion (manual promotion)")
    promote.add_argument("--version", required=True)
    run_all = steps.add_parser("run-all", parents=[common], help="every step in order, then a summary")
    run_all.add_argument("--regenerate", action="store_true", help="regenerate the data product even if it exists")
    steps.add_parser("summary", parents=[common], help="row counts, the champion and where results are")
    steps.add_parser("check-env", parents=[common], help="start Spark with Delta once (fetches the Delta jars)")
    return parser


def _range(arguments: argparse.Namespace, settings: Settings) -> DateRange:
    default = settings.ranges()[DEFAULT_RANGE[arguments.step]]
    if arguments.start is None and arguments.end is None:
        return default
    return DateRange.parse(arguments.start or default.start.isoformat(), arguments.end or default.end.isoformat())


def run(arguments: argparse.Namespace) -> int:
    from .lake import MissingTableError
    from .spark import get_spark

    settings = load_settings(arguments.config, size=arguments.size, data_root=arguments.data_root)
    if arguments.step != "check-env":
        try:
            from . import data_product, features, ingest, pipeline, score, train, validate
        except ImportError:
            # The project was generated with the many-models sample alone (template answer `sample`).
            raise SettingsError(
                f"step '{arguments.step}' belongs to the batch-scoring sample, which this project was generated without; "
                "the many-models steps are `python -m {{ cookiecutter.__package }}.many_models --help`"
            ) from None
    if arguments.step == "promote":
        version = validate.promote(settings, arguments.version)
        print(f"{settings.model_name} version {version} is now champion")
        return 0
    spark = get_spark(state_dir=settings.state_dir)
    try:
        if arguments.step == "check-env":
            spark.range(3).write.format("delta").mode("overwrite").save(str(settings.state_dir / "check-env"))
            print(f"Spark {spark.version} with Delta Lake works; state in {settings.state_dir}")
        elif arguments.step == "generate":
            counts = data_product.generate(spark, settings)
            print("raw rows written: " + ", ".join(f"{name} {count:,}" for name, count in counts.items()))
        elif arguments.step == "ingest":
            for name, counts in ingest.ingest(spark, settings, _range(arguments, settings)).items():
                print(f"{name:<12} read {counts.read:>10,}  accepted {counts.accepted:>10,}  quarantined {counts.quarantined:>6,}")
        elif arguments.step == "features":
            print(f"feature rows written: {features.write_features(spark, settings, _range(arguments, settings)):,}")
        elif arguments.step == "train":
            result = train.train(spark, settings, _range(arguments, settings))
            print(
                f"registered {result.model_name} version {result.model_version} from {result.training_rows:,} windows (run {result.run_id})"
            )
        elif arguments.step == "validate":
            report = validate.validate(spark, settings, _range(arguments, settings), arguments.version)
            print(report.markdown())
            print(f"report: {report.report_path}")
        elif arguments.step == "score":
            result = score.score(spark, settings, _range(arguments, settings))
            print(
                f"scored {result.rows:,} windows with version {result.model_version} into {result.table} (table version {result.table_version})"
            )
        elif arguments.step == "run-all":
            timing = pipeline.run_all(spark, settings, regenerate=arguments.regenerate)
            print("\n" + pipeline.summary(spark, settings))
            print("\nStep times: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timing.seconds.items()))
        elif arguments.step == "summary":
            print(pipeline.summary(spark, settings))
    except MissingTableError as error:
        raise SettingsError(str(error)) from None
    return 0


def _quiet_libraries() -> None:
    """Keep step output to what a person acts on; MLflow's info lines and schema hints are noise here.

    MLflow reconfigures its loggers whenever its modules load, so it is told through its
    own setting, before any import, rather than through `logging`.
    """
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    warnings.filterwarnings("ignore", message=".*Inferred schema contains integer column", category=UserWarning)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    _quiet_libraries()
    try:
        from .validate import PromotionRefused, ValidationFailed
    except ImportError:  # generated with the many-models sample alone: these are never raised
        PromotionRefused = ValidationFailed = type("NotGenerated", (Exception,), {})

    try:
        return run(arguments)
    except (SettingsError, PromotionRefused) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID_INPUT
    except ValidationFailed as error:
        print(f"validation failed: {error}", file=sys.stderr)
        return EXIT_VALIDATION_FAILED
