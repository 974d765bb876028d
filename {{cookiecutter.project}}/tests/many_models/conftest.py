"""Fixtures of the many-models tests: tiny settings, bundles built without Spark, one shared MLflow database.

Self-contained (no fixture from the batch-scoring tests), so the sample's tests run when it
is generated alone. Spark, where needed, is the one session of the whole test run.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import mlflow
import pytest

from {{ cookiecutter.__package }}.many_models.bundle import write_bundle
from {{ cookiecutter.__package }}.many_models.data_product import simulate_sales
from {{ cookiecutter.__package }}.many_models.settings import ManyModelsSettings, load_many_models_settings
from {{ cookiecutter.__package }}.many_models.train import bundle_metadata, bundle_records, fit_in_process
from {{ cookiecutter.__package }}.tracking import configure_tracking

os.environ.setdefault("SPARK_MASTER", "local[2]")
os.environ.setdefault("SPARK_SHUFFLE_PARTITIONS", "4")
os.environ.setdefault("SPARK_DRIVER_MEMORY", "2g")
os.environ.setdefault("SPARK_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


@pytest.fixture(scope="session")
def many_models_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("many-models-state")


@pytest.fixture(scope="session")
def spark_session(many_models_state: Path):
    """The test run's Spark session (the batch-scoring tests' one when they run too)."""
    from {{ cookiecutter.__package }}.spark import get_spark

    return get_spark("tests", state_dir=many_models_state)


def tiny_settings(state_dir: Path, data_root: Path, **sections) -> ManyModelsSettings:
    """Tiny settings with a registry name of their own, so tests never see each other's aliases."""
    settings = load_many_models_settings(size="tiny", data_root=str(data_root), state_dir=state_dir)
    registry = settings.config.registry.model_copy(update={"name": f"test-mm-{uuid.uuid4().hex[:8]}"})
    return settings.with_config(registry=registry, **sections)


@pytest.fixture
def settings(many_models_state: Path, tmp_path: Path) -> ManyModelsSettings:
    settings = tiny_settings(many_models_state, tmp_path / "lake")
    configure_tracking(settings)
    return settings


@pytest.fixture(scope="session")
def tiny_fits(many_models_state: Path):
    """Every tiny series fitted in process: the same per-series function Spark runs."""
    settings = load_many_models_settings(size="tiny", state_dir=many_models_state, data_root=str(many_models_state / "unused"))
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
