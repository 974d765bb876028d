"""Register a bundle as one model version, and the accelerator's one-model-per-series way for comparison.

The bundle is a pyfunc that dispatches each input row to its series' model, so any MLflow
consumer (`mlflow.pyfunc.load_model`, Azure ML, Databricks serving) can call it. Its tags
say which columns key the series, how many there are and which weeks trained them, so a
version can be understood without downloading it.
"""

from __future__ import annotations

import logging
import pickle
import shutil
import tempfile
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.entities.model_registry import ModelVersion
from mlflow.models.signature import ModelSignature
from mlflow.tracking import MlflowClient
from mlflow.types.schema import ColSpec, Schema

from ..core.tracking import CHALLENGER, pinned_requirements
from .bundle import BundleReader, SeriesKey
from .features import calendar_features, feature_names
from .settings import SERIES_KEYS, ManyModelsSettings

BUNDLE_ARTIFACT = "bundle"
MODEL_TYPE = "LinearRegression"


class ManyModelsPyfunc(mlflow.pyfunc.PythonModel):
    """Rows with Store, Brand, WeekStarting, Price, Advert and lag_1..lag_k in; a `prediction` per row out."""

    def load_context(self, context) -> None:
        self.reader = BundleReader(context.artifacts[BUNDLE_ARTIFACT])
        self.lags = int(self.reader.metadata["lags"])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        return predict_rows(self.reader, model_input, self.lags)


def predict_rows(reader: BundleReader, rows: pd.DataFrame, lags: int) -> pd.DataFrame:
    """Dispatch rows by series key; each series' model is read once per call."""
    names = feature_names(lags)
    lag_columns = names[:lags]
    result = pd.Series(np.nan, index=rows.index, dtype=float)
    status = pd.Series("", index=rows.index, dtype=object)
    for (store, brand), group in rows.groupby(SERIES_KEYS, sort=False):
        key: SeriesKey = (int(store), str(brand))
        features = np.column_stack(
            [group[lag_columns].to_numpy(float), calendar_features(list(group["WeekStarting"])), group[["Price", "Advert"]].to_numpy(float)]
        )
        result.loc[group.index] = reader.predict_series(key, features)
        status.loc[group.index] = reader.entry(key).status
    return pd.DataFrame({"prediction": result, "series_status": status})


def bundle_signature(lags: int) -> ModelSignature:
    inputs = [ColSpec("long", "Store"), ColSpec("string", "Brand"), ColSpec("datetime", "WeekStarting"), ColSpec("double", "Price"),
              ColSpec("long", "Advert"), *(ColSpec("double", name) for name in feature_names(lags)[:lags])]  # fmt: skip
    return ModelSignature(inputs=Schema(inputs), outputs=Schema([ColSpec("double", "prediction"), ColSpec("string", "series_status")]))


def register_bundle(
    settings: ManyModelsSettings, bundle_dir: Path, run_id: str, extra_tags: dict[str, str] | None = None, alias: str | None = CHALLENGER
) -> ModelVersion:
    """Log the bundle into the active run and register it as one version (marked challenger by default)."""
    reader = BundleReader(bundle_dir)
    try:
        metadata = reader.metadata
        series_count = len(reader)
    finally:
        reader.close()
    if Path(bundle_dir).name == BUNDLE_ARTIFACT:
        info = _log_bundle_model(Path(bundle_dir), int(metadata["lags"]), settings.model_name)
    else:
        # MLflow stores an artifact folder under its own name, and readers look for `bundle`.
        with tempfile.TemporaryDirectory() as scratch:
            staged = Path(shutil.copytree(bundle_dir, Path(scratch) / BUNDLE_ARTIFACT))
            info = _log_bundle_model(staged, int(metadata["lags"]), settings.model_name)
    client = MlflowClient()
    version = str(info.registered_model_version)
    tags = {
        "partition_columns": ",".join(SERIES_KEYS),
        "series_count": str(series_count),
        "data_start": str(metadata["data_start"]),
        "data_end": str(metadata["data_end"]),
        "holdout_start": str(metadata["holdout_start"]),
        "model_type": MODEL_TYPE,
        "run_id": run_id,
        **(extra_tags or {}),
    }
    for key, value in tags.items():
        client.set_model_version_tag(settings.model_name, version, key, value)
    if alias:
        client.set_registered_model_alias(settings.model_name, alias, version)
    return client.get_model_version(settings.model_name, version)


