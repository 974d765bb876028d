"""The whole local pipeline, in the order the Databricks job and the Azure ML pipeline run it.

generate -> ingest -> features -> train -> validate/promote -> score, each step on the
range that settings assign to it, followed by a summary a person can act on.
"""

from __future__ import annotations

from mlflow.tracking import MlflowClient
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from ..core.progress import StepTimer
from ..core.tracking import CHAMPION, configure_tracking, version_by_alias
from . import data_product, features, ingest, score, train, validate
from .lake import TABLES, Lake
from .monitoring import step as monitoring
from .settings import DateRange, Settings, model_name


def run_all(spark: SparkSession, settings: Settings, *, regenerate: bool = False) -> StepTimer:
    ranges = settings.ranges()
    timing = StepTimer()
    lake = Lake(settings.data_root)
    if regenerate or not lake.landing_exists(spark, "telemetry"):
        timing.run("generate", lambda: data_product.generate(spark, settings))
    timing.run("ingest", lambda: ingest.ingest(spark, settings, ranges["ingest"]))
    timing.run("features", lambda: features.write_features(spark, settings, ranges["data"]))
    timing.run("train", lambda: train.train(spark, settings, ranges["train"]))
    timing.run("validate", lambda: validate.validate(spark, settings, ranges["holdout"]))
    timing.run("score", lambda: score.score(spark, settings, ranges["score"]))
    timing.run("monitor", lambda: monitoring.monitor(spark, settings, ranges["score"]))
    return timing


def monitoring_summary(spark: SparkSession, settings: Settings) -> list[str]:
    """The latest monitored window, its breaches, the retraining decision and where its report is."""
    history = monitoring.window_history(spark, settings)
    if not history:
        return ["", "Monitoring: no window monitored yet (python -m {{ cookiecutter.__package }}.batch_scoring monitor)"]
    start, end, breached = history[-1]
    latest = DateRange(start, end)
    rows = (
        Lake(settings.data_root)
        .read(spark, "monitoring")
        .where((F.col("window_start") == F.lit(start)) & (F.col("window_end") == F.lit(end)))
    )
    breaches = [f"{row['feature']} {row['metric']} {row['value']:.3f}" for row in rows.where("breached AND kind != 'feature'").collect()]
    drifted = rows.where("breached AND kind = 'feature'").count()
    decision = monitoring.retraining_decision(spark, settings)
    return [
        "",
        f"Monitoring: {len(history)} window(s); latest {latest}: {'BREACHED (' + ', '.join(breaches) + ')' if breached else 'no breach'}, "
        f"{drifted} drifted feature(s)",
        f"  {decision.reason}",
        f"  report: {monitoring.report_path(settings, latest)}",
    ]


def summary(spark: SparkSession, settings: Settings) -> str:
    """What a person needs after a run: row counts, the champion and where to look next."""
    lake = Lake(settings.data_root)
    lines = [f"Data root: {settings.data_root} (size '{settings.size}')", "", "Tables (Delta):"]
    for name in TABLES:
        if lake.exists(spark, name):
            lines.append(
                f"  {name:<12} {lake.read(spark, name).count():>12,} rows  version {lake.version(spark, name)}  {lake.table(name)}"
            )
        else:
            lines.append(f"  {name:<12} {'-':>12}       not written yet")
    if lake.exists(spark, "quarantine"):
        by_source = lake.read(spark, "quarantine").groupBy("source").count().orderBy("source").collect()
        if by_source:
            lines.append("  quarantined rows by source: " + ", ".join(f"{row['source']} {row['count']:,}" for row in by_source))

    uri = configure_tracking(settings)
    client = MlflowClient()
    name = model_name(settings)
    champion = version_by_alias(client, name, CHAMPION)
    lines += ["", f"Model registry: {uri}"]
    if champion is None:
        lines.append(f"  {name}: no champion yet")
    else:
        holdout = {
            key.removeprefix("holdout_"): value
            for key, value in champion.tags.items()
            if key.startswith("holdout_") and key != "holdout_rows"
        }
        lines.append(
            f"  {name}@{CHAMPION} = version {champion.version} (trained on {champion.tags.get('train_start')} .. {champion.tags.get('train_end')}, commit {champion.tags.get('git_commit', '?')[:12]})"
        )
        lines.append(
            "  holdout metrics: "
            + ", ".join(f"{key} {float(value):.3f}" for key, value in sorted(holdout.items()) if key != "failure_windows")
        )
    if lake.exists(spark, "predictions"):
        latest = (
            lake.read(spark, "predictions")
            .groupBy("model_version")
            .agg(F.count("*").alias("rows"), F.sum((F.col("predicted_component") != "none").cast("int")).alias("alerts"))
            .collect()
        )
        for row in latest:
            lines.append(f"  predictions by version {row['model_version']}: {row['rows']:,} windows, {row['alerts']:,} failure alerts")
    lines += monitoring_summary(spark, settings)
    lines += [
        "",
        f"Results:     {lake.table('predictions')}",
        f"Reports:     {settings.state_dir / 'reports'}",
        "MLflow UI:   make mlflow-ui   (then open http://127.0.0.1:5000)",
    ]
    return "\n".join(lines)
