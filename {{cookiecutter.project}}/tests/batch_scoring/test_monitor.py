"""Monitoring: the statistics on their own, and drift found in planted-drift data but not in clean data.

The Spark test monitors the tiny lake's scoring range in two windows, with every silver
sensor reading shifted by one standard deviation from the second window on, as the data
product's drift option plants it at generation (that option is tested above on its own):
the clean window must raise no alarm, the drifted one must fire retraining.
A stand-in model (a fixed rule on the 24-hour voltage mean) replaces the champion, so the
tests need no training; the real champion's path runs in test_end_to_end.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pyspark.ml.functions import array_to_vector
from pyspark.sql import functions as F

from {{ cookiecutter.__package }}.batch_scoring import score
from {{ cookiecutter.__package }}.batch_scoring.data_product import SENSOR_BASELINE, Simulation
from {{ cookiecutter.__package }}.batch_scoring.features import build_features
from {{ cookiecutter.__package }}.batch_scoring.lake import Lake
from {{ cookiecutter.__package }}.batch_scoring.monitoring import histograms, statistics
from {{ cookiecutter.__package }}.batch_scoring.monitoring import step as monitor
from {{ cookiecutter.__package }}.batch_scoring.settings import DateRange, SettingsError, load_settings

# ---------------------------------------------------------------- pure functions


def test_psi_is_zero_for_equal_shares_and_grows_with_the_shift():
    assert statistics.population_stability_index([10, 20, 30], [20, 40, 60]) == pytest.approx(0.0)
    small = statistics.population_stability_index([25, 25, 25, 25], [22, 25, 25, 28])
    large = statistics.population_stability_index([25, 25, 25, 25], [5, 15, 30, 50])
    assert 0 < small < 0.1 < 0.25 < large
    assert statistics.population_stability_index([50, 50, 0], [50, 50, 0]) == pytest.approx(0.0), "empty bins do not explode"


def test_jensen_shannon_distance_is_bounded_and_symmetric():
    assert statistics.jensen_shannon_distance({"a": 3, "b": 1}, {"a": 30, "b": 10}) == pytest.approx(0.0)
    assert statistics.jensen_shannon_distance({"a": 5}, {"b": 5}) == pytest.approx(1.0)
    first = statistics.jensen_shannon_distance({"a": 8, "b": 2}, {"a": 5, "b": 5})
    assert first == pytest.approx(statistics.jensen_shannon_distance({"a": 5, "b": 5}, {"a": 8, "b": 2}))
    assert 0.1 < first < 1


@pytest.mark.parametrize(
    ("history", "fires"),
    [
        ([], False),
        ([True], False),  # one breach is not enough for 2 of 5
        ([False, True, False, False, True], True),
        ([True, True, False], False),  # the latest window is fine: the episode has passed
        ([True, False, False, False, False, False, True], False),  # the first breach fell out of the last 5
        ([True, True, True, True, True, True], True),
    ],
)
def test_retraining_rule_needs_k_of_the_last_n_windows_latest_included(history, fires):
    decision = statistics.should_retrain(history, min_breached_windows=2, last_windows=5)
    assert decision.retrain is fires
    assert ("retrain:" in decision.reason) is fires


def test_the_statistics_import_without_spark():
    """The drift statistics are plain Python: a notebook or service can use them with no Spark installed."""
    code = (
        "import sys; sys.modules['pyspark'] = None; "
        "from {{ cookiecutter.__package }}.batch_scoring.monitoring import statistics; "
        "print(statistics.population_stability_index([1, 2], [2, 1]) > 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0 and result.stdout.strip() == "True", result.stderr[-2000:]
    blocked = subprocess.run(
        [sys.executable, "-c", code.replace("import statistics", "import histograms")], capture_output=True, text=True, timeout=120
    )
    assert blocked.returncode != 0, "the Spark histograms do need Spark: the check above can fail"


def test_an_unreachable_rule_is_refused(tmp_path):
    from {{ cookiecutter.__package }}.batch_scoring.settings import DEFAULT_CONFIG

    bad = tmp_path / "bad.yml"
    bad.write_text(
        DEFAULT_CONFIG.read_text().replace("min_breached_windows: 2, last_windows: 5", "min_breached_windows: 6, last_windows: 5")
    )
    with pytest.raises(SettingsError, match=r"monitoring\.retraining.*could never fire"):
        load_settings(bad)


def test_drift_injection_shifts_sensors_from_its_start_and_changes_nothing_before():
    span = DateRange(datetime(2015, 1, 1), datetime(2015, 2, 1))
    clean = Simulation(7, 3, span, 1500, 0.0).telemetry(2)
    drifted = Simulation(7, 3, span, 1500, 0.0, drift_from=datetime(2015, 1, 20), drift_magnitude=1.5).telemetry(2)
    first_drifted = 19 * 24
    for sensor, (_, std) in SENSOR_BASELINE.items():
        assert drifted[sensor].iloc[:first_drifted].equals(clean[sensor].iloc[:first_drifted])
        shift = drifted[sensor].iloc[first_drifted:] - clean[sensor].iloc[first_drifted:]
        assert shift.to_numpy() == pytest.approx(1.5 * std)


# ---------------------------------------------------------------- on Spark


class VoltageRule:
    """Stands in for the champion: 'comp1 fails' when the 24-hour voltage mean runs high."""

    def transform(self, frame):
        volt_mean, volt_std = SENSOR_BASELINE["volt"]
        z = (F.col("volt_mean_24h") - volt_mean) / F.lit(volt_std)
        failure = F.lit(1.0) / (F.lit(1.0) + F.exp(-(F.lit(3.0) * z - F.lit(3.0))))
        return frame.withColumn("_p", failure).select(
            "*",
            F.when(F.col("_p") > 0.5, "comp1").otherwise("none").alias("predicted_component"),
            array_to_vector(F.array(F.lit(1.0) - F.col("_p"), F.col("_p"), F.lit(0.0), F.lit(0.0), F.lit(0.0))).alias("probability"),
        )


def test_binned_counts_match_a_count_by_hand(spark):
    frame = spark.createDataFrame([(1.0, None), (2.0, 5.0), (3.0, 5.0), (float("nan"), 7.0)], "a double, b double")
    # [missing, at or below the first edge, ..., above the last edge]
    assert histograms.binned_counts(frame, {"a": [1.5, 2.5], "b": [6.0]}) == {"a": [1, 1, 1, 1], "b": [1, 2, 1]}


def halves(window: DateRange) -> list[DateRange]:
    middle = window.start + timedelta(days=(window.end - window.start).days // 2)
    return [DateRange(window.start, middle), DateRange(middle, window.end)]


def monitor_scoring_range(spark, settings, windows):
    """Score the scoring range with the stand-in, then monitor the given windows of it, oldest first."""
    window = settings.ranges()["score"]
    scored = score.predictions(VoltageRule(), build_features(spark, settings, window, labels=False), "rule", "1", datetime(2026, 1, 1))
    Lake(settings.data_root).replace_range(scored, "predictions", "window_start", window)
    ranges = settings.ranges()
    return [
        monitor.monitor(
            spark, settings, part, model=VoltageRule(), model_version="1", reference=ranges["train"], prediction_reference=ranges["holdout"]
        )
        for part in windows
    ]


def lenient(settings):
    """The stand-in rule is no model worth validating: its performance is recorded, not judged here."""
    return settings.with_config(
        validation=settings.config.validation.model_copy(update={"min_f1_weighted": 0.0, "min_failure_recall": 0.0})
    )


@pytest.fixture(scope="module")
def drifted_settings(spark, ingested_settings, state_dir, tmp_path_factory):
    """A copy of the shared lake whose telemetry shifts by one standard deviation from the middle of
    the scoring range on: its first half is clean, its second half drifted."""
    from batch_scoring.conftest import copy_lake

    settings = copy_lake(ingested_settings, state_dir, tmp_path_factory.mktemp("drifted"))
    _, second_half = halves(settings.ranges()["score"])
    lake, drifted = Lake(settings.data_root), DateRange(second_half.start, settings.size_spec.end)
    telemetry = lake.read(spark, "telemetry").where(drifted.sql_predicate("datetime"))
    shifted = telemetry.select(
        *[F.col(column) + F.lit(SENSOR_BASELINE[column][1]) if column in SENSOR_BASELINE else F.col(column) for column in telemetry.columns]
    ).toDF(*telemetry.columns)
    lake.replace_range(shifted.localCheckpoint(), "telemetry", "datetime", drifted)
    return settings


@pytest.mark.slow
def test_a_clean_window_raises_no_alarm_and_planted_drift_fires_retraining(spark, drifted_settings):
    """One monitoring sequence: the clean first half of the scoring range, then the drifted second half.

    The retraining rule is "1 of the last 2" here, so the second window fires it; the default
    rule (2 of 5) is the pure function's, tested above with every history that matters.
    """
    rule = drifted_settings.config.monitoring.retraining.model_copy(update={"min_breached_windows": 1, "last_windows": 2})
    settings = lenient(drifted_settings).with_config(monitoring=drifted_settings.config.monitoring.model_copy(update={"retraining": rule}))
    clean, drifted = monitor_scoring_range(spark, settings, halves(settings.ranges()["score"]))

    assert not clean.window_breached, clean.summary()
    assert clean.drifted_features == []
    features = [row for row in clean.rows if row["kind"] == "feature"]
    assert len(features) == 31 and all(row["value"] < 0.25 for row in features)
    assert not any(row["breached"] for row in clean.rows if row["kind"] == "prediction")
    assert {row["metric"] for row in clean.rows if row["kind"] == "performance"} >= {"f1_weighted", "accuracy"}
    assert not clean.decision.retrain and "0 of the last 1" in clean.decision.reason

    assert drifted.window_breached
    assert {f"{sensor}_mean_{hours}h" for sensor in SENSOR_BASELINE for hours in (12, 24, 36)} <= set(drifted.drifted_features)
    assert not any("_std_" in feature for feature in drifted.drifted_features), "a level shift leaves the spread alone"
    prediction = {row["feature"]: row for row in drifted.rows if row["kind"] == "prediction"}
    assert prediction["failure_probability"]["breached"]
    assert drifted.decision.retrain and "1 of the last 2" in drifted.decision.reason
    assert [breached for *_, breached in monitor.window_history(spark, settings)] == [False, True]

    # One row per run x feature x metric, and re-monitoring a window replaces its rows.
    lake = Lake(settings.data_root)
    assert lake.read(spark, "monitoring").count() == len(clean.rows) + len(drifted.rows)
    assert lake.read(spark, "monitoring").groupBy("run_id", "feature", "metric").count().where("count > 1").isEmpty()
    rerun = [{**row, "run_id": "rerun"} for row in drifted.rows]
    monitor.write_metrics(spark, lake, rerun, drifted.window)
    table = lake.read(spark, "monitoring")
    assert table.count() == len(clean.rows) + len(drifted.rows)
    assert {row["run_id"] for row in table.select("run_id").distinct().collect()} == {clean.run_id, "rerun"}

    report = Path(drifted.report_path).read_text()
    assert report.startswith("<!doctype html>") and "data:image/png;base64," in report and "BREACHED" in report
    assert "retrain:" in report