def _log_bundle_model(folder: Path, lags: int, registered_name: str):
    # MLflow warns that a Python object is pickled with cloudpickle; ours is an importable class of this package.
    logging.getLogger("mlflow.pyfunc").setLevel(logging.ERROR)
    return mlflow.pyfunc.log_model(
        name="many_models_bundle",
        python_model=ManyModelsPyfunc(),
        artifacts={BUNDLE_ARTIFACT: str(folder)},
        pip_requirements=pinned_requirements("mlflow", "scikit-learn", "pandas", "numpy"),
        signature=bundle_signature(lags),
        registered_model_name=registered_name,
    )


def bundle_folder(model_uri: str) -> Path:
    """A local folder holding the bundle of `models:/name@alias` or `models:/name/version`.

    File-based artifact stores are read in place; anything else is downloaded once.
    """
    from mlflow.artifacts import download_artifacts
    from mlflow.store.artifact.models_artifact_repo import ModelsArtifactRepository

    source = ModelsArtifactRepository.get_underlying_uri(model_uri) if model_uri.startswith("models:") else model_uri
    if source.startswith("file://") or source.startswith("/"):
        from urllib.parse import unquote, urlparse

        local = Path(unquote(urlparse(source).path)) / "artifacts" / BUNDLE_ARTIFACT
        if local.is_dir():
            return local
    return Path(download_artifacts(artifact_uri=f"{source.rstrip('/')}/artifacts/{BUNDLE_ARTIFACT}"))


# --- The accelerator's way: one registered model per series, found by tags, one query each. ---


def per_series_model_name(base_name: str, key: SeriesKey) -> str:
    return f"{base_name}-{key[0]}-{key[1].replace('.', '_')}"


def register_per_series(base_name: str, models: dict[SeriesKey, bytes], run_id: str) -> int:
    """One artifact, one registered model and one version per series, tagged Store/Brand/ModelType (into the active run)."""
    client = MlflowClient()
    with tempfile.TemporaryDirectory() as scratch:
        for key, payload in models.items():
            folder = Path(scratch) / f"{key[0]}_{key[1]}"
            folder.mkdir()
            (folder / "model.pkl").write_bytes(payload)
            mlflow.log_artifact(str(folder / "model.pkl"), artifact_path=f"series/{folder.name}")
            tags = {"Store": str(key[0]), "Brand": key[1], "ModelType": MODEL_TYPE, "Group": base_name}
            name = per_series_model_name(base_name, key)
            client.create_registered_model(name, tags=tags)
            source = f"{mlflow.get_artifact_uri()}/series/{folder.name}"
            client.create_model_version(name, source=source, run_id=run_id, tags=tags)
    return len(models)


def find_per_series(base_name: str, key: SeriesKey):
    """Look a series' model up the accelerator's way: a tag query, then a download."""
    from mlflow.artifacts import download_artifacts

    client = MlflowClient()
    versions = client.search_model_versions(f"tags.Group = '{base_name}' AND tags.Store = '{key[0]}' AND tags.Brand = '{key[1]}'")
    if not versions:
        raise LookupError(f"no registered model for Store {key[0]}, Brand '{key[1]}'")
    latest = max(versions, key=lambda version: int(version.version))
    folder = download_artifacts(artifact_uri=latest.source)
    return pickle.loads((Path(folder) / "model.pkl").read_bytes())
