"""The feature table: a point-in-time lookup that never leaks a later value, and a refresh that is idempotent.

The lookup tests use a few hand-written rows, so each expected value is visible in the test;
the refresh test runs the real source over the tiny data product.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from {{ cookiecutter.__package }}.batch_scoring.feature_store import DeltaFeatureStore, FeatureTable, machine_window_features, point_in_time
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


def test_refreshing_a_range_twice_leaves_the_same_rows(spark, ingested_settings, tmp_path):
    """A refresh is a merge on (machine, window end): the second run replaces each row with itself and adds none."""
    lake = Lake(ingested_settings.data_root, {"features": str(tmp_path / "features")})
    store, table = DeltaFeatureStore(lake), machine_window_features(ingested_settings)
    start = ingested_settings.ranges()["data"].start + timedelta(days=10)
    week = DateRange(start, start + timedelta(days=2))
    first = store.refresh(spark, table, ingested_settings, week)
    rows = sorted(tuple(row) for row in store.read(spark, table).collect())
    again = store.refresh(spark, table, ingested_settings, week)
    assert first == again == ingested_settings.size_spec.machines * 4, "one row per machine and 12-hour window"
    assert sorted(tuple(row) for row in store.read(spark, table).collect()) == rows
    assert set(store.read(spark, table).columns) == set(table.stored_columns)
