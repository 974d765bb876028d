from datetime import datetime

import pytest
from pyspark.sql import functions as F

from {{ cookiecutter.__package }}.batch_scoring.ingest import ingest
from {{ cookiecutter.__package }}.batch_scoring.lake import Lake
from {{ cookiecutter.__package }}.batch_scoring.settings import DateRange, SettingsError

BAD_ROWS = [
    # datetime, machineID, volt, rotate, pressure, vibration -> expected reason
    ("2015-01-10 01:00:00", "1", "", "400.0", "100.0", "40.0", "volt: missing"),
    ("2015-01-10 02:00:00", "1", "170.0", "fast", "100.0", "40.0", "rotate: 'fast' is not a number"),
    ("2015-01-10 03:00:00", "1", "170.0", "400.0", "-3.5", "40.0", "pressure: -3.5 is outside [0, 300]"),
    ("2015-01-10 04:00:00", "424242", "170.0", "400.0", "100.0", "40.0", "machineID: 424242 is not a known machine"),
    ("10/01/2015 05:00", "1", "170.0", "400.0", "100.0", "40.0", "datetime: '10/01/2015 05:00' is not yyyy-MM-dd HH:mm:ss"),
    # Filed under the wrong day: a re-run of 2015-01-10 would replace the 10th and never touch it.
    ("2015-01-11 06:00:00", "1", "170.0", "400.0", "100.0", "40.0", "datetime: '2015-01-11 06:00:00' is not on its landing day 2015-01-10"),
]
BAD_DAY = DateRange(datetime(2015, 1, 10), datetime(2015, 1, 11))


def test_every_raw_row_is_accepted_or_quarantined_with_a_reason(spark, landed_settings):
    """One landing day with planted bad rows: each is quarantined with its reason, none is dropped."""
    settings = landed_settings
    lake = Lake(settings.data_root)
    columns = ["datetime", "machineID", "volt", "rotate", "pressure", "vibration"]
    bad = spark.createDataFrame([row[:6] for row in BAD_ROWS], columns)
    day = lake.landing("telemetry") + "/date=2015-01-10"
    bad.coalesce(1).write.mode("append").option("header", True).csv(day)

    counts = ingest(spark, settings, BAD_DAY)
    telemetry = counts["telemetry"]
    raw_rows = spark.read.option("header", True).csv(day).count()
    assert telemetry.read == raw_rows
    assert telemetry.accepted + telemetry.quarantined == raw_rows
    assert lake.read(spark, "telemetry").count() == telemetry.accepted

    reasons = {row["reason"] for row in lake.read(spark, "quarantine").select(F.explode("reasons").alias("reason")).collect()}
    for row in BAD_ROWS:
        assert row[6] in reasons
    assert lake.read(spark, "quarantine").where("source = 'telemetry'").count() == telemetry.quarantined >= len(BAD_ROWS)


def test_the_simulated_corruption_is_quarantined_not_dropped(spark, generated, ingested_settings):
    """Over the whole range, what was read is what the landing files hold, and the data product's
    planted corruption lands in quarantine."""
    _, raw_counts = generated
    lake = Lake(ingested_settings.data_root)
    quarantined = lake.read(spark, "quarantine").where("source = 'telemetry'").count()
    assert lake.read(spark, "telemetry").count() + quarantined == raw_counts["telemetry"]
    assert quarantined > 0


def test_ingest_refuses_partial_days(spark, fresh_settings):
    with pytest.raises(SettingsError, match="whole days"):
        ingest(spark, fresh_settings, DateRange(datetime(2015, 1, 1, 6), datetime(2015, 1, 2)))


def test_ingest_without_landing_files_says_what_to_run(spark, fresh_settings):
    with pytest.raises(SettingsError, match="run the generate step"):
        ingest(spark, fresh_settings, fresh_settings.ranges()["ingest"])
