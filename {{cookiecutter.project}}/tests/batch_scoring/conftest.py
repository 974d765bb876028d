"""Fixtures of the batch-scoring tests: the tiny data product generated once, and data roots built from it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import tiny_settings

from {{ cookiecutter.__package }}.batch_scoring import data_product, ingest
from {{ cookiecutter.__package }}.batch_scoring.settings import Settings


def make_settings(state_dir: Path, data_root: Path, **config_updates) -> Settings:
    return tiny_settings(Settings, state_dir, data_root, **config_updates)


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
