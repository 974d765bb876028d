"""Feature tables: each defined once, served by a local Delta backend here and by Unity Catalog on Databricks.

A feature table is keyed like a time series: primary keys (the machine) plus a timestamp
key (the window's end, the moment its features describe). That shape is what makes a
point-in-time training set possible: each label row gets, per key, the latest feature row
whose timestamp is at or before the label's own time, so no value computed after a label's
time can reach its row. Databricks' Feature Engineering in Unity Catalog does the same
lookup ("Time series feature tables (point-in-time lookups)",
https://learn.microsoft.com/azure/databricks/machine-learning/feature-store/time-series);
the local backend below implements it on path-based Delta tables so the same training code
runs on a laptop, and `feature_store_databricks.py` maps the same definition onto
`FeatureEngineeringClient`.

Refreshing merges on (primary keys, timestamp key): a window computed again replaces its
row, a new window adds one, so running a refresh twice leaves the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from .features import CATEGORICAL_COLUMNS, build_features, numeric_feature_columns
from .lake import Lake
from .settings import DateRange, Settings

Source = Callable[[SparkSession, Settings, DateRange], DataFrame]


@dataclass(frozen=True)
class FeatureTable:
    """One feature table: the only place its name, keys, timestamp key, columns and source are written down."""

    name: str
    primary_keys: tuple[str, ...]
    timestamp_key: str
    # Looked up as features; the model's inputs.
    columns: tuple[str, ...]
    # Stored beside the features to describe a row, never looked up as a feature.
    descriptive_columns: tuple[str, ...]
    # The column a date range selects rows by (a window's start, as every step's ranges do).
    range_column: str
    source: Source
    description: str

    @property
    def merge_keys(self) -> tuple[str, ...]:
        return (*self.primary_keys, self.timestamp_key)

    @property
    def stored_columns(self) -> tuple[str, ...]:
        return (*self.merge_keys, *self.descriptive_columns, *self.columns)

    def compute(self, spark: SparkSession, settings: Settings, date_range: DateRange) -> DataFrame:
        """The source's rows for a range, exactly the stored columns (a missing one is a definition error)."""
        frame = self.source(spark, settings, date_range)
        missing = [column for column in self.stored_columns if column not in frame.columns]
        if missing:
            raise ValueError(f"feature table {self.name}: its source returns no column {', '.join(missing)}")
        return frame.select(*self.stored_columns)


def _machine_window_source(spark: SparkSession, settings: Settings, date_range: DateRange) -> DataFrame:
    return build_features(spark, settings, date_range, labels=False)


def machine_window_features(settings: Settings) -> FeatureTable:
    """The batch-scoring sample's features per machine and 12-hour window (features.py), as a feature table."""
    return FeatureTable(
        name="features",
        primary_keys=("machine_id",),
        timestamp_key="window_end",
        columns=(*CATEGORICAL_COLUMNS, *numeric_feature_columns(settings.config.features)),
        descriptive_columns=("window_start",),
        range_column="window_start",
        source=_machine_window_source,
        description="Sensor statistics, error counts, days since replacement and machine attributes per machine, as of each window's end.",
    )


def point_in_time(
    spine: DataFrame,
    features: DataFrame,
    table: FeatureTable,
    timestamp_column: str,
    *,
    max_lookback: timedelta | None = None,
    how: str = "left",
) -> DataFrame:
    """For each spine row, the feature columns of the latest feature row of its key with timestamp <= the row's time.

    One pass over the union of spine and feature rows per key, ordered by time, instead of a
    range join: at equal times the feature row sorts first, so a feature stamped exactly at
    the label's time counts (it describes the machine as of that moment) and one stamped a
    second later never does. `max_lookback` leaves a spine row without features when the
    latest feature row is older than that; `how="inner"` then drops such rows.
    """
    if how not in ("left", "inner"):
        raise ValueError(f"how: '{how}' is not a join this lookup makes; use 'left' or 'inner'")
    clashing = sorted(set(spine.columns) & set(table.columns))
    if clashing:
        raise ValueError(f"the spine already has feature columns {', '.join(clashing)}; drop them before the lookup")
    keys = list(table.primary_keys)
    found = F.struct(F.col(table.timestamp_key).alias("_feature_time"), *[F.col(column) for column in table.columns])
    feature_rows = features.select(*keys, F.col(table.timestamp_key).alias("_at"), F.lit(0).alias("_is_spine"), found.alias("_found"))
    spine_rows = spine.select(
        *keys, F.col(timestamp_column).alias("_at"), F.lit(1).alias("_is_spine"), F.struct(*spine.columns).alias("_row")
    )
    history = Window.partitionBy(*keys).orderBy("_at", "_is_spine").rowsBetween(Window.unboundedPreceding, 0)
    joined = (
        feature_rows.unionByName(spine_rows, allowMissingColumns=True)
        .withColumn("_latest", F.last("_found", ignorenulls=True).over(history))
        .where(F.col("_is_spine") == 1)
    )
    if max_lookback is not None:
        too_old = F.col("_latest._feature_time") < F.col("_at") - F.expr(f"INTERVAL {int(max_lookback.total_seconds())} SECONDS")
        joined = joined.withColumn("_latest", F.when(too_old, F.lit(None)).otherwise(F.col("_latest")))
    if how == "inner":
        joined = joined.where(F.col("_latest").isNotNull())
    return joined.select("_row.*", *[F.col(f"_latest.{column}").alias(column) for column in table.columns])


@dataclass(frozen=True)
class DeltaFeatureStore:
    """The local backend: each feature table is a path-based Delta table in the sample's lake."""

    lake: Lake

    def refresh(self, spark: SparkSession, table: FeatureTable, settings: Settings, date_range: DateRange) -> int:
        """Merge the source's rows for `date_range` on (keys, timestamp key); return the rows of the range."""
        self.lake.merge(table.compute(spark, settings, date_range), table.name, list(table.merge_keys))
        return self.read_range(spark, table, date_range).count()

    def read(self, spark: SparkSession, table: FeatureTable) -> DataFrame:
        return self.lake.read(spark, table.name)

    def read_range(self, spark: SparkSession, table: FeatureTable, date_range: DateRange) -> DataFrame:
        return self.read(spark, table).where(date_range.sql_predicate(table.range_column))

    def version(self, spark: SparkSession, table: FeatureTable) -> int | None:
        return self.lake.version(spark, table.name)

    def training_set(
        self, spark: SparkSession, table: FeatureTable, labels: DataFrame, timestamp_column: str, *, max_lookback: timedelta | None = None
    ) -> DataFrame:
        """Labels joined with their features as of each label's time; labels without such features are left out."""
        return point_in_time(labels, self.read(spark, table), table, timestamp_column, max_lookback=max_lookback, how="inner")
