"""The feature table: a point-in-time lookup that never leaks a later value, and a refresh that replaces its range in place.

The lookup tests use a few hand-written rows, so each expected value is visible in the test;
the refresh test reads what the real features step did to the session's drifted lake
(`drifted` in batch_scoring/conftest.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from {{ cookiecutter.__package }}.batch_scoring.feature_store import DeltaFeatureStore, FeatureTable, machine_window_features, point_in_time
from {{ cookiecutter.__package }}.batch_scoring.lake import Lake

TABLE = FeatureTable(
    name="features",
    primary_keys=("machine_id",),
    timestamp_key="window_end",
    columns=("volt_mean",),
    descriptive_columns=(),
    range_column="window_end",
    source=lambda spark, settings, date_range: None,
    description="a test table",
)
T = datetime(2015, 3, 1, 12)


def lookup(spark, feature_rows, label_rows, **options):
    features = spark.createDataFrame(feature_rows, "machine_id int, window_end timestamp, volt_mean double")
    labels = spark.createDataFrame(label_rows, "machine_id int, window_end timestamp, label string")
    joined = point_in_time(labels, features, TABLE, "window_end", **options)
    return sorted((row["machine_id"], row["window_end"], row["label"], row["volt_mean"]) for row in joined.collect())


def test_a_late_arriving_feature_value_never_reaches_an_earlier_label(spark):
    """Machine 1's value stamped one second after its label's time is planted; the label keeps the value as of its time."""
    features = [
        (1, T - timedelta(hours=12), 160.0),
        (1, T + timedelta(seconds=1), 999.0),  # late: computed after the label's time
        (1, T + timedelta(hours=12), 170.0),
        (2, T, 150.0),  # exactly at the label's time: known then, so it counts
        (2, T - timedelta(hours=12), 140.0),
        (3, T, 888.0),  # another machine's value never crosses keys
    ]
    labels = [(1, T, "comp1"), (2, T, "none"), (1, T + timedelta(hours=12), "none"), (4, T, "none")]
    assert lookup(spark, features, labels) == [
        (1, T, "comp1", 160.0),
        (1, T + timedelta(hours=12), "none", 170.0),
        (2, T, "none", 150.0),
        (4, T, "none", None),
    ]
    # A label without features as of its time is dropped from a training set, never filled from the future.
    only_late = [(5, T + timedelta(hours=1), 999.0)]
    assert lookup(spark, only_late, [(5, T, "comp2")], how="inner") == []
    assert lookup(spark, only_late, [(5, T + timedelta(hours=1), "comp2")], how="inner") == [(5, T + timedelta(hours=1), "comp2", 999.0)]


def test_max_lookback_leaves_stale_features_out(spark):
    features = [(1, T - timedelta(hours=36), 160.0)]
    assert lookup(spark, features, [(1, T, "none")], max_lookback=timedelta(hours=12)) == [(1, T, "none", None)]
    assert lookup(spark, features, [(1, T, "none")], max_lookback=timedelta(hours=36)) == [(1, T, "none", 160.0)]


def test_the_lookup_refuses_a_spine_that_already_has_feature_columns(spark):
    labels = spark.createDataFrame([(1, T, 1.0)], "machine_id int, window_end timestamp, volt_mean double")
    with pytest.raises(ValueError, match="already has feature columns volt_mean"):
        point_in_time(labels, labels, TABLE, "window_end")


def test_refreshing_a_range_replaces_its_rows_in_place_and_adds_none(spark, drifted):
    """The features step over a range the table already holds, after that range's telemetry
    changed (the session's drifted lake): the refresh is a merge on (machine, window end) and
    the labels replace their range, so the range's rows are replaced, not appended and not
    skipped, while every row outside the range, and every label, stays as it was."""
    from batch_scoring.conftest import table_rows

    settings, refreshed = drifted.settings, drifted.refreshed
    lake, table = Lake(settings.data_root), machine_window_features(settings)

    def by_key(rows) -> dict[tuple, dict]:
        return {tuple(row[key] for key in table.merge_keys): row.asDict() for row in rows}

    def inside(row: dict) -> bool:
        return refreshed.start <= row[table.range_column] < refreshed.end

    before, after = by_key(drifted.features_before), by_key(table_rows(spark, lake, "features"))
    days = (refreshed.end - refreshed.start).days
    assert drifted.refreshed_rows == settings.size_spec.machines * 2 * days, "one row per machine and 12-hour window"
    assert after.keys() == before.keys(), "every row was replaced in place: none added, none lost"
    assert {key: row for key, row in after.items() if not inside(row)} == {key: row for key, row in before.items() if not inside(row)}
    rewritten = [key for key, row in after.items() if inside(row) and row != before[key]]
    assert len(rewritten) == drifted.refreshed_rows, "each row of the range holds its new values: the range was rewritten, not skipped"
    assert table_rows(spark, lake, "labels") == drifted.labels_before, "labels follow failures, which did not change"
    assert lake.version(spark, "features") > drifted.features_version_before
    assert set(DeltaFeatureStore(lake).read(spark, table).columns) == set(table.stored_columns)
