"""Train one model per series in parallel with `groupBy(keys).applyInPandas`, log one run, register one bundle.

Why these Spark settings: the series are repartitioned by key so each task holds whole
series and no shuffle happens inside the grouping, and adaptive execution's partition
coalescing is switched off for this stage: it sees a small input and would merge the
partitions into one or two tasks, leaving cores idle while thousands of fits run in series.
"""

from __future__ import annotations

import pickle
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from sklearn.linear_model import LinearRegression

from ..core.settings import SettingsError
from ..core.tracking import configure_tracking, git_commit
from .bundle import write_bundle
from .data_product import ManyModelsLake
from .features import series_features
from .register import register_bundle
from .settings import SERIES_KEYS, ManyModelsSettings

TRAINING_SCHEMA = (
    "Store int, Brand string, training_weeks int, holdout_weeks int, mape double, rmse double, accuracy double, status string, model binary"
)
TRAINED = "trained"
TOO_SHORT = "too_short"


def fit_series(series: pd.DataFrame, *, lags: int, holdout_start: date, min_training_weeks: int) -> pd.DataFrame:
    """Fit and evaluate one series; the same function runs in Spark workers and in the one-process benchmark."""
    series = series.sort_values("WeekStarting")
    weeks = list(series["WeekStarting"])
    quantity = series["Quantity"].to_numpy(dtype=float)
    features = series_features(quantity, weeks, series["Price"].to_numpy(float), series["Advert"].to_numpy(float), lags)
    target = quantity[lags:]
    in_holdout = np.array([week >= holdout_start for week in weeks[lags:]], dtype=bool)
    training_weeks, holdout_weeks = int((~in_holdout).sum()), int(in_holdout.sum())
    row = {"Store": int(series["Store"].iloc[0]), "Brand": str(series["Brand"].iloc[0])}
    if training_weeks < min_training_weeks or holdout_weeks == 0:
        return pd.DataFrame([{**row, "training_weeks": training_weeks, "holdout_weeks": holdout_weeks, "mape": None,
                              "rmse": None, "accuracy": None, "status": TOO_SHORT, "model": None}])  # fmt: skip
    model = LinearRegression().fit(features[~in_holdout], target[~in_holdout])
    predicted = model.predict(features[in_holdout])
    actual = target[in_holdout]
    mape = float(np.mean(np.abs(actual - predicted) / np.abs(actual)))
    rmse = float(np.sqrt(np.mean((actual - predicted) ** 2)))
    return pd.DataFrame([{**row, "training_weeks": training_weeks, "holdout_weeks": holdout_weeks, "mape": mape, "rmse": rmse,
                          "accuracy": 1.0 - mape, "status": TRAINED, "model": pickle.dumps(model, protocol=5)}])  # fmt: skip


def series_fitter(settings: ManyModelsSettings):
    training = settings.config.training
    return partial(fit_series, lags=training.lags, holdout_start=settings.holdout_start(), min_training_weeks=training.min_training_weeks)


def partition_count(spark: SparkSession, settings: ManyModelsSettings) -> int:
    return settings.config.training.partitions or 2 * spark.sparkContext.defaultParallelism


BUCKET = "_series_bucket"
# Buckets per partition: enough that range partitioning hands every task the same share of
# series (each bucket holds about 1/16 of a task's series), few enough that Spark's per-group
# cost stays negligible.
BUCKETS_PER_PARTITION = 16
PerSeries = Callable[[pd.DataFrame], pd.DataFrame]


def each_series(per_series: PerSeries, bucket: pd.DataFrame) -> pd.DataFrame:
    """Run the per-series function over every whole series of one bucket, as one Python call."""
    results = [per_series(series) for _, series in bucket.drop(columns=[BUCKET]).groupby(SERIES_KEYS, sort=False)]
    return pd.concat(results, ignore_index=True) if results else per_series(bucket.drop(columns=[BUCKET]).head(0))


