"""Features per machine and 12-hour window, for any date range: training, holdout or scoring.

One function serves all three so that the model is always scored on exactly the
features it was trained on. For window [w, w + 12 h) the features describe the
machine as of the window's end, w + 12 h:

- rolling mean and standard deviation of each sensor over each look-back (12, 24 and 36 h);
- counts of each error type over the error look-back (24 h);
- days since each component was last replaced;
- machine model and age.

The label is the first component that fails within the horizon (84 h) after the
window's end, or "none". It stays null while the data cannot yet tell, that is when
the horizon reaches past the last ingested telemetry hour.
"""

from __future__ import annotations

from datetime import timedelta

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from .data_product import COMPONENTS, ERROR_TYPES, SENSORS
from .lake import Lake
from .settings import DateRange, FeatureSettings, Settings

LABELS = ("none", *COMPONENTS)
NO_FAILURE = "none"
# Days-since value for a component with no recorded replacement at all.
NEVER_REPLACED_DAYS = 1000.0
KEY_COLUMNS = ("machine_id", "window_start")
CATEGORICAL_COLUMNS = ("model",)


def numeric_feature_columns(features: FeatureSettings) -> list[str]:
    columns = [f"{sensor}_{statistic}_{hours}h" for hours in features.lookback_hours for sensor in SENSORS for statistic in ("mean", "std")]
    columns += [f"{error}_count_{features.error_lookback_hours}h" for error in ERROR_TYPES]
    columns += [f"{component}_days_since_replacement" for component in COMPONENTS]
    return [*columns, "age"]


def _seconds(column: str) -> F.Column:
    return F.unix_timestamp(column)


def _window_start(column: str, window_seconds: int) -> F.Column:
    return F.timestamp_seconds(F.floor(F.unix_timestamp(column) / window_seconds) * window_seconds)


def _ordered_sum(values: F.Column) -> F.Column:
    """The group's sum, added up smallest first; null for a group without values, as `sum` gives.

    Spark adds a group's doubles in whatever order its partitions arrive, and floating-point
    addition is not associative, so the same rows in other files could give features that
    differ in the last bit, and a forest split falling between them would differ too: the
    same data trained models whose holdout recall differed by 4 points. Summing the sorted
    values makes the features, and the model, a function of the rows alone.
    """
    collected = F.array_sort(F.collect_list(values))
    return F.when(F.size(collected) > 0, F.aggregate(collected, F.lit(0.0), lambda total, value: total + value))


def build_features(spark: SparkSession, settings: Settings, date_range: DateRange, *, labels: bool = True) -> DataFrame:
    lake = Lake(settings.data_root)
    config = settings.config.features
    window_seconds = config.window_hours * 3600
    read_from = date_range.start - timedelta(hours=config.max_lookback_hours)
    telemetry = lake.read(spark, "telemetry").where(DateRange(read_from, date_range.end).sql_predicate("datetime"))

    # One row per machine and window with sums, so rolling statistics over any
    # look-back are sums of sums: no second pass over the hourly data.
    per_window = telemetry.groupBy("machine_id", _window_start("datetime", window_seconds).alias("window_start")).agg(
        *[
            aggregate
            for sensor in SENSORS
            for aggregate in (
                _ordered_sum(F.col(sensor)).alias(f"{sensor}_sum"),
                _ordered_sum(F.col(sensor) * F.col(sensor)).alias(f"{sensor}_sumsq"),
                F.count(sensor).alias(f"{sensor}_n"),
            )
        ]
    )

    errors = (
        lake.read(spark, "errors")
        .where(DateRange(read_from, date_range.end).sql_predicate("datetime"))
        .groupBy("machine_id", _window_start("datetime", window_seconds).alias("window_start"))
        .pivot("error_id", list(ERROR_TYPES))
        .count()
    )
    grid = per_window.join(errors, list(KEY_COLUMNS), "left").fillna(0, subset=list(ERROR_TYPES))
    grid = grid.withColumn("_t", _seconds("window_start"))

    columns = []
    for hours in config.lookback_hours:
        lookback = Window.partitionBy("machine_id").orderBy("_t").rangeBetween(-(hours * 3600 - window_seconds), 0)
        for sensor in SENSORS:
            total, squares, count = (F.sum(f"{sensor}_{part}").over(lookback) for part in ("sum", "sumsq", "n"))
            mean = total / count
            variance = F.greatest(squares / count - mean * mean, F.lit(0.0)) * count / F.greatest(count - 1, F.lit(1))
            columns += [mean.alias(f"{sensor}_mean_{hours}h"), F.sqrt(variance).alias(f"{sensor}_std_{hours}h")]
    error_lookback = Window.partitionBy("machine_id").orderBy("_t").rangeBetween(-(config.error_lookback_hours * 3600 - window_seconds), 0)
    columns += [
        F.sum(error).over(error_lookback).cast("double").alias(f"{error}_count_{config.error_lookback_hours}h") for error in ERROR_TYPES
    ]
    features = grid.select(
        "machine_id",
        "window_start",
        (F.col("window_start") + F.expr(f"INTERVAL {config.window_hours} HOURS")).alias("window_end"),
        *columns,
    ).where(date_range.sql_predicate("window_start"))

    features = _with_days_since_replacement(features, lake.read(spark, "maintenance").where(F.col("datetime") < F.lit(date_range.end)))
    machines = lake.read(spark, "machines").select("machine_id", "model", F.col("age").cast("double").alias("age"))
    features = features.join(F.broadcast(machines), "machine_id", "inner")
    return with_labels(spark, settings, features) if labels else features


