"""The feature table: a point-in-time lookup that never leaks a later value, and a refresh that is idempotent.

The lookup tests use a few hand-written rows, so each expected value is visible in the test;
the rewrite test runs the real features step over the shared tiny lake.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from {{ cookiecutter.__package }}.batch_scoring.feature_store import DeltaFeatureStore, FeatureTable, machine_window_features, point_in_time
from {{ cookiecutter.__package }}.batch_scoring.features import write_features
from {{ cookiecutter.__package }}.batch_scoring.lake import Lake
from {{ cookiecutter.__package }}.batch_scoring.settings import DateRange

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


def test_rewriting_a_range_replaces_its_rows_with_themselves_and_adds_none(spark, featured_settings, state_dir, tmp_path):
    """The features step on a range the shared lake already holds: the refresh is a merge on
    (machine, window end) and the labels replace their range, so both tables keep one copy of
    every row, and the new table version shows the range was rewritten, not skipped."""
    from batch_scoring.conftest import copy_lake

    settings = copy_lake(featured_settings, state_dir, tmp_path)
    lake, table = Lake(settings.data_root), machine_window_features(settings)
    store = DeltaFeatureStore(lake)
    features, labels = (sorted(tuple(row) for row in lake.read(spark, name).collect()) for name in ("features", "labels"))
    version = lake.version(spark, "features")
    start = settings.ranges()["data"].start + timedelta(days=10)

    rewritten = write_features(spark, settings, DateRange(start, start + timedelta(days=2)))

    assert rewritten == settings.size_spec.machines * 4, "one row per machine and 12-hour window"
    assert sorted(tuple(row) for row in lake.read(spark, "features").collect()) == features
    assert sorted(tuple(row) for row in lake.read(spark, "labels").collect()) == labels
    assert lake.version(spark, "features") > version, "the range was rewritten, not skipped"
    assert set(store.read(spark, table).columns) == set(table.stored_columns)
