"""The whole pipeline on tiny data: ingest -> features -> train -> validate/promote -> score, twice.

Ingest, features and training run once per session (batch_scoring/conftest.py); these tests
validate, promote and score that one model. Monitoring it is in test_monitor.
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
from {{ cookiecutter.__package }}.core.tracking import CHALLENGER, CHAMPION, load_spark_model, version_by_alias

pytestmark = pytest.mark.slow


def prediction_rows(spark, lake: Lake):
    return sorted(tuple(row) for row in lake.read(spark, "predictions").drop("scored_at").collect())


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
    client = MlflowClient()
    champion = version_by_alias(client, result.model_name, CHAMPION)
    with pytest.raises(validate.ValidationFailed, match="champion unchanged") as failure:
        validate.validate(spark, strict_settings, settings.ranges()["holdout"])
    report = str(failure.value).split("Report: ")[1]
    assert "FAILED" in Path(report).read_text()
    after = version_by_alias(client, result.model_name, CHAMPION)
    assert (after and after.version) == (champion and champion.version), "the champion, or its absence, is unchanged"
    assert version_by_alias(client, result.model_name, CHALLENGER) is None


def test_a_scoring_run_that_dies_mid_write_leaves_the_previous_results(spark, drifted):
    """Over the session's scored lake (`drifted`, whose champion scored the range): a run whose
    last machine's predictions fail mid-write commits nothing."""
    settings, result = drifted.settings, drifted.result
    scoring = settings.ranges()["score"]
    lake = Lake(settings.data_root)
    before_version, before_rows = lake.version(spark, "predictions"), prediction_rows(spark, lake)

    real = load_spark_model(spark, version_by_alias(MlflowClient(), result.model_name, CHAMPION))

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
    assert prediction_rows(spark, lake) == before_rows


def test_manual_promotion_waits_for_sign_off_then_the_job_path_scores_idempotently(spark, trained, monkeypatch, tmp_path):
    """What the Databricks jobs and Azure ML components run: validate --promotion manual leaves
    the candidate challenger until promote --version challenger signs it off; score with an
    empty start and a results table, twice, gives the same rows once; then the online
    endpoint's scoring over the same champion."""
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
    assert version_by_alias(client, name, CHALLENGER) is None

    results = Lake(settings.data_root, {"predictions": str(tmp_path / "results")})
    end = settings.ranges()["score"].end
    scoring = ["score", "--size", "tiny", "--start", "", "--end", f"{end:%Y-%m-%d}", "--results-table", results.table("predictions")]
    assert main(scoring) == 0
    first = prediction_rows(spark, results)
    assert len(first) == settings.size_spec.machines * 2, "one day of 12-hour windows per machine"
    assert {row[6] for row in first} == {result.model_version}
    assert main(scoring) == 0
    assert results.version(spark, "predictions") == 1, "the re-run rewrote the range in a commit of its own"
    assert prediction_rows(spark, results) == first, "a re-run gives identical predictions, not extra rows"

    columns = train.model_input_columns(settings)
    rows = [
        {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in row.asDict().items()}
        for row in Lake(settings.data_root).read(spark, "features").select(*columns).limit(2).collect()
    ]
    model = load_spark_model(spark, client.get_model_version(name, result.model_version))
    assert model is load_spark_model(spark, version_by_alias(client, name, CHAMPION)), "the version the steps read, not another copy"
    predictions = online_scoring.score_rows(spark, model, settings, rows, result.model_version)
    assert [prediction["machine_id"] for prediction in predictions] == [row["machine_id"] for row in rows]
    assert all(0.0 <= prediction["failure_probability"] <= 1.0 for prediction in predictions)
    assert {prediction["model_version"] for prediction in predictions} == {result.model_version}
