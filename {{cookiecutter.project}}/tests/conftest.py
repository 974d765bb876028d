"""Fixtures every sample's tests share: one Spark session and one MLflow database for the whole run.

Starting Spark costs seconds and creating the MLflow sqlite schema costs more, so both
are made once per session; each test gets its own data root and model name instead.
Nothing here imports a sample, so each sample's tests run when it is generated alone.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TypeVar

import pytest

from {{ cookiecutter.__package }}.core.settings import RunSettings

os.environ.setdefault("SPARK_MASTER", "local[2]")
os.environ.setdefault("SPARK_SHUFFLE_PARTITIONS", "4")
os.environ.setdefault("SPARK_DRIVER_MEMORY", "2g")
# Tests are many short Spark jobs: the optimising JIT costs more CPU than it saves.
os.environ.setdefault("SPARK_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

AnySettings = TypeVar("AnySettings", bound=RunSettings)


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
    from {{ cookiecutter.__package }}.core.spark import get_spark

    session = get_spark("tests", state_dir=state_dir)
    yield session
    session.stop()


def tiny_settings(settings_type: type[AnySettings], state_dir: Path, data_root: Path, **sections) -> AnySettings:
    """A sample's tiny settings with a model name of their own, so tests never see each other's aliases."""
    settings = settings_type.load(size="tiny", data_root=str(data_root), state_dir=state_dir)
    return settings.with_model_name(f"test-{uuid.uuid4().hex[:8]}").with_config(**sections)
