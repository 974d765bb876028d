"""Fixtures of the batch-scoring tests: one tiny lake built once per run, and copies of it.

Every Spark job costs about a second on tiny data whatever its size, so the suite runs each
step once: the data product is generated, ingested and turned into features, and one model
is trained, once per run; tests that read use those tables and that model. The ingest and the
training are the example notebooks' (01 and 03), run as a data scientist runs them, so proving
the notebooks costs no Spark job of its own. A test that writes works on a copy (a path-based
Delta table is a folder whose log names its files relatively, so a copied folder is the same
table) and runs only the step it is about, on the smallest range that shows it.

No test repeats another's Spark job: the session's ingest quarantines the planted bad rows
(`PLANTED_ROWS`), and the drift fixture's refresh and scoring are what the refresh and
failed-scoring tests read (`drifted`).
"""

from __future__ import annotations

import csv
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pandas
import pytest
from conftest import tiny_settings
from mlflow.tracking import MlflowClient
from pyspark.sql import Row

from {{ cookiecutter.__package }}.batch_scoring import data_product, features, ingest, score, train
from {{ cookiecutter.__package }}.batch_scoring.data_product import SENSOR_BASELINE
from {{ cookiecutter.__package }}.batch_scoring.lake import Lake
from {{ cookiecutter.__package }}.batch_scoring.settings import DateRange, Settings
from {{ cookiecutter.__package }}.core.tracking import CHAMPION, configure_tracking, version_by_alias

from batch_scoring.notebook_shell import EXAMPLE_NAMES, LOADING_NOTEBOOK, TRAINING_NOTEBOOK, Notebooks


def make_settings(state_dir: Path, data_root: Path, **config_updates) -> Settings:
    return tiny_settings(Settings, state_dir, data_root, **config_updates)


def copy_lake(source: Settings, state_dir: Path, folder: Path, *, landing_only: bool = False) -> Settings:
    """Settings of a data root of their own (and a model name of their own) holding a copy of `source`'s lake."""
    settings = make_settings(state_dir, folder / "lake")
    if landing_only:
        shutil.copytree(Path(source.data_root) / "landing", Path(settings.data_root) / "landing")
    else:
        shutil.copytree(source.data_root, settings.data_root)
    return settings


@pytest.fixture
def fresh_settings(state_dir: Path, tmp_path: Path) -> Settings:
    """Settings over an empty data root of this test's own."""
    return make_settings(state_dir, tmp_path / "lake")


# Bad telemetry rows planted in one landing day of the shared lake, as a faulty upstream export
# would add them, each with the reason ingest must quarantine it for.
PLANTED_DAY = "2015-01-10"
PLANTED_ROWS = [
    # datetime, machineID, volt, rotate, pressure, vibration -> expected reason
    ("2015-01-10 01:00:00", "1", "", "400.0", "100.0", "40.0", "volt: missing"),
    ("2015-01-10 02:00:00", "1", "170.0", "fast", "100.0", "40.0", "rotate: 'fast' is not a number"),
    ("2015-01-10 03:00:00", "1", "170.0", "400.0", "-3.5", "40.0", "pressure: -3.5 is outside [0, 300]"),
    ("2015-01-10 04:00:00", "424242", "170.0", "400.0", "100.0", "40.0", "machineID: 424242 is not a known machine"),
    ("10/01/2015 05:00", "1", "170.0", "400.0", "100.0", "40.0", "datetime: '10/01/2015 05:00' is not yyyy-MM-dd HH:mm:ss"),
    # Filed under the wrong day: a re-run of 2015-01-10 would replace the 10th and never touch it.
    ("2015-01-11 06:00:00", "1", "170.0", "400.0", "100.0", "40.0", "datetime: '2015-01-11 06:00:00' is not on its landing day 2015-01-10"),
]


