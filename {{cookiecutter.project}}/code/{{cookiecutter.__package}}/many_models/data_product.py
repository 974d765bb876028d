"""The simulated data product: weekly orange-juice sales per store and brand, as a Delta table.

Same shape as the many-models accelerator's data (WeekStarting, Store, Brand, Quantity,
Advert, Price, Revenue), generated deterministically from the seed so every run, test and
benchmark sees the same series. Demand follows price elasticity, adverts, yearly
seasonality and a persistent weekly level, so lags and calendar features carry signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession

from ..core.lake import DeltaLake
from .settings import ManyModelsSettings

MANY_MODELS_TABLES = {
    "sales": "silver/sales",
    "series_metrics": "gold/series_metrics",
    "sales_forecasts": "gold/sales_forecasts",
}
SALES_COLUMNS = ["WeekStarting", "Store", "Brand", "Quantity", "Advert", "Price", "Revenue"]


@dataclass(frozen=True)
class ManyModelsLake(DeltaLake):
    """The shared lake helper (atomic range replacement, existence checks) over this sample's tables."""

    TABLES = MANY_MODELS_TABLES


def simulate_sales(settings: ManyModelsSettings, stores: int | None = None) -> pd.DataFrame:
    """All series as one pandas frame, vectorised over series so the full size takes seconds."""
    data = settings.config.data
    store_count = stores or settings.size_spec.stores
    brands = data.brands
    weeks = settings.weeks()
    series = store_count * len(brands)
    rng = np.random.default_rng(data.seed)

    brand_index = np.tile(np.arange(len(brands)), store_count)
    store_ids = np.repeat(np.arange(1, store_count + 1), len(brands))
    brand_level = np.linspace(9.0, 9.6, len(brands))[brand_index]
    list_price = np.linspace(1.9, 2.9, len(brands))[brand_index] * rng.normal(1.0, 0.05, series)
    elasticity = rng.normal(-2.5, 0.3, series)
    level = brand_level + rng.normal(0.0, 0.3, series)
    amplitude = rng.uniform(0.05, 0.25, series)
    phase = rng.uniform(0.0, 2 * np.pi, series)
    noise = rng.uniform(0.02, 0.08, series)

    week_of_year = np.array([week.isocalendar()[1] for week in weeks], dtype=float)
    discount = np.where(rng.random((series, len(weeks))) < 0.25, rng.uniform(0.05, 0.25, (series, len(weeks))), 0.0)
    price = np.round(list_price[:, None] * (1.0 - discount), 2)
    advert = (rng.random((series, len(weeks))) < 0.3).astype(np.int32)
    persistent = np.zeros((series, len(weeks)))
    shocks = rng.normal(0.0, 0.06, (series, len(weeks)))
    for week in range(1, len(weeks)):
        persistent[:, week] = 0.7 * persistent[:, week - 1] + shocks[:, week]
    log_quantity = (
        level[:, None]
        + elasticity[:, None] * np.log(price / list_price[:, None])
        + 0.25 * advert
        + amplitude[:, None] * np.sin(2 * np.pi * week_of_year[None, :] / 52.18 + phase[:, None])
        + persistent
        + rng.normal(0.0, 1.0, (series, len(weeks))) * noise[:, None]
    )
    quantity = np.maximum(1, np.round(np.exp(log_quantity))).astype(np.int64)
    frame = pd.DataFrame(
        {
            "WeekStarting": np.tile(np.array(weeks, dtype="datetime64[D]"), series),
            "Store": np.repeat(store_ids, len(weeks)).astype(np.int32),
            "Brand": np.repeat(np.array(brands, dtype=object)[brand_index], len(weeks)),
            "Quantity": quantity.ravel(),
            "Advert": advert.ravel(),
            "Price": price.ravel(),
        }
    )
    frame["Revenue"] = np.round(frame["Quantity"] * frame["Price"], 2)
    frame["WeekStarting"] = frame["WeekStarting"].dt.date
    return frame[SALES_COLUMNS]


def sales_frame(spark: SparkSession, settings: ManyModelsSettings) -> DataFrame:
    schema = "WeekStarting date, Store int, Brand string, Quantity long, Advert int, Price double, Revenue double"
    return spark.createDataFrame(simulate_sales(settings), schema=schema)


def generate(spark: SparkSession, settings: ManyModelsSettings) -> int:
    """Write the sales table; re-running replaces it in one atomic Delta commit."""
    lake = ManyModelsLake(settings.data_root)
    weeks = settings.weeks()
    predicate = f"WeekStarting >= '{weeks[0]:%Y-%m-%d}' AND WeekStarting <= '{weeks[-1]:%Y-%m-%d}'"
    frame = sales_frame(spark, settings)
    lake.replace_where(frame, "sales", predicate, partition_by=["Brand"])
    return lake.count_where(spark, "sales", predicate)