def with_labels(spark: SparkSession, settings: Settings, features: DataFrame) -> DataFrame:
    """`features` with each window's label as known now: null while its horizon has not passed."""
    return _with_label(spark, Lake(settings.data_root), features, settings.config.features.horizon_hours)


def _with_days_since_replacement(features: DataFrame, maintenance: DataFrame) -> DataFrame:
    """As-of join: for each window end, the latest replacement of each component before it."""
    events = maintenance.select(
        "machine_id",
        F.col("datetime").alias("_at"),
        F.lit(1).alias("_is_event"),
        *[F.when(F.col("component") == component, F.col("datetime")).alias(f"_{component}") for component in COMPONENTS],
    )
    windows = features.select(
        "machine_id",
        F.col("window_end").alias("_at"),
        F.lit(0).alias("_is_event"),
        *[F.lit(None).cast("timestamp").alias(f"_{c}") for c in COMPONENTS],
    )
    # Events at the very window end happen after the features were observed: windows sort first.
    history = Window.partitionBy("machine_id").orderBy("_at", "_is_event").rowsBetween(Window.unboundedPreceding, 0)
    as_of = (
        events.unionByName(windows)
        .select(
            "machine_id",
            "_at",
            "_is_event",
            *[
                F.coalesce(
                    (F.unix_timestamp("_at") - F.unix_timestamp(F.last(f"_{component}", ignorenulls=True).over(history))) / 86400.0,
                    F.lit(NEVER_REPLACED_DAYS),
                ).alias(f"{component}_days_since_replacement")
                for component in COMPONENTS
            ],
        )
        .where(F.col("_is_event") == 0)
        .drop("_is_event")
    )
    return features.join(as_of.withColumnRenamed("_at", "window_end"), ["machine_id", "window_end"], "left")


def _with_label(spark: SparkSession, lake: Lake, features: DataFrame, horizon_hours: int) -> DataFrame:
    failures = lake.read(spark, "failures").select("machine_id", F.col("datetime").alias("failed_at"), "component")
    horizon = F.expr(f"INTERVAL {horizon_hours} HOURS")
    first_failure = (
        features.select("machine_id", "window_start", "window_end")
        .join(failures, "machine_id")
        .where((F.col("failed_at") > F.col("window_end")) & (F.col("failed_at") <= F.col("window_end") + horizon))
        .groupBy("machine_id", "window_start")
        .agg(F.min_by("component", "failed_at").alias("_failing"))
    )
    last_hour = lake.read(spark, "telemetry").agg(F.max("datetime")).collect()[0][0]
    known = F.lit(last_hour is not None) & (F.col("window_end") + horizon <= F.lit(last_hour))
    return (
        features.join(first_failure, list(KEY_COLUMNS), "left")
        .withColumn("label", F.when(known, F.coalesce("_failing", F.lit(NO_FAILURE))))
        .drop("_failing")
    )


def write_labels(spark: SparkSession, settings: Settings, windows: DataFrame, date_range: DateRange) -> int:
    """Replace the range in the labels table: one row per machine and window of `windows`; return rows written.

    Labels are kept apart from the feature table, as a feature store keeps them: training
    joins them to the features as of each label's time (feature_store.point_in_time).
    """
    lake = Lake(settings.data_root)
    keys = windows.select("machine_id", "window_start", "window_end")
    lake.replace_range(with_labels(spark, settings, keys), "labels", "window_start", date_range)
    return lake.count_where(spark, "labels", date_range.sql_predicate("window_start"))


def write_features(spark: SparkSession, settings: Settings, date_range: DateRange) -> int:
    """The features step: refresh the feature table for the range (a merge), then write the range's labels; return feature rows."""
    from .feature_store import DeltaFeatureStore, machine_window_features

    store, table = DeltaFeatureStore(Lake(settings.data_root)), machine_window_features(settings)
    rows = store.refresh(spark, table, settings, date_range)
    write_labels(spark, settings, store.read_range(spark, table, date_range), date_range)
    return rows
