"""`python -m {{ cookiecutter.__package }}.batch_scoring <step> --start ... --end ...`: every step of the batch-scoring sample, one entry point.

Databricks jobs and Azure ML components call this same entry point, so a step runs
the same way everywhere. Errors a person can fix are printed as one message and a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import timedelta

from ..core.cli import EXIT_INVALID_INPUT, EXIT_VALIDATION_FAILED, quiet_libraries, run_step
from .settings import DateRange, Settings, SettingsError, load_settings, parse_timestamp

# The range each step uses when --start/--end are not given (see Settings.ranges).
DEFAULT_RANGE = {
    "ingest": "ingest",
    "features": "data",
    "refresh-features": "data",
    "train": "train",
    "validate": "holdout",
    "score": "score",
    "monitor": "score",
}


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="pipeline settings file (default: the packaged pipeline.yml)")
    common.add_argument("--size", help="data product size defined in the settings: tiny, small, reference")
    common.add_argument("--data-root", help="storage root: a folder, or abfss://container@account.dfs.core.windows.net/path")
    ranged = argparse.ArgumentParser(add_help=False)
    ranged.add_argument("--start", help="range start, UTC (YYYY-MM-DD[THH:MM]); empty or absent: from settings, or the day before --end")
    ranged.add_argument("--end", help="range end, exclusive; empty or absent: from settings")

    drift = argparse.ArgumentParser(add_help=False)
    drift.add_argument("--drift-from", help="plant drift in the simulated data from this date (UTC) on; default from settings (none)")
    drift.add_argument(
        "--drift-magnitude", type=float, help="shift of every sensor from --drift-from on, in standard deviations (e.g. 1.0)"
    )

    # One argument a line (trailing comma): the line's length must not depend on the package name's.
    parser = argparse.ArgumentParser(
        prog="python -m {{ cookiecutter.__package }}.batch_scoring",
        description=__doc__.splitlines()[0],
        parents=[common],
    )
    steps = parser.add_subparsers(dest="step", required=True, metavar="step")
    steps.add_parser("generate", parents=[common, drift], help="write the simulated data product's raw files")
    for step, text in [
        ("ingest", "validate raw files into Delta tables; bad rows go to quarantine"),
        ("features", "refresh the feature table and write the labels known for a range"),
        ("refresh-features", "merge a range's windows into the feature table (idempotent; the scheduled refresh)"),
        ("train", "train, log and register a candidate model"),
        ("validate", "compare the candidate with thresholds and the champion; promote on a pass"),
        ("score", "score a range with the champion model"),
        ("monitor", "compare a scored range with the training data (drift, performance); decide on retraining"),
    ]:
        sub = steps.add_parser(step, parents=[common, ranged], help=text)
        if step == "validate":
            sub.add_argument("--version", help="model version to validate (default: the latest)")
            sub.add_argument(
                "--promotion",
                choices=("auto", "manual"),
                help="override pipeline.yml: manual leaves a passing candidate as challenger for the promote step",
            )
        if step == "score":
            sub.add_argument(
                "--results-table", help="Delta table path to write predictions to; empty or absent: <data root>/gold/predictions"
            )
        if step == "monitor":
            sub.add_argument("--retrain", action="store_true", help="when the retraining rule fires, train and validate a new model")
            sub.add_argument("--decision-file", help="also write the decision ('true'/'false' to retrain) to this file, for pipelines")
    promote = steps.add_parser("promote", parents=[common], help="sign off a validated version as champion (manual promotion)")
    promote.add_argument("--version", required=True, help="a version number, or the alias 'challenger'")
    run_all = steps.add_parser("run-all", parents=[common, drift], help="every step in order, then a summary")
    run_all.add_argument("--regenerate", action="store_true", help="regenerate the data product even if it exists")
    steps.add_parser("summary", parents=[common], help="row counts, the champion and where results are")
    return parser


def _range(arguments: argparse.Namespace, settings: Settings) -> DateRange:
    """The step's range. Jobs pass empty strings for parameters left unset, so empty means absent.

    An end without a start is a scheduled run's "the day before end".
    """
    start, end = arguments.start or None, arguments.end or None
    default = settings.ranges()[DEFAULT_RANGE[arguments.step]]
    if start is None and end is None:
        return default
    if start is None:
        day_before = parse_timestamp(end, "end") - timedelta(days=1)
        return DateRange.parse(day_before.isoformat(), end)
    return DateRange.parse(start, end or default.end.isoformat())


def _with_drift(settings: Settings, arguments: argparse.Namespace) -> Settings:
    """Settings with the drift flags applied; validated by the same schema as pipeline.yml."""
    start, magnitude = getattr(arguments, "drift_from", None), getattr(arguments, "drift_magnitude", None)
    if start is None and magnitude is None:
        return settings
    drift = settings.config.data.drift
    if start is not None:
        drift = drift.model_copy(update={"start": parse_timestamp(start, "--drift-from")})
    if magnitude is not None:
        if not -10 <= magnitude <= 10:
            raise SettingsError(f"--drift-magnitude: {magnitude} is outside -10..10 standard deviations")
        drift = drift.model_copy(update={"magnitude": magnitude})
    if drift.start is None:
        raise SettingsError("--drift-magnitude needs --drift-from (or data.drift.start in the settings) to say when drift begins")
    return settings.with_config(data=settings.config.data.model_copy(update={"drift": drift}))


def _monitor(spark, settings: Settings, arguments: argparse.Namespace) -> int:
    from . import features, train, validate
    from .monitoring import step as monitoring

    window = _range(arguments, settings)
    result = monitoring.monitor(spark, settings, window)
    print(result.summary())
    monitoring.publish_decision(spark, result.decision, arguments.decision_file)
    if not (arguments.retrain and result.decision.retrain):
        return 0
    training_range, holdout = monitoring.retraining_ranges(settings, window)
    print(f"\nRetraining on {training_range}, validating on {holdout}")
    # Labels that arrived since the features were last built are added first.
    features.write_features(spark, settings, DateRange(training_range.start, holdout.end))
    trained = train.train(spark, settings, training_range)
    print(f"registered {trained.model_name} version {trained.model_version} from {trained.training_rows:,} windows")
    report = validate.validate(spark, settings, holdout, trained.model_version)
    print(f"version {trained.model_version} passed validation, now {report.promoted_to}; report: {report.report_path}")
    return 0


def run(arguments: argparse.Namespace) -> int:
    from ..core.spark import get_spark
    from . import data_product, features, ingest, pipeline, score, train, validate
    from .lake import Lake, MissingTableError

    settings = _with_drift(load_settings(arguments.config, size=arguments.size, data_root=arguments.data_root), arguments)
    if arguments.step == "promote":
        version = validate.promote(settings, arguments.version)
        print(f"{settings.model_name} version {version} is now champion")
        return 0
    spark = get_spark(state_dir=settings.state_dir)
    try:
        if arguments.step == "generate":
            counts = data_product.generate(spark, settings)
            print("raw rows written: " + ", ".join(f"{name} {count:,}" for name, count in counts.items()))
        elif arguments.step == "ingest":
            for name, counts in ingest.ingest(spark, settings, _range(arguments, settings)).items():
                print(f"{name:<12} read {counts.read:>10,}  accepted {counts.accepted:>10,}  quarantined {counts.quarantined:>6,}")
        elif arguments.step == "features":
            print(f"feature rows written: {features.write_features(spark, settings, _range(arguments, settings)):,}")
        elif arguments.step == "refresh-features":
            from .feature_store import DeltaFeatureStore, machine_window_features

            store, table = DeltaFeatureStore(Lake(settings.data_root)), machine_window_features(settings)
            rows = store.refresh(spark, table, settings, _range(arguments, settings))
            print(f"feature table {table.name}: {rows:,} windows in range, table version {store.version(spark, table)}")
        elif arguments.step == "train":
            result = train.train(spark, settings, _range(arguments, settings))
            print(
                f"registered {result.model_name} version {result.model_version} from {result.training_rows:,} windows (run {result.run_id})"
            )
        elif arguments.step == "validate":
            if arguments.promotion:
                settings = settings.with_config(validation=settings.config.validation.model_copy(update={"promotion": arguments.promotion}))
            report = validate.validate(spark, settings, _range(arguments, settings), arguments.version)
            print(report.markdown())
            print(f"report: {report.report_path}")
        elif arguments.step == "score":
            result = score.score(spark, settings, _range(arguments, settings), results_table=arguments.results_table or None)
            print(
                f"scored {result.rows:,} windows with version {result.model_version} into {result.table} (table version {result.table_version})"
            )
        elif arguments.step == "monitor":
            return _monitor(spark, settings, arguments)
        elif arguments.step == "run-all":
            timing = pipeline.run_all(spark, settings, regenerate=arguments.regenerate)
            print("\n" + pipeline.summary(spark, settings))
            print("\n" + timing.line())
        elif arguments.step == "summary":
            print(pipeline.summary(spark, settings))
    except MissingTableError as error:
        raise SettingsError(str(error)) from None
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    quiet_libraries()
    from .validate import PromotionRefused, ValidationFailed

    return run_step(
        lambda: run(arguments),
        {PromotionRefused: ("error", EXIT_INVALID_INPUT), ValidationFailed: ("validation failed", EXIT_VALIDATION_FAILED)},
    )
