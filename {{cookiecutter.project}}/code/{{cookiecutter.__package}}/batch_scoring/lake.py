"""The batch-scoring sample's tables and where raw files land; writing rules are the shared ones."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import SparkSession

from ..core.lake import DeltaLake, MissingTableError

__all__ = ["RAW_ENTITIES", "TABLES", "Lake", "MissingTableError"]

# layer/table, in the order data flows.
TABLES = {
    "machines": "silver/machines",
    "telemetry": "silver/telemetry",
    "errors": "silver/errors",
    "maintenance": "silver/maintenance",
    "failures": "silver/failures",
    "quarantine": "silver/quarantine",
    # The feature table (feature_store.py): features per machine and window end, no labels.
    "features": "gold/features",
    # Labels per machine and window, joined to the features as of each window's end for training.
    "labels": "gold/labels",
    "predictions": "gold/predictions",
    "monitoring": "gold/monitoring_metrics",
}
RAW_ENTITIES = ("machines", "telemetry", "errors", "maintenance", "failures")


@dataclass(frozen=True)
class Lake(DeltaLake):
    """The predictive-maintenance tables, plus the landing folders raw files arrive in."""

    TABLES = TABLES

    def landing(self, entity: str) -> str:
        return f"{self.root}/landing/{entity}"

    def landing_exists(self, spark: SparkSession, entity: str) -> bool:
        """Whether raw files have landed; asks Hadoop's file system so abfss:// works too."""
        jvm_path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(self.landing(entity))
        return jvm_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).exists(jvm_path)
