"""The sample end to end on Spark at the tiny size: generate, train with applyInPandas, promote, score twice."""

from __future__ import annotations

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from pyspark.sql import functions as F

from {{ cookiecutter.__package }}.core.cli import EXIT_INVALID_INPUT
from {{ cookiecutter.__package }}.many_models import data_product, promote, score, train
from {{ cookiecutter.__package }}.many_models.cli import main
from {{ cookiecutter.__package }}.many_models.data_product import ManyModelsLake, simulate_sales

pytestmark = pytest.mark.slow


def test_simulated_sales_are_deterministic_and_shaped_like_the_reference(settings):
    first, second = simulate_sales(settings), simulate_sales(settings)
    pd.testing.assert_frame_equal(first, second)
    assert list(first.columns) == ["WeekStarting", "Store", "Brand", "Quantity", "Advert", "Price", "Revenue"]
    assert len(first) == 12 * 3 * 60 and first.groupby(["Store", "Brand"]).ngroups == 36
    assert (first["Quantity"] > 0).all() and set(first["Advert"]) == {0, 1}
    assert first["Revenue"].equals((first["Quantity"] * first["Price"]).round(2))


def test_train_promote_and_score_on_spark(spark, settings):
    assert data_product.generate(spark, settings) == 2160
    result = train.train(spark, settings)
    assert result.series_trained == 36 and result.series_skipped == 0 and result.mean_accuracy > 0.8

    run = MlflowClient().get_run(result.run_id)
    assert run.data.metrics["series_trained"] == 36 and "mean_accuracy" in run.data.metrics
    metrics_table = pd.read_parquet(mlflow.artifacts.download_artifacts(run_id=result.run_id, artifact_path="series_metrics.parquet"))
    assert len(metrics_table) == 36 and {"mape", "rmse", "accuracy"} <= set(metrics_table.columns)

    assert promote.promote(settings).champion_version == result.model_version
    first = score.score(spark, settings)
    assert first.rows == 36 * settings.config.training.holdout_weeks
    again = score.score(spark, settings)
    assert again.rows == first.rows and again.table_version == first.table_version + 1, "a re-run replaces its weeks"
    forecasts = ManyModelsLake(settings.data_root).read(spark, "sales_forecasts").toPandas()
    assert len(forecasts) == first.rows and forecasts["Prediction"].notna().all()
    error = (forecasts["Prediction"] - forecasts["Quantity"]).abs() / forecasts["Quantity"]
    assert error.mean() < 0.2, "batch forecasts match the holdout accuracy training reported"


@pytest.mark.parametrize("grouping", ["series", "buckets"])
def test_both_groupings_fit_exactly_what_one_process_fits(spark, settings, grouping):
    settings = settings.with_config(training=settings.config.training.model_copy(update={"grouping": grouping}))
    sales = data_product.sales_frame(spark, settings)
    on_spark = train.train_all_series(spark, sales, settings).sort_values(["Store", "Brand"], ignore_index=True)
    in_process = train.fit_in_process(simulate_sales(settings), settings).sort_values(["Store", "Brand"], ignore_index=True)
    assert len(on_spark) == 36
    pd.testing.assert_frame_equal(on_spark.drop(columns=["model"]), in_process.drop(columns=["model"]), check_dtype=False)


def test_buckets_give_every_task_an_equal_share_of_whole_series(spark):
    """Hash-partitioning a few bucket ids collides and leaves a core idle; the explicit placement must not."""
    # 3,000 series (1,500 stores x 2 brands) of 3 rows each.
    rows = spark.range(9000).selectExpr("CAST(id % 1500 AS INT) AS Store", "IF(id % 3000 < 1500, 'a', 'b') AS Brand")
    placed = train.series_buckets(rows, 4).withColumn("task", F.spark_partition_id())
    per_task = placed.groupBy("task").agg(F.countDistinct("Store", "Brand").alias("series")).toPandas()
    assert len(per_task) == 4 and per_task["series"].sum() == 3000, per_task
    assert per_task["series"].max() <= 1.25 * per_task["series"].min(), per_task
    buckets = placed.groupBy("task").agg(F.countDistinct(train.BUCKET).alias("buckets")).toPandas()
    assert set(buckets["buckets"]) == {train.BUCKETS_PER_PARTITION}, "every task holds the same number of whole buckets"
    split = placed.groupBy("Store", "Brand").agg(F.countDistinct("task").alias("tasks")).where("tasks > 1")
    assert split.count() == 0, "a series is never split across tasks"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["train", "--size", "huge"], "size: 'huge' is not defined"),
        (["promote", "--size", "tiny"], "has no 'challenger' version"),
        (["score", "--size", "tiny"], "has no 'champion'"),
        (["promote", "--size", "tiny", "--version", "7"], "has no version '7'"),
        (["train", "--size", "tiny", "--config", "missing.yml"], "does not exist"),
    ],
)
def test_bad_input_exits_with_a_message(spark, settings, monkeypatch, capsys, arguments, message):
    monkeypatch.setenv("DATA_ROOT", settings.data_root)
    monkeypatch.setenv("PIPELINE_STATE_DIR", str(settings.state_dir))
    monkeypatch.setenv("MANY_MODELS_MODEL_NAME", settings.model_name)
    assert main(arguments) == EXIT_INVALID_INPUT
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error
