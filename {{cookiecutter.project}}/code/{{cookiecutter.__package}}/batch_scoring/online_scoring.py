"""Online scoring for Azure ML endpoints: `init()` loads the champion once, `run()` scores feature rows.

Azure ML calls these two functions (code_configuration in .cloud/azureml/endpoints/online/).
They hold no scoring logic of their own: rows become a Spark frame and go through
`score.predictions`, the function batch scoring uses, so both paths predict the same way.
A malformed request gets an answer naming the problem, never a stack trace.

Request:  {"rows": [{"machine_id": 7, "window_start": "2015-05-01T00:00", "model": "model3", ...}]}
Response: {"predictions": [{"machine_id": 7, "predicted_component": "comp2", "failure_probability": 0.81, ...}]}
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

_loaded: dict[str, object] = {}


class RequestError(ValueError):
    """The request cannot be scored; the message says which field to fix."""


def parse_request(raw: str | bytes, required: list[str]) -> list[dict]:
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RequestError(f'request body is not JSON ({error}); send an object with "rows", a list of feature rows') from None
    rows = body.get("rows") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not rows:
        raise RequestError('request needs "rows": a non-empty list of feature rows')
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise RequestError(f"rows[{index}]: is not an object of column values")
        missing = [column for column in required if row.get(column) is None]
        if missing:
            raise RequestError(f"rows[{index}]: missing {', '.join(missing)}")
    return rows


def model_directory(root: Path) -> Path:
    """The MLflow model inside AZUREML_MODEL_DIR: the folder that holds the MLmodel file."""
    found = sorted(path.parent for path in root.rglob("MLmodel"))
    if not found:
        raise FileNotFoundError(f"no MLflow model (an MLmodel file) under {root}; deploy a model logged with mlflow.spark.log_model")
    return found[0]


def init() -> None:
    import mlflow

    from ..core.spark import get_spark
    from .settings import load_settings

    root = Path(os.environ["AZUREML_MODEL_DIR"])
    settings = load_settings(state_dir=Path(tempfile.gettempdir()) / "online-scoring")
    _loaded.update(
        settings=settings,
        spark=get_spark("online-scoring", state_dir=settings.state_dir),
        model=mlflow.spark.load_model(str(model_directory(root))),
        version=os.environ.get("MODEL_VERSION", root.name),
    )


def score_rows(spark, model, settings, rows: list[dict], version: str) -> list[dict]:
    """Feature rows in, prediction rows out, through the batch path's `score.predictions`."""
    import pandas as pd

    from .score import predictions
    from .settings import model_name

    frame = pd.DataFrame(rows)
    frame["window_start"] = pd.to_datetime(frame["window_start"])
    frame["window_end"] = frame["window_start"] + timedelta(hours=settings.config.features.window_hours)
    scored = predictions(model, spark.createDataFrame(frame), model_name(settings), version, datetime.now(UTC).replace(tzinfo=None))
    return [
        {key: value.isoformat() if isinstance(value, datetime) else value for key, value in row.asDict().items()}
        for row in scored.collect()
    ]


def run(raw: str) -> dict:
    from .train import model_input_columns

    settings = _loaded["settings"]
    try:
        rows = parse_request(raw, model_input_columns(settings))
    except RequestError as error:
        return {"error": str(error)}
    return {"predictions": score_rows(_loaded["spark"], _loaded["model"], settings, rows, str(_loaded["version"]))}
