"""The monitor step: do a window's scoring inputs and predictions still look like the champion's training data?

For a window of scored data the step compares, with the champion's training range as the
reference:

- each numeric feature: population stability index (PSI) over bins cut at the reference's
  quantiles, so every bin holds about the same share of the reference;
- each categorical feature (machine model) and the predicted component: Jensen-Shannon
  distance between the category shares;
- the failure probability: PSI, like a numeric feature;
- once labels have arrived for the window: the validation metrics, against the same
  thresholds validation uses.

Histograms are counted by Spark in one aggregation per frame; only the counts reach the
driver. Results land in a Delta table, one row per run x feature x metric, replacing
the window's earlier rows; a self-contained HTML report is logged to MLflow. The window
counts as breached when the share of drifted features, the predictions' drift or a
performance metric breaches; retraining fires when k of the last n windows breached,
the latest included (`statistics.should_retrain`). The statistics, the Spark histograms
and the report are modules of their own beside this one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ...core.tracking import CHAMPION, configure_tracking, load_spark_model, version_by_alias
from ..feature_store import DeltaFeatureStore, machine_window_features
from ..features import CATEGORICAL_COLUMNS, KEY_COLUMNS, numeric_feature_columns, with_labels
from ..lake import Lake
from ..metrics import classification_metrics, confusion
from ..score import predictions as prediction_rows
from ..settings import DateRange, Settings, SettingsError, model_name
from .histograms import bin_labels, binned_counts, category_counts, quantile_edges
from .statistics import RetrainingDecision, jensen_shannon_distance, population_stability_index, should_retrain

PREDICTED = "predicted_component"
PROBABILITY = "failure_probability"
# Row kinds. Per-feature rows are evidence; the window breaches on the other kinds.
FEATURE, DATASET, PREDICTION, PERFORMANCE = "feature", "dataset", "prediction", "performance"

METRICS_SCHEMA = T.StructType(
    [
        T.StructField("run_id", T.StringType()),
        T.StructField("monitored_at", T.TimestampType()),
        T.StructField("model_name", T.StringType()),
        T.StructField("model_version", T.StringType()),
        T.StructField("window_start", T.TimestampType()),
        T.StructField("window_end", T.TimestampType()),
        T.StructField("reference_start", T.TimestampType()),
        T.StructField("reference_end", T.TimestampType()),
        T.StructField("kind", T.StringType()),
        T.StructField("feature", T.StringType()),
        T.StructField("metric", T.StringType()),
        T.StructField("value", T.DoubleType()),
        T.StructField("threshold", T.DoubleType()),
        T.StructField("breached", T.BooleanType()),
    ]
)


@dataclass
class Comparison:
    """What the report plots for one compared column."""

    column: str
    metric: str
    value: float
    breached: bool
    labels: list[str]
    reference: list[int]
    current: list[int]


@dataclass
class MonitorResult:
    run_id: str
    window: DateRange
    reference: DateRange
    prediction_reference: DateRange
    model_version: str
    rows: list[dict[str, object]]
    window_breached: bool
    drifted_features: list[str]
    decision: RetrainingDecision
    report_path: str
    table: str
    comparisons: list[Comparison] = field(default_factory=list)

    def summary(self) -> str:
        performance = {row["metric"]: row["value"] for row in self.rows if row["kind"] == PERFORMANCE}
        prediction = {f"{row['feature']} {row['metric']}": row["value"] for row in self.rows if row["kind"] == PREDICTION}
        share = next(row for row in self.rows if row["kind"] == DATASET)
        lines = [
            f"Monitoring {self.window}: inputs against the training range {self.reference}, predictions against the holdout "
            f"{self.prediction_reference} (model version {self.model_version}):",
            f"  window {'BREACHED' if self.window_breached else 'ok'}; drifted features {len(self.drifted_features)} "
            f"({share['value'] * 100:.0f} per cent of those monitored, limit {share['threshold'] * 100:.0f} per cent)"
            + (f": {', '.join(self.drifted_features[:6])}" if self.drifted_features else ""),
            "  predictions: " + ", ".join(f"{name} {value:.3f}" for name, value in prediction.items()),
            "  performance: "
            + (
                ", ".join(
                    f"{name} {value:,.0f}" if name == "labelled_windows" else f"{name} {value:.3f}" for name, value in performance.items()
                )
                if performance
                else "labels not yet available for this window"
            ),
            f"  {self.decision.reason}",
            f"  metrics table: {self.table}",
            f"  report: {self.report_path}",
        ]
        return "\n".join(lines)


def reference_ranges(settings: Settings, champion) -> tuple[DateRange, DateRange]:
    """The champion's training range (inputs) and validation holdout (predictions), from its registry tags.

    Predictions on the training rows themselves are in-sample, hence more confident than on
    any new data: compared with them, every window would look drifted. The holdout is the
    model's first out-of-sample data, so predictions are compared with it.
    """
    ranges = settings.ranges()
    tags = champion.tags if champion is not None else {}
    training = ranges["train"]
    if tags.get("train_start") and tags.get("train_end"):
        training = DateRange.parse(tags["train_start"], tags["train_end"])
    holdout = ranges["holdout"]
    if tags.get("validation_holdout", "").startswith("["):
        start, end = tags["validation_holdout"].strip("[)").split(", ")
        holdout = DateRange.parse(start, end)
    return training, holdout


def _stored_features(spark: SparkSession, settings: Settings, date_range: DateRange) -> DataFrame:
    """A range's features as the model met them: the feature table's rows, which training looked up
    and scoring read. Computed from the table's source only when the table holds none for the range."""
    store, table = DeltaFeatureStore(Lake(settings.data_root)), machine_window_features(settings)
    if store.lake.exists(spark, table.name):
        frame = store.read_range(spark, table, date_range)
        if not frame.isEmpty():
            return frame
    return table.compute(spark, settings, date_range)


