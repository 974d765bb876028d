"""Shared fixtures: one Spark session and one MLflow database for the whole test run.

Starting Spark costs seconds and creating the MLflow sqlite schema costs more, so both
are made once per session; each test gets its own data root and model name instead.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from {{ cookiecutter.__package }} import data_product, ingest
from {{ cookiecutter.__package }}.settings import Settings, load_settings

os.environ.setdefault("SPARK_MASTER", "local[2]")
os.environ.setdefault("SPARK_SHUFFLE_PARTITIONS", "4")
os.environ.setdefault("SPARK_DRIVER_MEMORY", "2g")
# Tests are many short Spark jobs: the optimising JIT costs more CPU than it saves.
os.environ.setdefault("SPARK_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that needs Spark is `slow`, so `pytest -m "not slow"` is the quick check
    (settings, CLI parsing, deployment files) and no Spark test can be forgotten unmarked."""
    for item in items:
        if "spark" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


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
    model = settings.config.model.model_copy(update={"name": f"test-{uuid.uuid4().hex[:8]}"})
    return settings.with_config(model=model, **config_updates)


@pytest.fixture
def fresh_settings(state_dir: Path, tmp_path: Path) -> Settings:
    """Settings over an empty data root of this test's own."""
    return make_settings(state_dir, tmp_path / "lake")


@pytest.fixture(scope="session")
def generated(spark, state_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, int]]:
    """The tiny data product, generated once; tests copy its landing files instead of regenerating."""
    settings = make_settings(state_dir, tmp_path_factory.mktemp("generated") / "lake")
    return settings, data_product.generate(spark, settings)


@pytest.fixture
def landed_settings(generated, state_dir: Path, tmp_path: Path) -> Settings:
    """Settings over a data root of this test's own that holds a copy of the landing files."""
    source, _ = generated
    settings = make_settings(state_dir, tmp_path / "lake")
    shutil.copytree(Path(source.data_root) / "landing", Path(settings.data_root) / "landing")
    return settings


@pytest.fixture(scope="session")
def ingested_settings(spark, generated, state_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The tiny data product ingested once, for tests that only read the silver tables."""
    source, _ = generated
    settings = make_settings(state_dir, tmp_path_factory.mktemp("shared") / "lake")
    shutil.copytree(Path(source.data_root) / "landing", Path(settings.data_root) / "landing")
    ingest.ingest(spark, settings, settings.ranges()["ingest"])
    return settings
