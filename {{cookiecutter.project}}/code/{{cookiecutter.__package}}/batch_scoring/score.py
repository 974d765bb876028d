"""Batch scoring: the champion model predicts a failing component per machine and window.

The features are read from the feature table (feature_store.py), the rows its refresh
merged last for each machine and window, so scoring sees exactly the values training
looked up. The step loads `models:/<name>@champion`, so promoting a model is the only way to
change what production scores with. Each run replaces the date range it scores in
one Delta commit: a re-run never duplicates, and a run killed half-way leaves the
previous predictions readable and intact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from mlflow.tracking import MlflowClient
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from ..core.tracking import CHAMPION, configure_tracking, load_spark_model, version_by_alias
from .feature_store import DeltaFeatureStore, machine_window_features
from .features import LABELS, NO_FAILURE
from .lake import Lake
from .settings import DateRange, Settings, SettingsError, model_name

PREDICTION_COLUMNS = (
    "machine_id",
    "window_start",
    "window_end",
    "predicted_component",
    "failure_probability",
    "model_name",
    "model_version",
    "scored_at",
)


@dataclass(frozen=True)
class ScoreResult:
    rows: int
    model_version: str
    table: str
    table_version: int | None


def predictions(model, features: DataFrame, name: str, version: str, scored_at: datetime) -> DataFrame:
    """The prediction rows for already-built features; kept apart so tests can inject a model."""
    no_failure_index = LABELS.index(NO_FAILURE)
    return model.transform(features).select(
        "machine_id",
        "window_start",
        "window_end",
        "predicted_component",
        (F.lit(1.0) - vector_to_array("probability")[no_failure_index]).alias("failure_probability"),
        F.lit(name).alias("model_name"),
        F.lit(version).alias("model_version"),
        F.lit(scored_at).alias("scored_at"),
    )


def score(spark: SparkSession, settings: Settings, date_range: DateRange, model=None, results_table: str | None = None) -> ScoreResult:
    """Score `date_range` into the predictions table, or into `results_table` (a Delta path) when given."""
    configure_tracking(settings)
    name = model_name(settings)
    champion = version_by_alias(MlflowClient(), name, CHAMPION)
    if champion is None:
        raise SettingsError(f"model '{name}' has no '{CHAMPION}' version; train and validate a model first")
    model = model or load_spark_model(spark, champion)
    lake = Lake(settings.data_root, {"predictions": results_table} if results_table else {})
    store, table = DeltaFeatureStore(lake), machine_window_features(settings)
    features = store.read_range(spark, table, date_range)
    if features.isEmpty():
        raise SettingsError(f"the feature table has no rows in {date_range}; run `refresh-features` for that range first")
    scored = predictions(model, features, name, str(champion.version), datetime.now(UTC).replace(tzinfo=None))
    lake.replace_range(scored, "predictions", "window_start", date_range)
    return ScoreResult(
        lake.count_where(spark, "predictions", date_range.sql_predicate("window_start")),
        str(champion.version),
        lake.table("predictions"),
        lake.version(spark, "predictions"),
    )