def monitored_features(settings: Settings) -> tuple[list[str], list[str]]:
    excluded = set(settings.config.monitoring.exclude_features)
    numeric = [column for column in numeric_feature_columns(settings.config.features) if column not in excluded]
    return numeric, [column for column in CATEGORICAL_COLUMNS if column not in excluded]


def monitor(
    spark: SparkSession,
    settings: Settings,
    window: DateRange,
    *,
    model=None,
    model_version: str | None = None,
    reference: DateRange | None = None,
    prediction_reference: DateRange | None = None,
) -> MonitorResult:
    """Monitor one window of scored data; write its metrics rows and report; decide on retraining.

    `model`, `reference` and `prediction_reference` default to the champion and its own training
    range and holdout; tests inject a model instead.
    """
    config = settings.config.monitoring
    lake = Lake(settings.data_root)
    configure_tracking(settings)
    name = model_name(settings)
    if model is None:
        champion = version_by_alias(MlflowClient(), name, CHAMPION)
        if champion is None:
            raise SettingsError(f"model '{name}' has no '{CHAMPION}' version; train and validate a model first")
        model = load_spark_model(spark, champion)
        model_version = str(champion.version)
        champion_training, champion_holdout = reference_ranges(settings, champion)
        reference, prediction_reference = reference or champion_training, prediction_reference or champion_holdout
    reference = reference or settings.ranges()["train"]
    prediction_reference = prediction_reference or settings.ranges()["holdout"]
    model_version = model_version or "injected"

    predictions = lake.read(spark, "predictions").where(window.sql_predicate("window_start")).cache()
    if predictions.isEmpty():
        predictions.unpersist()
        raise SettingsError(f"no predictions in {window}; run the score step for that range first")
    # Each frame is read by several aggregations below: computed once, then served from memory.
    # The window's inputs as scored, each labelled as far as its failures are known by now.
    current = with_labels(spark, settings, _stored_features(spark, settings, window)).cache()
    reference_features = _stored_features(spark, settings, reference).cache()
    cached = [predictions, current, reference_features]
    numeric, categorical = monitored_features(settings)

    rows: list[dict[str, object]] = []
    comparisons: list[Comparison] = []

    def add(kind: str, feature: str, metric: str, value: float | None, threshold: float | None, breached: bool) -> None:
        rows.append(
            {"kind": kind, "feature": feature, "metric": metric, "value": value, "threshold": threshold, "breached": bool(breached)}
        )

    try:
        edges = quantile_edges(reference_features, numeric, config.numeric_bins)
        reference_bins, current_bins = binned_counts(reference_features, edges), binned_counts(current, edges)
        for column in numeric:
            value = population_stability_index(reference_bins[column], current_bins[column])
            add(FEATURE, column, "psi", value, config.psi_drift, value > config.psi_drift)
            comparisons.append(
                Comparison(
                    column, "psi", value, value > config.psi_drift, bin_labels(edges[column]), reference_bins[column], current_bins[column]
                )
            )
        for column in categorical:
            reference_counts, current_counts = category_counts(reference_features, column), category_counts(current, column)
            value = jensen_shannon_distance(reference_counts, current_counts)
            add(FEATURE, column, "jensen_shannon", value, config.js_drift, value > config.js_drift)
            comparisons.append(_category_comparison(column, value, value > config.js_drift, reference_counts, current_counts))
        drifted = [row["feature"] for row in rows if row["kind"] == FEATURE and row["breached"]]
        monitored = len(numeric) + len(categorical)
        share = len(drifted) / monitored if monitored else 0.0
        add(DATASET, "*", "drifted_feature_share", share, config.drifted_feature_share, share >= config.drifted_feature_share)

        # Predictions: what the champion says about (a seeded sample of) its holdout, against what it said in the window.
        holdout_features = _stored_features(spark, settings, prediction_reference)
        sample = _sample(holdout_features, config.prediction_reference_rows, settings.config.data.seed)
        reference_predictions = prediction_rows(model, sample, name, model_version, datetime.now(UTC).replace(tzinfo=None)).cache()
        cached.append(reference_predictions)
        reference_classes, current_classes = category_counts(reference_predictions, PREDICTED), category_counts(predictions, PREDICTED)
        value = jensen_shannon_distance(reference_classes, current_classes)
        add(PREDICTION, PREDICTED, "jensen_shannon", value, config.js_drift, value > config.js_drift)
        comparisons.append(_category_comparison(PREDICTED, value, value > config.js_drift, reference_classes, current_classes))
        probability_edges = quantile_edges(reference_predictions, [PROBABILITY], config.numeric_bins)
        reference_probability = binned_counts(reference_predictions, probability_edges)[PROBABILITY]
        current_probability = binned_counts(predictions, probability_edges)[PROBABILITY]
        value = population_stability_index(reference_probability, current_probability)
        add(PREDICTION, PROBABILITY, "psi", value, config.psi_drift, value > config.psi_drift)
        comparisons.append(
            Comparison(
                PROBABILITY,
                "psi",
                value,
                value > config.psi_drift,
                bin_labels(probability_edges[PROBABILITY]),
                reference_probability,
                current_probability,
            )
        )

        # Performance, on the windows whose label is known by now.
        labelled = current.where(F.col("label").isNotNull()).select(*KEY_COLUMNS, "label").join(predictions, list(KEY_COLUMNS))
        performance = classification_metrics(confusion(labelled))
        if performance.get("rows"):
            thresholds = settings.config.validation
            add(PERFORMANCE, "*", "labelled_windows", performance["rows"], None, False)
            for metric, floor in (("f1_weighted", thresholds.min_f1_weighted), ("failure_recall", thresholds.min_failure_recall)):
                if performance.get(metric) is not None:
                    add(PERFORMANCE, "*", metric, performance[metric], floor, performance[metric] < floor)
            add(PERFORMANCE, "*", "accuracy", performance["accuracy"], None, False)
    finally:
        for frame in cached:
            frame.unpersist()

    window_breached = any(row["breached"] for row in rows if row["kind"] != FEATURE)
    monitored_at = datetime.now(UTC).replace(tzinfo=None)
    with mlflow.start_run(run_name=f"monitor {window}") as run:
        mlflow.set_tags({"step": "monitor", "model_name": name, "model_version": model_version, "window": str(window)})
        mlflow.log_params(
            {
                "window_start": f"{window.start:%Y-%m-%d %H:%M}",
                "window_end": f"{window.end:%Y-%m-%d %H:%M}",
                "reference": str(reference),
                "prediction_reference": str(prediction_reference),
            }
        )
        mlflow.log_metrics(
            {_metric_key(row): float(row["value"]) for row in rows if row["value"] is not None and row["kind"] != FEATURE}
            | {"window_breached": float(window_breached)}
        )
        for row in rows:
            row_reference = prediction_reference if row["kind"] == PREDICTION else reference
            row.update(
                run_id=run.info.run_id,
                monitored_at=monitored_at,
                model_name=name,
                model_version=model_version,
                window_start=window.start,
                window_end=window.end,
                reference_start=row_reference.start,
                reference_end=row_reference.end,
            )
        write_metrics(spark, lake, rows, window)
        decision = retraining_decision(spark, settings)
        mlflow.set_tag("retrain", str(decision.retrain).lower())
        result = MonitorResult(
            run.info.run_id,
            window,
            reference,
            prediction_reference,
            model_version,
            rows,
            window_breached,
            drifted,
            decision,
            "",
            lake.table("monitoring"),
            comparisons,
        )
        # Imported here: the report module builds on this one's result types.
        from .report import render_report

        path = report_path(settings, window)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_report(result, settings), encoding="utf-8")
        result.report_path = str(path)
        mlflow.log_artifact(str(path), artifact_path="monitoring")
    return result