def plant_bad_rows(settings: Settings) -> None:
    """One more CSV file in the planted day's landing folder, holding PLANTED_ROWS."""
    folder = Path(Lake(settings.data_root).landing("telemetry")) / f"date={PLANTED_DAY}"
    with (folder / "part-planted.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["datetime", "machineID", "volt", "rotate", "pressure", "vibration"])
        writer.writerows(row[:6] for row in PLANTED_ROWS)


@pytest.fixture(scope="session")
def generated(spark, state_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, int]]:
    """The tiny data product's landing files, generated once, with the row counts generation
    reported; PLANTED_ROWS are added to them afterwards, so every ingest of the lake meets them."""
    settings = make_settings(state_dir, tmp_path_factory.mktemp("generated") / "lake")
    counts = data_product.generate(spark, settings)
    plant_bad_rows(settings)
    return settings, counts


@pytest.fixture(scope="session")
def notebooks(spark, generated, state_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Notebooks]:
    """The example notebooks on a lake of their own that starts with the generated landing files,
    as a data scientist meets it after `make generate`. They log to the session's MLflow
    database, under a model name of their own."""
    settings = copy_lake(generated[0], state_dir, tmp_path_factory.mktemp("notebooks"), landing_only=True)
    runner = Notebooks(
        {
            "PIPELINE_SIZE": "tiny",
            "DATA_ROOT": settings.data_root,
            "PIPELINE_STATE_DIR": str(state_dir),
            "MODEL_NAME": f"notebooks-{uuid.uuid4().hex[:8]}",
        }
    )
    yield runner
    runner.close()


@pytest.fixture(scope="session")
def ingested(notebooks: Notebooks, state_dir: Path) -> tuple[Settings, dict[str, ingest.IngestCounts]]:
    """The tiny data product ingested once, by notebook 01 (it calls the ingest step over the
    whole range, as `make pipeline` does), with the counts ingest reported. test_notebooks checks
    what the notebook printed; the drift fixture re-ingests days of a copy (test_ingest)."""
    notebooks.run(LOADING_NOTEBOOK)
    settings = make_settings(state_dir, Path(notebooks.environment["DATA_ROOT"]))
    return settings, notebooks.variables[LOADING_NOTEBOOK]["ingested"]


@pytest.fixture(scope="session")
def ingested_settings(ingested) -> Settings:
    """The ingested lake; read it, or copy it to write (`copy_lake`)."""
    return ingested[0]


@pytest.fixture(scope="session")
def featured_settings(spark, ingested_settings: Settings) -> Settings:
    """The ingested lake plus the feature and label tables of the whole data range, built once in
    the notebooks' lake, so it holds what `make pipeline` leaves and notebook 03 trains from the
    feature table instead of building it again."""
    features.write_features(spark, ingested_settings, ingested_settings.ranges()["data"])
    return ingested_settings


@pytest.fixture(scope="session")
def trained(spark, notebooks: Notebooks, featured_settings: Settings) -> tuple[Settings, train.TrainResult]:
    """The session's one trained model and the notebooks' lake it was trained on; the end-to-end
    and monitoring tests use them (read the lake, or copy it to write: `copy_lake`).

    Where the project has the training notebook (03, with Azure ML), its local training is that
    model, so the suite trains once: test_notebooks checks what the notebook printed and
    registered. Without it, the train step runs here.
    """
    settings = featured_settings
    if TRAINING_NOTEBOOK not in EXAMPLE_NAMES:
        return settings, train.train(spark, settings, settings.ranges()["train"])
    notebooks.run(TRAINING_NOTEBOOK)
    # The notebook run puts back the MLflow URIs it found; the model's users read the session's database.
    configure_tracking(settings)
    result = notebooks.variables[TRAINING_NOTEBOOK]["result"]
    return settings.with_model_name(result.model_name), result


def ensure_champion(result: train.TrainResult) -> MlflowClient:
    """Tests that need a champion pass alone or in any order: the trained version becomes champion unless one is set."""
    client = MlflowClient()
    if version_by_alias(client, result.model_name, CHAMPION) is None:
        client.set_registered_model_alias(result.model_name, CHAMPION, result.model_version)
    return client


