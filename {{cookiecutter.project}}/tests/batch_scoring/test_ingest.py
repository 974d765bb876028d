import json
from datetime import datetime

import pytest
from pyspark.sql import functions as F

from {{ cookiecutter.__package }}.batch_scoring.ingest import ingest
from {{ cookiecutter.__package }}.batch_scoring.lake import Lake
from {{ cookiecutter.__package }}.batch_scoring.settings import DateRange, SettingsError


def test_every_planted_bad_row_is_quarantined_with_its_reason(spark, ingested_settings):
    """The shared lake's landing files carry PLANTED_ROWS in one day (batch_scoring/conftest.py):
    the session's ingest quarantined each of them under that day, with its reason."""
    from batch_scoring.conftest import PLANTED_DAY, PLANTED_ROWS

    quarantine = (
        Lake(ingested_settings.data_root).read(spark, "quarantine").where(f"source = 'telemetry' AND landing_date = '{PLANTED_DAY}'")
    )
    reasons = {row["reason"] for row in quarantine.select(F.explode("reasons").alias("reason")).collect()}
    for row in PLANTED_ROWS:
        assert row[6] in reasons
    records = {json.loads(row["record"])["datetime"] for row in quarantine.select("record").collect()}
    assert {row[0] for row in PLANTED_ROWS} <= records, "each row is kept as it arrived, to be fixed and re-ingested"


def test_every_raw_row_is_accepted_or_quarantined(spark, generated, ingested):
    """Over the whole range, what was read is what the landing files hold (the generated rows and
    the planted ones), every row read was accepted or quarantined, and the data product's
    simulated corruption lands in quarantine."""
    from batch_scoring.conftest import PLANTED_ROWS

    (_, written), (settings, counts) = generated, ingested
    telemetry = counts["telemetry"]
    lake = Lake(settings.data_root)
    assert telemetry.read == written["telemetry"] + len(PLANTED_ROWS)
    assert telemetry.accepted + telemetry.quarantined == telemetry.read
    assert lake.read(spark, "telemetry").count() == telemetry.accepted
    assert lake.read(spark, "quarantine").where("source = 'telemetry'").count() == telemetry.quarantined > len(PLANTED_ROWS)


def test_ingest_refuses_partial_days(spark, fresh_settings):
    with pytest.raises(SettingsError, match="whole days"):
        ingest(spark, fresh_settings, DateRange(datetime(2015, 1, 1, 6), datetime(2015, 1, 2)))


def test_ingest_without_landing_files_says_what_to_run(spark, fresh_settings):
    with pytest.raises(SettingsError, match="run the generate step"):
        ingest(spark, fresh_settings, fresh_settings.ranges()["ingest"])