def _metric_key(row: Mapping[str, object]) -> str:
    feature = "" if row["feature"] == "*" else f"{row['feature']}_"
    return f"{row['kind']}_{feature}{row['metric']}"


def _sample(frame: DataFrame, rows: int, seed: int) -> DataFrame:
    """At most `rows` rows, the same ones every run; the limit alone would take whichever files come first."""
    total = frame.count()
    return frame if total <= rows else frame.sample(fraction=min(1.0, rows * 1.1 / total), seed=seed).limit(rows)


def _category_comparison(column: str, value: float, breached: bool, reference: Mapping[str, int], current: Mapping[str, int]) -> Comparison:
    labels = sorted(set(reference) | set(current))
    return Comparison(
        column, "jensen_shannon", value, breached, labels, [reference.get(k, 0) for k in labels], [current.get(k, 0) for k in labels]
    )


def write_metrics(spark: SparkSession, lake: Lake, rows: list[dict[str, object]], window: DateRange) -> None:
    """Replace this window's rows in one Delta commit: re-monitoring a window never duplicates it."""
    frame = spark.createDataFrame([tuple(row[name] for name in METRICS_SCHEMA.names) for row in rows], METRICS_SCHEMA)
    predicate = f"window_start = '{window.start:%Y-%m-%d %H:%M:%S}' AND window_end = '{window.end:%Y-%m-%d %H:%M:%S}'"
    lake.replace_where(frame, "monitoring", predicate)


