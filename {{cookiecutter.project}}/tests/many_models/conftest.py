"""Fixtures of the many-models tests: tiny settings and bundles built without Spark.

Nothing from the batch-scoring tests, so the sample's tests run when it is generated alone.
Spark, the state folder (one MLflow database) and the tiny-settings builder are the shared
ones in tests/conftest.py.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from conftest import tiny_settings

from {{ cookiecutter.__package }}.core.tracking import configure_tracking
from {{ cookiecutter.__package }}.many_models.bundle import write_bundle
from {{ cookiecutter.__package }}.many_models.data_product import simulate_sales
from {{ cookiecutter.__package }}.many_models.settings import ManyModelsSettings, load_many_models_settings
from {{ cookiecutter.__package }}.many_models.train import bundle_metadata, bundle_records, fit_in_process


@pytest.fixture
def settings(state_dir: Path, tmp_path: Path) -> ManyModelsSettings:
    settings = tiny_settings(ManyModelsSettings, state_dir, tmp_path / "lake")
    configure_tracking(settings)
    return settings


@pytest.fixture(scope="session")
def tiny_fits(state_dir: Path):
    """Every tiny series fitted in process: the same per-series function Spark runs."""
    settings = load_many_models_settings(size="tiny", state_dir=state_dir, data_root=str(state_dir / "unused"))
    return fit_in_process(simulate_sales(settings), settings)


@pytest.fixture(scope="session")
def build_bundle():
    """A function writing a bundle of fitted series, optionally with some accuracies overridden."""
    return _build_bundle


@pytest.fixture(scope="session")
def log_bundle():
    """A function registering a bundle the way training does, in a run of its own."""
    return _log_bundle


def _build_bundle(folder: Path, settings: ManyModelsSettings, fits, accuracy_override: dict | None = None) -> Path:
    records = [
        (key, payload, (accuracy_override or {}).get(key, accuracy), status) for key, payload, accuracy, status in bundle_records(fits)
    ]
    weeks = settings.weeks()
    write_bundle(folder, records, bundle_metadata(settings, "test", weeks[0], weeks[-1]))
    return folder


def _log_bundle(settings: ManyModelsSettings, folder: Path):
    from {{ cookiecutter.__package }}.many_models.register import register_bundle

    with mlflow.start_run() as run:
        return register_bundle(settings, folder, run.info.run_id)
