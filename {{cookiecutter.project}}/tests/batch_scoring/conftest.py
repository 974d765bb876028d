"""Fixtures of the batch-scoring tests: one tiny lake built once per run, and copies of it.

Every Spark job costs about a second on tiny data whatever its size, so the suite runs each
step once: the data product is generated, ingested and turned into features, and one model
is trained, once per run; tests that read use those tables and that model. A test that
writes works on a copy (a path-based Delta table is a folder whose log names its files
relatively, so a copied folder is the same table) and runs only the step it is about, on
the smallest range that shows it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import tiny_settings
from mlflow.tracking import MlflowClient

from {{ cookiecutter.__package }}.batch_scoring import data_product, features, ingest, train
from {{ cookiecutter.__package }}.batch_scoring.settings import Settings
from {{ cookiecutter.__package }}.core.tracking import CHAMPION, version_by_alias


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


@pytest.fixture(scope="session")
def generated(spark, state_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, int]]:
    """The tiny data product's landing files, generated once, with the row counts generation reported."""
    settings = make_settings(state_dir, tmp_path_factory.mktemp("generated") / "lake")
    return settings, data_product.generate(spark, settings)


@pytest.fixture
def landed_settings(generated, state_dir: Path, tmp_path: Path) -> Settings:
    """Settings over a data root of this test's own that holds a copy of the landing files only."""
    return copy_lake(generated[0], state_dir, tmp_path, landing_only=True)


@pytest.fixture(scope="session")
def ingested(
    spark, generated, state_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, dict[str, ingest.IngestCounts]]:
    """The tiny data product ingested once, with the counts ingest reported."""
    settings = copy_lake(generated[0], state_dir, tmp_path_factory.mktemp("ingested"), landing_only=True)
    return settings, ingest.ingest(spark, settings, settings.ranges()["ingest"])


@pytest.fixture(scope="session")
def ingested_settings(ingested) -> Settings:
    """The ingested lake; read it, or copy it to write (`copy_lake`)."""
    return ingested[0]


@pytest.fixture(scope="session")
def featured_settings(spark, ingested_settings: Settings, state_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The ingested lake plus the feature and label tables of the whole data range, built once."""
    settings = copy_lake(ingested_settings, state_dir, tmp_path_factory.mktemp("featured"))
    features.write_features(spark, settings, settings.ranges()["data"])
    return settings


@pytest.fixture(scope="session")
def trained(
    spark, featured_settings: Settings, state_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, train.TrainResult]:
    """One model trained on a copy of the featured lake; the end-to-end and monitoring tests use it."""
    settings = copy_lake(featured_settings, state_dir, tmp_path_factory.mktemp("trained"))
    return settings, train.train(spark, settings, settings.ranges()["train"])


def ensure_champion(result: train.TrainResult) -> MlflowClient:
    """Tests that need a champion pass alone or in any order: the trained version becomes champion unless one is set."""
    client = MlflowClient()
    if version_by_alias(client, result.model_name, CHAMPION) is None:
        client.set_registered_model_alias(result.model_name, CHAMPION, result.model_version)
    return client
