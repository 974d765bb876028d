"""Batch scoring: forecasts for every series over a week range, written idempotently to Delta.

Each Spark Python worker opens the champion bundle once and keeps it in a module-level
cache keyed by the bundle's location, so thousands of groups cost one index load per
worker process, not one per series. Forecasts are partitioned by week and replace exactly
the scored weeks, so a re-run (or a retry of a killed run) never duplicates rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from ..core.settings import SettingsError
from ..core.tracking import CHAMPION, configure_tracking, version_by_alias
from .bundle import BundleReader
from .data_product import ManyModelsLake
from .features import series_features
from .register import bundle_folder
from .settings import ManyModelsSettings
from .train import parallel_by_series

FORECAST_SCHEMA = "WeekStarting date, Store int, Brand string, Quantity long, Prediction double, series_status string, model_version string"
NO_MODEL = "no_model"
_READERS: dict[str, BundleReader] = {}


def reader_for(folder: str, model_uri: str) -> BundleReader:
    """The bundle of this worker process, opened on first use (downloaded first where the folder is not shared)."""
    if folder not in _READERS:
        from pathlib import Path

        local = folder if Path(folder).is_dir() else str(bundle_folder(model_uri))
        _READERS[folder] = BundleReader(local)
    return _READERS[folder]


def score_series(series: pd.DataFrame, *, folder: str, model_uri: str, version: str, lags: int, start: date, end: date) -> pd.DataFrame:
    """Forecast one series' weeks in [start, end), each from the actual quantities of its previous `lags` weeks."""
    series = series.sort_values("WeekStarting")
    weeks = list(series["WeekStarting"])
    in_range = np.array([start <= week < end for week in weeks[lags:]], dtype=bool)
    if not in_range.any():  # also a series shorter than its lags
        return pd.DataFrame(columns=["WeekStarting", "Store", "Brand", "Quantity", "Prediction", "series_status", "model_version"])
    quantity = series["Quantity"].to_numpy(dtype=float)
    features = series_features(quantity, weeks, series["Price"].to_numpy(float), series["Advert"].to_numpy(float), lags)
    scored = series.iloc[lags:][in_range]
    reader = reader_for(folder, model_uri)
    key = (int(series["Store"].iloc[0]), str(series["Brand"].iloc[0]))
    if key in reader:
        prediction, status = reader.predict_series(key, features[in_range]), reader.entry(key).status
    else:
        prediction, status = np.full(len(scored), np.nan), NO_MODEL
    return scored[["WeekStarting", "Store", "Brand", "Quantity"]].assign(Prediction=prediction, series_status=status, model_version=version)


@dataclass(frozen=True)
class ScoringResult:
    rows: int
    model_version: str
    table: str
    table_version: int | None
    start: date
    end: date


def score(spark: SparkSession, settings: ManyModelsSettings, start: date | None = None, end: date | None = None) -> ScoringResult:
    """Score weeks [start, end) (default: the holdout weeks) with the champion bundle."""
    configure_tracking(settings)
    name = settings.model_name
    champion = version_by_alias(MlflowClient(), name, CHAMPION)
    if champion is None:
        raise SettingsError(f"model '{name}' has no '{CHAMPION}'; run the many-models `train` and `promote` steps first")
    start = start or settings.holdout_start()
    end = end or settings.weeks()[-1] + timedelta(days=1)
    if end <= start:
        raise SettingsError(f"score range: end {end} must be after start {start}")
    model_uri = f"models:/{name}/{champion.version}"
    folder = str(bundle_folder(model_uri))
    lags = settings.config.training.lags
    lake = ManyModelsLake(settings.data_root)
    history_start = start - timedelta(weeks=lags)
    sales = lake.read(spark, "sales").where((F.col("WeekStarting") >= F.lit(history_start)) & (F.col("WeekStarting") < F.lit(end)))
    scorer = partial(score_series, folder=folder, model_uri=model_uri, version=str(champion.version), lags=lags, start=start, end=end)
    predicate = f"WeekStarting >= '{start:%Y-%m-%d}' AND WeekStarting < '{end:%Y-%m-%d}'"
    with parallel_by_series(spark, sales, settings) as apply:
        lake.replace_where(apply(scorer, FORECAST_SCHEMA), "sales_forecasts", predicate, partition_by=["WeekStarting"])
    return ScoringResult(
        rows=lake.count_where(spark, "sales_forecasts", predicate),
        model_version=str(champion.version),
        table=lake.table("sales_forecasts"),
        table_version=lake.version(spark, "sales_forecasts"),
        start=start,
        end=end,
    )