def series_buckets(frame: DataFrame, partitions: int) -> DataFrame:
    """The frame with a bucket id per series, placed so every task holds the same number of buckets of whole series.

    Bucket b goes to task b mod `partitions`. Spark's hash partitioning sends a key to
    pmod(hash(key), partitions) with the same Murmur3 hash and seed as the `hash` function, so
    one key per task, found by asking `hash` which small integer lands where, places every bucket
    exactly. Range partitioning got close but not exact: its bounds come from a sample, and on
    16 buckets per task a sampled bound one bucket off left one task a third lighter than another.
    """
    key_of_task = _routing_keys(frame.sparkSession, partitions)
    routes = F.array(*[F.lit(key_of_task[task]).cast("bigint") for task in range(partitions)])
    bucketed = frame.withColumn(BUCKET, F.pmod(F.hash(*SERIES_KEYS), F.lit(partitions * BUCKETS_PER_PARTITION)))
    routed = bucketed.withColumn("_route", F.element_at(routes, F.pmod(F.col(BUCKET), F.lit(partitions)) + 1))
    return routed.repartition(partitions, "_route").drop("_route")


# Spark's hash does not change within a release, so the keys for a task count are found once per process.
_ROUTING_KEYS: dict[int, dict[int, int]] = {}


def _routing_keys(spark: SparkSession, partitions: int) -> dict[int, int]:
    """For each task index, a small integer that Spark's hash partitioning sends to that task."""
    if partitions not in _ROUTING_KEYS:
        probe = spark.range(64 * partitions).select("id", F.pmod(F.hash("id"), F.lit(partitions)).alias("task"))
        keys: dict[int, int] = {}
        for row in probe.collect():
            keys.setdefault(row["task"], row["id"])
        if len(keys) < partitions:  # 64 candidates per task practically always cover them all; never place silently badly
            raise RuntimeError(f"found routing keys for {len(keys)} of {partitions} tasks")
        _ROUTING_KEYS[partitions] = keys
    return _ROUTING_KEYS[partitions]


@contextmanager
def parallel_by_series(
    spark: SparkSession, frame: DataFrame, settings: ManyModelsSettings
) -> Iterator[Callable[[PerSeries, str], DataFrame]]:
    """A function applying a per-series function to every series in parallel, with coalescing off until the block's action ends.

    `training.grouping: series` is `groupBy(Store, Brand).applyInPandas`: one Python call per
    series. `buckets` hashes the series into a few groups per task and runs the same per-series
    function over each bucket's series in one call, which saves Spark's per-group cost (Arrow
    batch, pandas frame, result batch); each series is still whole inside one bucket.

    Buckets are placed on tasks explicitly (`series_buckets`), not by hashing the bucket ids:
    hashing a handful of ids onto as many partitions collides (two buckets in one task, another
    task empty), which left a core idle for part of the stage; at full size that cost 13.6 s against 9.8 s.
    """
    previous = spark.conf.get("spark.sql.adaptive.coalescePartitions.enabled", "true")
    spark.conf.set("spark.sql.adaptive.coalescePartitions.enabled", "false")
    partitions = partition_count(spark, settings)

    def apply(per_series: PerSeries, schema: str) -> DataFrame:
        if settings.config.training.grouping == "series":
            return frame.repartition(partitions, *SERIES_KEYS).groupBy(*SERIES_KEYS).applyInPandas(per_series, schema=schema)
        bucketed = series_buckets(frame, partitions)
        return bucketed.groupBy(BUCKET).applyInPandas(partial(each_series, per_series), schema=schema)

    try:
        yield apply
    finally:
        spark.conf.set("spark.sql.adaptive.coalescePartitions.enabled", previous)


def train_all_series(spark: SparkSession, sales: DataFrame, settings: ManyModelsSettings) -> pd.DataFrame:
    """Every series' fit, metrics and pickled model, collected on the driver (about 1 KB per series)."""
    with parallel_by_series(spark, sales, settings) as apply:
        return apply(series_fitter(settings), TRAINING_SCHEMA).toPandas()


