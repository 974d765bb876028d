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


def test_re_ingesting_days_replaces_their_rows_in_place_and_adds_none(spark, ingested, drifted):
    """The drift fixture ingested days the lake already held, after their landing files were
    replaced (a corrected upstream export, as the daily feature-refresh job meets it). Every
    table, quarantine included, keeps the rows the session's ingest counted, in at most one more
    commit, and those days hold the new readings: ingest replaces exactly the days it reads and
    merges machines by key."""
    from {{ cookiecutter.__package }}.batch_scoring.data_product import SENSOR_BASELINE

    from batch_scoring.conftest import SILVER_TABLES

    _, counts = ingested
    lake, days = Lake(drifted.settings.data_root), drifted.reingested
    rows = {name: entity.accepted for name, entity in counts.items()}
    rows["quarantine"] = sum(entity.quarantined for entity in counts.values())

    assert drifted.reingested_counts["telemetry"].read == drifted.settings.size_spec.machines * 24 * (days.end - days.start).days
    assert {name: lake.read(spark, name).count() for name in SILVER_TABLES} == rows
    commits = {name: lake.version(spark, name) - drifted.silver_versions_before[name] for name in SILVER_TABLES}
    assert set(commits.values()) <= {0, 1}
    assert commits["machines"] == commits["telemetry"] == 1, "the days' rows were rewritten"
    baseline, deviation = SENSOR_BASELINE["volt"]
    volt = lake.read(spark, "telemetry").where(days.sql_predicate("datetime")).agg(F.avg("volt")).first()[0]
    assert volt > baseline + deviation / 2, "the days hold the corrected readings, not the earlier ones"


def test_ingest_refuses_partial_days(spark, fresh_settings):
    with pytest.raises(SettingsError, match="whole days"):
        ingest(spark, fresh_settings, DateRange(datetime(2015, 1, 1, 6), datetime(2015, 1, 2)))


def test_ingest_without_landing_files_says_what_to_run(spark, fresh_settings):
    with pytest.raises(SettingsError, match="run the generate step"):
        ingest(spark, fresh_settings, fresh_settings.ranges()["ingest"])
