"""A registered Spark model is read once per Spark application, and never served stale."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import mlflow.spark
import pytest
from mlflow.entities.model_registry import ModelVersion

from {{ cookiecutter.__package }}.core import tracking


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The registry reads made, each answered with a new object; the cache starts empty."""
    made: list[str] = []
    monkeypatch.setattr(mlflow.spark, "load_model", lambda uri: made.append(uri) or object())
    tracking._spark_model.cache_clear()
    yield made
    tracking._spark_model.cache_clear()


def spark_of(application_id: str) -> SimpleNamespace:
    return SimpleNamespace(sparkContext=SimpleNamespace(applicationId=application_id))


def version(source: str) -> ModelVersion:
    return ModelVersion(name="failure", version="3", creation_timestamp=0, source=source)


def test_the_steps_of_one_process_share_one_read_of_a_version(loads):
    first = tracking.load_spark_model(spark_of("local-1"), version("runs:/a/model"))
    assert tracking.load_spark_model(spark_of("local-1"), version("runs:/a/model")) is first
    assert loads == ["models:/failure/3"]


def test_another_spark_application_or_a_re_registered_model_reads_again(loads):
    first = tracking.load_spark_model(spark_of("local-1"), version("runs:/a/model"))
    # A model deleted and registered again restarts at version 1 with other artifacts.
    assert tracking.load_spark_model(spark_of("local-1"), version("runs:/b/model")) is not first
    # A stopped session's models belong to its JVM.
    assert tracking.load_spark_model(spark_of("local-2"), version("runs:/a/model")) is not first
    assert len(loads) == 3
