"""Monitoring: the statistics on their own, and drift found in planted-drift data but not in clean data.

The Spark test monitors the session's trained champion over the tiny lake's scoring range
in two windows, with every silver sensor reading shifted by one standard deviation from the
second window on (`drifted` in batch_scoring/conftest.py), as the data product's drift option
plants it at generation (that option is tested below on its own): the clean window must raise
no alarm, the drifted one must fire retraining.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from {{ cookiecutter.__package }}.batch_scoring.data_product import SENSOR_BASELINE, Simulation
from {{ cookiecutter.__package }}.batch_scoring.lake import Lake
from {{ cookiecutter.__package }}.batch_scoring.monitoring import histograms, statistics
from {{ cookiecutter.__package }}.batch_scoring.monitoring import step as monitor
from {{ cookiecutter.__package }}.batch_scoring.settings import DateRange, SettingsError, load_settings


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


def test_binned_counts_match_a_count_by_hand(spark):
    frame = spark.createDataFrame([(1.0, None), (2.0, 5.0), (3.0, 5.0), (float("nan"), 7.0)], "a double, b double")
    # [missing, at or below the first edge, ..., above the last edge]
    assert histograms.binned_counts(frame, {"a": [1.5, 2.5], "b": [6.0]}) == {"a": [1, 1, 1, 1], "b": [1, 2, 1]}


@pytest.mark.slow
def test_the_champion_raises_no_alarm_on_a_clean_window_and_fires_retraining_on_drift(spark, drifted):
    """One monitoring sequence with the real champion: the clean first half of the scoring range,
    then the drifted second half. Inputs are compared with the range the champion was trained
    on; predictions with what it predicts for the clean half, because tiny data's holdout has
    another mix of failure windows than six days of scoring, so against the holdout even clean
    predictions differ (Jensen-Shannon 0.22, PSI 0.51)."""
    from batch_scoring.conftest import halves

    settings, result = drifted.settings, drifted.result
    windows = halves(settings.ranges()["score"])
    clean, shifted = (monitor.monitor(spark, settings, window, prediction_reference=windows[0]) for window in windows)

    assert clean.model_version == shifted.model_version == result.model_version
    assert clean.reference == settings.ranges()["train"], "the reference is the range the champion was trained on"
    assert not clean.window_breached, clean.summary()
    assert clean.drifted_features == []
    features = [row for row in clean.rows if row["kind"] == "feature"]
    assert len(features) == 31 and all(row["value"] < 0.25 for row in features)
    assert not any(row["breached"] for row in clean.rows if row["kind"] == "prediction")
    assert {row["metric"] for row in clean.rows if row["kind"] == "performance"} >= {"f1_weighted", "accuracy"}
    assert not clean.decision.retrain and "0 of the last 1" in clean.decision.reason

    assert shifted.window_breached
    assert {f"{sensor}_mean_{hours}h" for sensor in SENSOR_BASELINE for hours in (12, 24, 36)} <= set(shifted.drifted_features)
    assert not any("_std_" in feature for feature in shifted.drifted_features), "a level shift leaves the spread alone"
    prediction = {row["feature"]: row for row in shifted.rows if row["kind"] == "prediction"}
    assert prediction["failure_probability"]["breached"], "the shifted sensors move the champion's failure probabilities"
    assert shifted.decision.retrain and "1 of the last 2" in shifted.decision.reason
    assert [breached for *_, breached in monitor.window_history(spark, settings)] == [False, True]

    # One row per run x feature x metric, and re-monitoring a window replaces its rows.
    lake = Lake(settings.data_root)
    assert lake.read(spark, "monitoring").count() == len(clean.rows) + len(shifted.rows)
    assert lake.read(spark, "monitoring").groupBy("run_id", "feature", "metric").count().where("count > 1").isEmpty()
    rerun = [{**row, "run_id": "rerun"} for row in shifted.rows]
    monitor.write_metrics(spark, lake, rerun, shifted.window)
    table = lake.read(spark, "monitoring")
    assert table.count() == len(clean.rows) + len(shifted.rows)
    assert {row["run_id"] for row in table.select("run_id").distinct().collect()} == {clean.run_id, "rerun"}

    # The report is a file of its own and an artifact of the monitoring run.
    report = Path(shifted.report_path).read_text()
    assert report.startswith("<!doctype html>") and "data:image/png;base64," in report and "BREACHED" in report
    assert "retrain:" in report and shifted.report_path in shifted.summary()
    artifacts = [artifact.path for artifact in MlflowClient().list_artifacts(shifted.run_id, "monitoring")]
    assert artifacts == [f"monitoring/{Path(shifted.report_path).name}"]
    assert {row["metric"] for row in shifted.rows} >= {"psi", "jensen_shannon", "drifted_feature_share"}
