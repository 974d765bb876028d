"""The same feature table definitions as Unity Catalog feature tables, through Databricks Feature Engineering.

Kept thin on purpose: it cannot run off Databricks, so it only maps a `FeatureTable`
(feature_store.py) onto `FeatureEngineeringClient` calls, and a contract test checks those
calls against the installed client's real signatures. The calls follow "Work with feature
tables in Unity Catalog" and "Use features to train models"
(https://learn.microsoft.com/azure/databricks/machine-learning/feature-store/uc/feature-tables-uc,
https://learn.microsoft.com/azure/databricks/machine-learning/feature-store/train-models-with-feature-store):

- a time-series feature table's primary key includes its timestamp key, named again in
  `timeseries_column` (databricks-feature-engineering 0.18 still accepts the older
  `timestamp_keys` through `**kwargs`, so only a check against named parameters catches it);
- `write_table(mode="merge")` upserts on the primary key, the local backend's merge;
- `FeatureLookup(timestamp_lookup_key=...)` makes `create_training_set` a point-in-time join;
- `log_model(..., training_set=...)` stores the lookups with the model, so batch scoring with
  `score_batch` looks the features up by key.

The client is passed in, so nothing here imports `databricks.feature_engineering` until a job
on Databricks builds one (`client()`); `pip install .[databricks]` installs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pyspark.sql import DataFrame, SparkSession

from .feature_store import FeatureTable
from .settings import DateRange, Settings


def client():
    """A FeatureEngineeringClient for the workspace the job runs in."""
    from databricks.feature_engineering import FeatureEngineeringClient

    return FeatureEngineeringClient()


def feature_lookup_class():
    from databricks.feature_engineering import FeatureLookup

    return FeatureLookup


@dataclass(frozen=True)
class UnityCatalogFeatureStore:
    """Feature tables in one Unity Catalog schema (`catalog.schema`)."""

    client: object
    schema: str
    lookup_class: type | None = None

    def table_name(self, table: FeatureTable) -> str:
        return f"{self.schema}.{table.name}"

    def refresh(self, spark: SparkSession, table: FeatureTable, settings: Settings, date_range: DateRange) -> None:
        """Compute the range from the table's source and write it."""
        self.write(spark, table, table.compute(spark, settings, date_range))

    def write(self, spark: SparkSession, table: FeatureTable, frame: DataFrame) -> None:
        """Create the table from the first rows, merge every later write on (keys, timestamp key)."""
        name = self.table_name(table)
        if not spark.catalog.tableExists(name):
            self.client.create_table(
                name=name,
                primary_keys=list(table.merge_keys),
                timeseries_column=table.timestamp_key,
                df=frame,
                description=table.description,
            )
        else:
            self.client.write_table(name=name, df=frame, mode="merge")

    def feature_lookup(self, table: FeatureTable, timestamp_column: str, max_lookback: timedelta | None = None):
        lookup = self.lookup_class or feature_lookup_class()
        return lookup(
            table_name=self.table_name(table),
            lookup_key=list(table.primary_keys),
            timestamp_lookup_key=timestamp_column,
            feature_names=list(table.columns),
            lookback_window=max_lookback,
        )

    def training_set(self, table: FeatureTable, labels: DataFrame, timestamp_column: str, label: str, *, max_lookback=None):
        """The point-in-time training set; `.load_df()` gives the frame to fit on."""
        return self.client.create_training_set(
            df=labels,
            feature_lookups=[self.feature_lookup(table, timestamp_column, max_lookback)],
            label=label,
        )

    def log_model(self, model, training_set, registered_model_name: str):
        """Log a Spark ML model with its feature lookups, registered in Unity Catalog."""
        import mlflow.spark

        return self.client.log_model(
            model=model,
            artifact_path="model",
            flavor=mlflow.spark,
            training_set=training_set,
            registered_model_name=registered_model_name,
        )