def halves(window: DateRange) -> list[DateRange]:
    middle = window.start + timedelta(days=(window.end - window.start).days // 2)
    return [DateRange(window.start, middle), DateRange(middle, window.end)]


def lenient(settings: Settings) -> Settings:
    """Tiny data trains no model worth validating: its performance is recorded, not judged here,
    so only drift can breach a monitoring window. The retraining rule is "1 of the last 2", so a
    second, drifted window fires it; the default rule (2 of 5) is the pure function's, tested in
    test_monitor with every history that matters."""
    monitoring = settings.config.monitoring
    rule = monitoring.retraining.model_copy(update={"min_breached_windows": 1, "last_windows": 2})
    return settings.with_config(
        validation=settings.config.validation.model_copy(update={"min_f1_weighted": 0.0, "min_failure_recall": 0.0}),
        monitoring=monitoring.model_copy(update={"retraining": rule}),
    )


SILVER_TABLES = ("machines", "telemetry", "errors", "maintenance", "failures", "quarantine")


def shift_landing_telemetry(settings: Settings, days: DateRange) -> None:
    """Every sensor reading in the landing files of `days` moved up by one standard deviation, as
    a corrected upstream export would replace them. Values ingest quarantines (missing, not a
    number, negative) stay so, and the files keep their names."""
    landing = Path(Lake(settings.data_root).landing("telemetry"))
    for offset in range((days.end - days.start).days):
        for path in (landing / f"date={days.start + timedelta(days=offset):%Y-%m-%d}").glob("*.csv"):
            frame = pandas.read_csv(path, dtype=str, keep_default_na=False)
            for column, (_, deviation) in SENSOR_BASELINE.items():
                values = pandas.to_numeric(frame[column], errors="coerce")
                frame[column] = frame[column].where(values.isna(), (values + deviation).map("{:.6f}".format))
            frame.to_csv(path, index=False)
            # Hadoop checks a file against its .crc sibling when it exists; the rewrite made it stale.
            path.with_name(f".{path.name}.crc").unlink(missing_ok=True)


@dataclass(frozen=True)
class Drifted:
    """A copy of the trained lake whose telemetry landing files changed after everything was
    built, and what the daily jobs did with them: the re-ingested days and the counts ingest
    reported, the silver tables' versions before, the refreshed feature range and what the refresh
    wrote, and the feature and label tables as they were before it."""

    settings: Settings
    result: train.TrainResult
    reingested: DateRange
    reingested_counts: dict[str, ingest.IngestCounts]
    silver_versions_before: dict[str, int]
    refreshed: DateRange
    refreshed_rows: int
    features_before: list[Row]
    labels_before: list[Row]
    features_version_before: int


def table_rows(spark, lake: Lake, name: str) -> list[Row]:
    """A table's rows in a stable order, with their column names."""
    return sorted(lake.read(spark, name).collect())


@pytest.fixture(scope="session")
def drifted(spark, trained, state_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Drifted:
    """The trained lake whose telemetry landing files, from the middle of the scoring range on,
    were replaced with every sensor reading one standard deviation higher (the shift the data
    product's drift option plants at generation), then what the daily jobs run next (ingest the
    changed days, refresh their features, score the range), as pipelines/ schedules them.

    The scoring range's first half is clean and its second drifted, for the monitoring test; the
    ingest re-reads days the lake holds, for the re-ingest test; the refresh rewrites a range the
    feature table holds, for the refresh test; the scored range is the results table a failing
    scoring run must leave alone.
    """
    source, result = trained
    ensure_champion(result)
    settings = lenient(copy_lake(source, state_dir, tmp_path_factory.mktemp("drifted")).with_model_name(result.model_name))
    scoring = settings.ranges()["score"]
    lake, shifted = Lake(settings.data_root), DateRange(halves(scoring)[1].start, settings.size_spec.end)
    features_before, labels_before = table_rows(spark, lake, "features"), table_rows(spark, lake, "labels")
    versions_before = {name: lake.version(spark, name) for name in (*SILVER_TABLES, "features")}
    shift_landing_telemetry(settings, shifted)
    counts = ingest.ingest(spark, settings, shifted)
    refreshed = DateRange(shifted.start, scoring.end)
    refreshed_rows = features.write_features(spark, settings, refreshed)
    score.score(spark, settings, scoring)
    return Drifted(
        settings,
        result,
        shifted,
        counts,
        {name: versions_before[name] for name in SILVER_TABLES},
        refreshed,
        refreshed_rows,
        features_before,
        labels_before,
        versions_before["features"],
    )
