"""MLflow wiring: a local sqlite registry by default, any server through MLFLOW_TRACKING_URI.

Why sqlite by default: it gives the full model registry (versions, aliases, tags)
offline, so promotion by alias works on a laptop exactly as it does on Databricks
or Azure ML. Set MLFLOW_TRACKING_URI to `databricks`, `databricks-uc`, an `azureml://`
URI or an http server to use those instead. Each sample's settings name its registered model.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from .settings import RunSettings, find_project_root

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

CHAMPION = "champion"
CHALLENGER = "challenger"


# MLflow 3's UI opens an experiment in its GenAI view (traces) unless the experiment says it
# holds model training; this tag makes it open on the runs and models. The value is the UI's
# own `ExperimentKind.CUSTOM_MODEL_DEVELOPMENT` (mlflow/server/js, experiment-kind utilities).
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"


def pinned_requirements(*packages: str) -> list[str]:
    """The installed versions of what a logged model needs at load time, for `log_model(pip_requirements=...)`.

    Without them MLflow infers the requirements by loading the model in a child process and
    recording what it imports: about 13 s for a Spark pipeline on a 2-core machine, at every
    training run (https://mlflow.org/docs/latest/ml/model/dependencies/). This project pins
    its dependencies, so the installed versions are the ones to serve with.
    """
    return [f"{package}=={importlib.metadata.version(package)}" for package in packages]


def local_tracking_uri(settings: RunSettings) -> str:
    return f"sqlite:///{(settings.state_dir / 'mlflow.db').resolve()}"


def configure_tracking(settings: RunSettings) -> str:
    """Point MLflow at the configured server and experiment; return the tracking URI."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or local_tracking_uri(settings)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(os.environ.get("MLFLOW_REGISTRY_URI") or uri)
    experiment = os.environ.get("MLFLOW_EXPERIMENT_NAME") or settings.config.tracking.experiment
    if uri.startswith("sqlite:") and mlflow.get_experiment_by_name(experiment) is None:
        # Keep artifacts beside the database, not in ./mlruns of whatever folder we run from.
        mlflow.create_experiment(experiment, artifact_location=(settings.state_dir / "mlartifacts").resolve().as_uri())
    found = mlflow.set_experiment(experiment)
    if found.tags.get(EXPERIMENT_KIND_TAG) != EXPERIMENT_KIND:
        mlflow.set_experiment_tag(EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
    return uri


def version_by_alias(client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def latest_version(client: MlflowClient, name: str) -> ModelVersion | None:
    versions = client.search_model_versions(f"name = '{name}'")
    return max(versions, key=lambda version: int(version.version), default=None)


def load_spark_model(spark: SparkSession, version: ModelVersion) -> Any:
    """A registered version as a Spark ML model, read from the registry once per Spark application.

    A version's artifacts never change, so the steps one process runs in turn (`pipeline`:
    validate, score, monitor) share one copy instead of reading it again, about a second each
    on 2 cores. The key holds the registry and the version's artifact source too: a model that
    is deleted and registered again starts over at version 1, with other artifacts.
    """
    return _spark_model(spark.sparkContext.applicationId, mlflow.get_registry_uri(), version.name, str(version.version), version.source)


@functools.lru_cache(maxsize=8)
def _spark_model(application_id: str, registry_uri: str, name: str, version: str, source: str) -> Any:
    import mlflow.spark

    return mlflow.spark.load_model(f"models:/{name}/{version}")


def git_commit(root: Path | None = None) -> str:
    """The commit the code ran from; CI systems' variables win over a local checkout."""
    for variable in ("GIT_COMMIT", "BUILD_SOURCEVERSION", "GITHUB_SHA"):
        if os.environ.get(variable):
            return os.environ[variable]
    try:
        folder = root or find_project_root()
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "code"], cwd=folder, capture_output=True, text=True).stdout.strip()
        return f"{commit}-dirty" if dirty else commit
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
