"""The whole pipeline on tiny data: ingest -> features -> train -> validate/promote -> score, twice.

Ingest and features run once per session (batch_scoring/conftest.py); this module trains on a
copy of that lake, and its tests validate, promote, score and monitor that one model.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from {{ cookiecutter.__package }}.batch_scoring import score, train, validate
from {{ cookiecutter.__package }}.batch_scoring.lake import Lake
from {{ cookiecutter.__package }}.batch_scoring.monitoring import step as monitor
from {{ cookiecutter.__package }}.core.tracking import CHALLENGER, CHAMPION, version_by_alias

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(spark, featured_settings, state_dir, tmp_path_factory):
    """One model trained on a copy of the shared lake's features; tests below validate and score it."""
    from batch_scoring.conftest import copy_lake

    settings = copy_lake(featured_settings, state_dir, tmp_path_factory.mktemp("e2e"))
    return settings, train.train(spark, settings, settings.ranges()["train"])


def ensure_champion(result) -> MlflowClient:
    """Tests that need a champion pass alone or in any order: the trained version becomes champion unless one is set."""
    client = MlflowClient()
    if version_by_alias(client, result.model_name, CHAMPION) is None:
        client.set_registered_model_alias(result.model_name, CHAMPION, result.model_version)
    return client


def prediction_rows(spark, settings):
    return sorted(tuple(row) for row in Lake(settings.data_root).read(spark, "predictions").drop("scored_at").collect())


def test_the_registered_version_records_its_lineage(spark, trained):
    settings, result = trained
    version = MlflowClient().get_model_version(result.model_name, result.model_version)
    # Trained from the feature table: features without labels, labels apart, every known label's row looked up.
    lake = Lake(settings.data_root)
    assert "label" not in lake.read(spark, "features").columns
    known = lake.read(spark, "labels").where(settings.ranges()["train"].sql_predicate("window_start")).where("label IS NOT NULL").count()
    assert result.training_rows == known > 0
    assert version.tags["features_table"] == lake.table("features") and version.tags["feature_lookup"]
    assert version.tags["train_start"] == f"{settings.ranges()['train'].start:%Y-%m-%d %H:%M}"
    assert version.tags["features_table_version"].isdigit()
    assert version.tags["git_commit"]
    run = MlflowClient().get_run(result.run_id)
    assert run.inputs.dataset_inputs, "the training data set is logged as an input"
    assert {"num_trees", "max_depth", "horizon_hours"} <= set(run.data.params)
    # Logged with the installed versions, not MLflow's inference (a child process that loads the model).
    requirements = Path(mlflow.pyfunc.get_model_dependencies(f"models:/{result.model_name}/{result.model_version}")).read_text()
    assert f"pyspark=={importlib.metadata.version('pyspark')}" in requirements.split()


def test_failing_thresholds_leave_the_champion_unchanged(spark, trained):
    settings, result = trained
    strict = settings.config.validation.model_copy(update={"min_f1_weighted": 1.01})
    strict_settings = settings.with_config(validation=strict)
    with pytest.raises(validate.ValidationFailed, match="champion unchanged") as failure:
        validate.validate(spark, strict_settings, settings.ranges()["holdout"])
    report = str(failure.value).split("Report: ")[1]
    assert "FAILED" in Path(report).read_text()
    assert version_by_alias(MlflowClient(), result.model_name, CHAMPION) is None
    assert version_by_alias(MlflowClient(), result.model_name, CHALLENGER) is None


