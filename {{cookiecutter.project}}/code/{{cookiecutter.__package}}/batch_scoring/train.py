"""Train the failure classifier: a Spark ML random forest, as in the reference.

Pipeline: StringIndexer (machine model) -> VectorAssembler -> VectorIndexer ->
RandomForestClassifier -> IndexToString. The labels are a fixed list, so class
indices mean the same in every model version, and rare failure classes get larger
weights so the forest does not learn to always say "none".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mlflow
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import RandomForestClassifier
from pyspark.ml.feature import IndexToString, StringIndexer, StringIndexerModel, VectorAssembler, VectorIndexer
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from ..core.tracking import configure_tracking, git_commit, pinned_requirements
from .feature_store import DeltaFeatureStore, machine_window_features
from .features import CATEGORICAL_COLUMNS, KEY_COLUMNS, LABELS, numeric_feature_columns
from .lake import Lake
from .metrics import classification_metrics, confusion
from .settings import DateRange, Settings, SettingsError, model_name

# Partitions of the training set: enough for a job cluster's cores to share the forest's
# per-level statistics, fixed so that the cluster's size does not change the model.
TRAINING_PARTITIONS = 16


@dataclass(frozen=True)
class TrainResult:
    run_id: str
    model_name: str
    model_version: str
    training_rows: int
    metrics: dict[str, float | None]


def build_pipeline(settings: Settings) -> Pipeline:
    params = settings.model_params()
    numeric = numeric_feature_columns(settings.config.features)
    return Pipeline(
        stages=[
            StringIndexer(inputCol="model", outputCol="model_index", handleInvalid="keep"),
            VectorAssembler(inputCols=[*numeric, "model_index"], outputCol="raw_features", handleInvalid="keep"),
            VectorIndexer(inputCol="raw_features", outputCol="features", maxCategories=6, handleInvalid="keep"),
            RandomForestClassifier(
                featuresCol="features",
                labelCol="label_index",
                weightCol="class_weight",
                predictionCol="prediction_index",
                numTrees=params["num_trees"],
                maxDepth=params["max_depth"],
                seed=settings.config.data.seed,
            ),
            IndexToString(inputCol="prediction_index", outputCol="predicted_component", labels=list(LABELS)),
        ]
    )


def _with_label_index_and_weight(frame: DataFrame) -> DataFrame:
    """Index labels with the fixed list and weight each class by the square root of its rarity."""
    indexed = StringIndexerModel.from_labels(list(LABELS), inputCol="label", outputCol="label_index").transform(frame)
    counts = {row["label"]: row["count"] for row in frame.groupBy("label").count().collect()}
    total = sum(counts.values())
    weights = F.create_map(
        *[item for label, count in counts.items() for item in (F.lit(label), F.lit(math.sqrt(total / (len(counts) * count))))]
    )
    return indexed.withColumn("class_weight", weights[F.col("label")])


def training_frame(spark: SparkSession, settings: Settings, date_range: DateRange) -> tuple[DataFrame, int | None]:
    """The range's known labels with their features looked up as of each label's time (the window's end),
    from the feature table, and that table's version for the model's lineage."""
    lake = Lake(settings.data_root)
    store, table = DeltaFeatureStore(lake), machine_window_features(settings)
    labels = lake.read(spark, "labels").where(date_range.sql_predicate("window_start")).where(F.col("label").isNotNull())
    # The forest samples each partition with the seed plus the partition's index, so the model
    # depends on which rows sit in which partition, in which order. Hashing machines into a
    # fixed number of partitions, each sorted by key, makes that a function of the rows alone:
    # the same data trains the same model on a laptop and on a cluster of any size (a sort by
    # key alone left it to `spark.sql.shuffle.partitions`; the tiny model's holdout recall
    # ranged from 0.45 to 0.67 across 2, 4 and 8 partitions).
    frame = (
        store.training_set(spark, table, labels, "window_end")
        .repartition(TRAINING_PARTITIONS, "machine_id")
        .sortWithinPartitions("machine_id", "window_start")
    )
    return frame, store.version(spark, table)


def model_input_columns(settings: Settings) -> list[str]:
    return [*KEY_COLUMNS, *CATEGORICAL_COLUMNS, *numeric_feature_columns(settings.config.features)]


def train(spark: SparkSession, settings: Settings, date_range: DateRange) -> TrainResult:
    configure_tracking(settings)
    features, features_version = training_frame(spark, settings, date_range)
    # Read by the label counts, the forest, the input example and the signature: looked up once.
    features = features.cache()
    labelled = _with_label_index_and_weight(features).cache()
    try:
        rows = labelled.count()
        if rows == 0:
            raise SettingsError(f"no labelled features in {date_range}; run `features` for that range first")
        name = model_name(settings)
        with mlflow.start_run(run_name=f"train {date_range}") as run:
            mlflow.log_params(
                {
                    **settings.model_params(),
                    "train_start": f"{date_range.start:%Y-%m-%d %H:%M}",
                    "train_end": f"{date_range.end:%Y-%m-%d %H:%M}",
                    "horizon_hours": settings.config.features.horizon_hours,
                    "lookback_hours": settings.config.features.lookback_hours,
                    "window_hours": settings.config.features.window_hours,
                    "training_rows": rows,
                    "size": settings.size,
                }
            )
            dataset = mlflow.data.from_spark(
                features, path=Lake(settings.data_root).table("features"), version=features_version, name="features"
            )
            mlflow.log_input(dataset, context="training")

            model: PipelineModel = build_pipeline(settings).fit(labelled)
            training_metrics = classification_metrics(confusion(model.transform(labelled)))
            mlflow.log_metrics({f"train_{key}": value for key, value in training_metrics.items() if value is not None})

            example = features.select(*model_input_columns(settings)).limit(5).toPandas()
            signature = infer_signature(example, model.transform(features.limit(5)).select("predicted_component").toPandas())
            info = mlflow.spark.log_model(
                model,
                artifact_path="model",
                signature=signature,
                input_example=example,
                pip_requirements=pinned_requirements("mlflow", "pyspark", "pandas", "numpy"),
                registered_model_name=name,
            )
            version = str(info.registered_model_version)
            tags = {
                "train_start": f"{date_range.start:%Y-%m-%d %H:%M}",
                "train_end": f"{date_range.end:%Y-%m-%d %H:%M}",
                "features_table": Lake(settings.data_root).table("features"),
                "feature_lookup": "features: machine_id as of window_end",
                "features_table_version": str(features_version),
                "git_commit": git_commit(),
                "horizon_hours": str(settings.config.features.horizon_hours),
            }
            client = MlflowClient()
            for key, value in tags.items():
                client.set_model_version_tag(name, version, key, value)
            mlflow.set_tags(tags)
        return TrainResult(run.info.run_id, name, version, rows, training_metrics)
    finally:
        labelled.unpersist()
        features.unpersist()
