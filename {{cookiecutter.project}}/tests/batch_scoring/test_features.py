from datetime import timedelta

import pytest
from pyspark.sql import functions as F

from {{ cookiecutter.__package }}.batch_scoring.features import KEY_COLUMNS, LABELS, NO_FAILURE, build_features, numeric_feature_columns
from {{ cookiecutter.__package }}.batch_scoring.lake import Lake
from {{ cookiecutter.__package }}.batch_scoring.settings import DateRange


@pytest.fixture(scope="module")
def features(spark, featured_settings):
    """The shared lake's feature table with its labels: what the features step built from
    `build_features` over the whole data range, read instead of computed again."""
    lake = Lake(featured_settings.data_root)
    labels = lake.read(spark, "labels").select(*KEY_COLUMNS, "label")
    frame = lake.read(spark, "features").join(labels, list(KEY_COLUMNS), "left").cache()
    yield frame
    frame.unpersist()


def test_one_row_per_machine_and_window_with_every_feature(features, ingested_settings):
    spec = ingested_settings.size_spec
    windows = int((spec.end - spec.start).total_seconds() // (12 * 3600))
    assert features.count() == spec.machines * windows
    assert features.select("machine_id", "window_start").distinct().count() == features.count()
    missing = set(numeric_feature_columns(ingested_settings.config.features)) - set(features.columns)
    assert not missing
    assert features.where(F.col("volt_mean_36h").isNull() | F.col("comp1_days_since_replacement").isNull()).count() == 0


def test_rolling_mean_matches_the_hourly_data(spark, features, ingested_settings):
    row = features.where("machine_id = 3").orderBy("window_start").collect()[10]
    start = row["window_end"] - timedelta(hours=24)
    hourly = Lake(ingested_settings.data_root).read(spark, "telemetry").where("machine_id = 3")
    expected = hourly.where(DateRange(start, row["window_end"]).sql_predicate("datetime")).agg(F.avg("volt"), F.stddev("volt")).collect()[0]
    assert row["volt_mean_24h"] == pytest.approx(expected[0])
    assert row["volt_std_24h"] == pytest.approx(expected[1])


def test_label_names_the_next_failure_within_the_horizon(spark, features, ingested_settings):
    horizon = timedelta(hours=ingested_settings.config.features.horizon_hours)
    failure = Lake(ingested_settings.data_root).read(spark, "failures").orderBy("datetime").collect()[len(LABELS)]
    windows = features.where(F.col("machine_id") == failure["machine_id"]).collect()
    before = [w for w in windows if w["window_end"] < failure["datetime"] <= w["window_end"] + horizon and w["label"] is not None]
    assert before, "the failure should fall within some window's horizon"
    assert all(w["label"] != NO_FAILURE for w in before)
    assert any(w["label"] == failure["component"] for w in before)


def test_label_is_unknown_where_the_horizon_passes_the_data(features, ingested_settings):
    end = ingested_settings.size_spec.end
    horizon = timedelta(hours=ingested_settings.config.features.horizon_hours)
    late = features.where(F.col("window_end") + F.expr(f"INTERVAL {horizon.days * 24 + horizon.seconds // 3600} HOURS") > F.lit(end))
    assert late.count() > 0
    assert late.where(F.col("label").isNotNull()).count() == 0
    assert set(row["label"] for row in features.select("label").distinct().collect()) - {None} <= set(LABELS)


def test_scoring_features_carry_no_label(spark, ingested_settings):
    assert "label" not in build_features(spark, ingested_settings, ingested_settings.ranges()["score"], labels=False).columns


def test_a_groups_sum_does_not_depend_on_how_its_rows_are_partitioned(spark):
    """Adding 1e16, 1 and -1e16 in another order gives another double; the features' sums give one."""
    from {{ cookiecutter.__package }}.batch_scoring.features import _ordered_sum

    orders = ([1e16, 1.0, -1e16], [1e16, -1e16, 1.0], [1.0, -1e16, 1e16])
    layouts = [spark.createDataFrame([(1, volt) for volt in order], "machine_id int, volt double").coalesce(1) for order in orders]
    plain = {frame.groupBy("machine_id").agg(F.sum("volt")).first()[1] for frame in layouts}
    ordered = {frame.groupBy("machine_id").agg(_ordered_sum(F.col("volt"))).first()[1] for frame in layouts}
    assert len(plain) > 1, "Spark's own sum follows the row order: the check below can fail"
    assert len(ordered) == 1


def test_the_training_set_is_laid_out_the_same_whatever_the_shuffle_partitions(spark, featured_settings):
    """The forest samples per partition, so the rows of each partition, in order, are part of the model's input."""
    from {{ cookiecutter.__package }}.batch_scoring.train import training_frame

    def layout(partitions: int) -> list[list[tuple]]:
        spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
        frame, _ = training_frame(spark, featured_settings, featured_settings.ranges()["train"])
        return frame.select(*KEY_COLUMNS).rdd.glom().map(lambda rows: [tuple(row) for row in rows]).collect()

    configured = spark.conf.get("spark.sql.shuffle.partitions")
    try:
        assert layout(2) == layout(7)
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", configured)