def test_manual_promotion_waits_for_sign_off_then_scores_idempotently(spark, trained):
    settings, result = trained
    manual = settings.config.validation.model_copy(update={"promotion": "manual"})
    manual_settings = settings.with_config(validation=manual)
    report = validate.validate(spark, manual_settings, settings.ranges()["holdout"])
    client = MlflowClient()
    assert report.passed and report.promoted_to == CHALLENGER
    assert version_by_alias(client, result.model_name, CHAMPION) is None
    assert str(version_by_alias(client, result.model_name, CHALLENGER).version) == result.model_version

    validate.promote(settings, result.model_version)
    assert str(version_by_alias(client, result.model_name, CHAMPION).version) == result.model_version
    assert version_by_alias(client, result.model_name, CHALLENGER) is None

    scoring = settings.ranges()["score"]
    first = score.score(spark, settings, scoring)
    windows = int((scoring.end - scoring.start).total_seconds() // (12 * 3600))
    assert first.rows == settings.size_spec.machines * windows
    first_rows = prediction_rows(spark, settings)
    assert {row[6] for row in first_rows} == {result.model_version}

    second = score.score(spark, settings, scoring)
    assert second.rows == first.rows
    assert second.table_version == first.table_version + 1
    assert prediction_rows(spark, settings) == first_rows, "a re-run gives identical predictions, not extra rows"


def test_a_scoring_run_that_dies_mid_write_leaves_the_previous_results(spark, trained):
    settings, result = trained
    ensure_champion(result)
    scoring = settings.ranges()["score"]
    lake = Lake(settings.data_root)
    if not lake.exists(spark, "predictions"):
        score.score(spark, settings, scoring)
    before_version, before_rows = lake.version(spark, "predictions"), prediction_rows(spark, settings)

    real = mlflow.spark.load_model(f"models:/{result.model_name}@{CHAMPION}")

    def crash_on_last_machine(component, machine_id):
        if machine_id == settings.size_spec.machines:
            raise RuntimeError("worker lost")
        return component

    class DyingModel:
        def transform(self, frame):
            crash = F.udf(crash_on_last_machine, StringType())
            return real.transform(frame).withColumn("predicted_component", crash("predicted_component", "machine_id"))

    with pytest.raises(Exception, match="worker lost"):
        score.score(spark, settings, scoring, model=DyingModel())
    assert lake.version(spark, "predictions") == before_version
    assert prediction_rows(spark, settings) == before_rows


def test_the_job_path_promotes_the_challenger_and_scores_into_the_results_table(spark, trained, monkeypatch, tmp_path):
    """What the Databricks jobs and Azure ML components run: validate --promotion manual,
    promote --version challenger, score with an empty start and a results table; then the
    online endpoint's scoring over the same champion."""
    from {{ cookiecutter.__package }}.batch_scoring import online_scoring
    from {{ cookiecutter.__package }}.batch_scoring.cli import main
    from {{ cookiecutter.__package }}.core.cli import EXIT_INVALID_INPUT

    settings, result = trained
    name = result.model_name
    monkeypatch.setenv("DATA_ROOT", settings.data_root)
    monkeypatch.setenv("PIPELINE_STATE_DIR", str(settings.state_dir))
    monkeypatch.setenv("MODEL_NAME", name)
    client = MlflowClient()
    for alias in (CHAMPION, CHALLENGER):
        if version_by_alias(client, name, alias) is not None:
            client.delete_registered_model_alias(name, alias)

    assert main(["promote", "--size", "tiny", "--version", "challenger"]) == EXIT_INVALID_INPUT, "no challenger yet"
    assert main(["validate", "--size", "tiny", "--promotion", "manual"]) == 0
    assert version_by_alias(client, name, CHAMPION) is None
    assert str(version_by_alias(client, name, CHALLENGER).version) == result.model_version
    assert main(["promote", "--size", "tiny", "--version", "challenger"]) == 0
    assert str(version_by_alias(client, name, CHAMPION).version) == result.model_version

    results = tmp_path / "results"
    end = settings.ranges()["score"].end
    assert main(["score", "--size", "tiny", "--start", "", "--end", f"{end:%Y-%m-%d}", "--results-table", str(results)]) == 0
    scored = spark.read.format("delta").load(str(results))
    assert scored.count() == settings.size_spec.machines * 2, "one day of 12-hour windows per machine"

    columns = train.model_input_columns(settings)
    rows = [
        {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in row.asDict().items()}
        for row in Lake(settings.data_root).read(spark, "features").select(*columns).limit(2).collect()
    ]
    model = mlflow.spark.load_model(f"models:/{name}/{result.model_version}")
    predictions = online_scoring.score_rows(spark, model, settings, rows, result.model_version)
    assert [prediction["machine_id"] for prediction in predictions] == [row["machine_id"] for row in rows]
    assert all(0.0 <= prediction["failure_probability"] <= 1.0 for prediction in predictions)
    assert {prediction["model_version"] for prediction in predictions} == {result.model_version}


def test_monitoring_compares_the_scored_range_with_the_champions_own_training_data(spark, trained):
    settings, result = trained
    client = ensure_champion(result)
    scoring = settings.ranges()["score"]
    if not Lake(settings.data_root).exists(spark, "predictions"):
        score.score(spark, settings, scoring)
    outcome = monitor.monitor(spark, settings, scoring)
    assert outcome.model_version == result.model_version
    assert outcome.reference == settings.ranges()["train"], "the reference is the range the champion was trained on"
    assert Path(outcome.report_path).exists() and outcome.report_path in outcome.summary()
    artifacts = [artifact.path for artifact in client.list_artifacts(outcome.run_id, "monitoring")]
    assert artifacts == [f"monitoring/{Path(outcome.report_path).name}"]
    assert {row["metric"] for row in outcome.rows} >= {"psi", "jensen_shannon", "drifted_feature_share", "f1_weighted"}