def window_history(spark: SparkSession, settings: Settings) -> list[tuple[datetime, datetime, bool]]:
    """Every monitored window, oldest first, with whether it breached."""
    lake = Lake(settings.data_root)
    if not lake.exists(spark, "monitoring"):
        return []
    windows = (
        lake.read(spark, "monitoring")
        .groupBy("window_start", "window_end")
        .agg(F.max(F.when(F.col("kind") != FEATURE, F.col("breached").cast("int")).otherwise(0)).alias("breached"))
        .orderBy("window_end", "window_start")
        .collect()
    )
    return [(row["window_start"], row["window_end"], bool(row["breached"])) for row in windows]


def retraining_decision(spark: SparkSession, settings: Settings) -> RetrainingDecision:
    rule = settings.config.monitoring.retraining
    history = [breached for _, _, breached in window_history(spark, settings)]
    return should_retrain(history, rule.min_breached_windows, rule.last_windows)


def report_path(settings: Settings, window: DateRange) -> Path:
    return settings.state_dir / "reports" / "monitoring" / f"{window.start:%Y%m%dT%H%M}-{window.end:%Y%m%dT%H%M}.html"


def publish_decision(spark: SparkSession, decision: RetrainingDecision, decision_file: str | None = None) -> None:
    """Hand the decision to the orchestrator: a Databricks task value `retrain` (read by the job's
    condition task) and, when asked, a file holding `true`/`false` (an Azure ML control output)."""
    if decision_file:
        Path(decision_file).parent.mkdir(parents=True, exist_ok=True)
        Path(decision_file).write_text(str(decision.retrain).lower(), encoding="utf-8")
    if os.environ.get("DATABRICKS_RUNTIME_VERSION"):
        from pyspark.dbutils import DBUtils  # only exists on Databricks

        DBUtils(spark).jobs.taskValues.set(key="retrain", value=decision.retrain)


def retraining_ranges(settings: Settings, window: DateRange) -> tuple[DateRange, DateRange]:
    """Train on the usual training span up to the monitored window, validate on the window itself.

    The rule fires only after an earlier window breached too, so the training range already
    holds drifted data, and the new model is judged (against the champion) on the newest data.
    """
    ranges = settings.ranges()
    train_span = ranges["train"].end - ranges["train"].start
    return DateRange(window.start - train_span, window.start), window
