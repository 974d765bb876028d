"""Shared fixtures: one Spark session and one MLflow database for the whole test run.

Starting Spark costs seconds and creating the MLflow sqlite schema costs more, so both
are made once per session; each test gets its own data root and model name instead.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from {{ cookiecutter.__package }} import data_product, ingest
from {{ cookiecutter.__package }}.settings import Settings, load_settings

os.environ.setdefault("SPARK_MASTER", "local[2]")
os.environ.setdefault("SPARK_SHUFFLE_PARTITIONS", "4")
os.environ.setdefault("SPARK_DRIVER_MEMORY", "2g")


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("state")


@pytest.fixture(scope="session")
def spark(state_dir: Path):
    from {{ cookiecutter.__package }}.spark import get_spark

    session = get_spark("tests", state_dir=state_dir)
    yield session
    session.stop()


def make_settings(state_dir: Path, data_root: Path, **config_updates) -> Settings:
    """Tiny settings with a unique model name, so tests never see each other's aliases."""
    settings = load_settings(size="tiny", data_root=str(data_root), state_dir=state_dir)
    config = settings.config
    model = config.model.model_copy(update={"name": f"test-{uuid.uuid4().hex[:8]}"})
    config = config.model_copy(update={"model": model, **config_updates})
    return replace(settings, config=config)


@pytest.fixture
def fresh_settings(state_dir: Path, tmp_path: Path) -> Settings:
    """Settings over an empty data root of this test's own."""
    return make_settings(state_dir, tmp_path / "lake")


@pytest.fixture(scope="session")
def ingested_settings(spark, state_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A tiny data product, generated and ingested once, for tests that only read it."""
    settings = make_settings(state_dir, tmp_path_factory.mktemp("shared") / "lake")
    data_product.generate(spark, settings)
    ingest.ingest(spark, settings, settings.ranges()["ingest"])
    return settings