def fit_in_process(sales: pd.DataFrame, settings: ManyModelsSettings) -> pd.DataFrame:
    """The same per-series work in one Python process: the baseline Spark is measured against, and a Spark-free path for tests."""
    fitter = series_fitter(settings)
    return pd.concat([fitter(group) for _, group in sales.groupby(SERIES_KEYS, sort=False)], ignore_index=True)


def bundle_records(fits: pd.DataFrame) -> Iterator[tuple[tuple[int, str], bytes, float, str]]:
    """The trained series of a fit table, as records for `write_bundle`."""
    for row in fits[fits["status"] == TRAINED].itertuples():
        yield (int(row.Store), str(row.Brand)), row.model, float(row.accuracy), TRAINED


def bundle_metadata(settings: ManyModelsSettings, run_id: str, first_week: object, last_week: object) -> dict[str, object]:
    return {"run_id": run_id, "data_start": str(first_week), "data_end": str(last_week),
            "holdout_start": str(settings.holdout_start()), "lags": settings.config.training.lags}  # fmt: skip


@dataclass(frozen=True)
class TrainingResult:
    run_id: str
    model_name: str
    model_version: str
    series_trained: int
    series_skipped: int
    mean_accuracy: float
    passing_fraction: float
    training_seconds: float
    registration_seconds: float


def aggregate_metrics(fits: pd.DataFrame, min_accuracy: float) -> dict[str, float]:
    trained = fits[fits["status"] == TRAINED]
    return {
        "series_trained": float(len(trained)),
        "series_skipped": float(len(fits) - len(trained)),
        "mean_accuracy": float(trained["accuracy"].mean()),
        "median_accuracy": float(trained["accuracy"].median()),
        "mean_mape": float(trained["mape"].mean()),
        "mean_rmse": float(trained["rmse"].mean()),
        "passing_fraction": float((trained["accuracy"] > min_accuracy).mean()),
    }


def train(spark: SparkSession, settings: ManyModelsSettings) -> TrainingResult:
    """Train every series, log one MLflow run with aggregate and per-series metrics, register one bundle version."""
    sales = ManyModelsLake(settings.data_root).read(spark, "sales")
    started = time.perf_counter()
    fits = train_all_series(spark, sales, settings)
    training_seconds = time.perf_counter() - started
    if fits.empty:
        raise SettingsError(f"the sales table at {settings.data_root} has no rows; run `generate` first")
    metrics = aggregate_metrics(fits, settings.config.promotion.min_accuracy)
    weeks = sales.agg(F.min("WeekStarting"), F.max("WeekStarting")).first()

    configure_tracking(settings)
    with mlflow.start_run(run_name=f"many-models-{settings.size}") as run:
        mlflow.set_tags({"sample": "many_models", "git_commit": git_commit()})
        mlflow.log_params(
            {
                "size": settings.size,
                "model_type": "LinearRegression",
                "partitions": partition_count(spark, settings),
                **settings.config.training.model_dump(exclude={"partitions"}),
            }  # fmt: skip
        )
        mlflow.log_metrics({**metrics, "training_seconds": training_seconds})
        with tempfile.TemporaryDirectory() as scratch:
            table = Path(scratch) / "series_metrics.parquet"
            fits.drop(columns=["model"]).to_parquet(table, index=False)
            mlflow.log_artifact(str(table))
            started = time.perf_counter()
            bundle_dir = Path(scratch) / "bundle"
            write_bundle(bundle_dir, bundle_records(fits), bundle_metadata(settings, run.info.run_id, *weeks))
            version = register_bundle(settings, bundle_dir, run.info.run_id)
            registration_seconds = time.perf_counter() - started
        mlflow.log_metric("registration_seconds", registration_seconds)
    return TrainingResult(
        run_id=run.info.run_id,
        model_name=settings.model_name,
        model_version=version.version,
        series_trained=int(metrics["series_trained"]),
        series_skipped=int(metrics["series_skipped"]),
        mean_accuracy=metrics["mean_accuracy"],
        passing_fraction=metrics["passing_fraction"],
        training_seconds=training_seconds,
        registration_seconds=registration_seconds,
    )
