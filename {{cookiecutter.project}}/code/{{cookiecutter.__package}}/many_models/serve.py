"""Real-time forecasts over HTTP: series models loaded on demand into a cache bounded in bytes.

Why on demand: a bundle holds thousands of series and one container cannot keep them all
warm, so the service opens only the bundle's index at start-up and reads a series' model
the first time it is asked for (one positioned read). A least-recently-used cache keeps
hot series in memory and evicts cold ones once the models' estimated footprint would pass
`cache_max_bytes`. Run it with

    uvicorn --factory {{ cookiecutter.__package }}.many_models.serve:app_from_environment --port 8080

with MANY_MODELS_BUNDLE (a bundle folder) or MANY_MODELS_MODEL_URI (default
`models:/<registry name>@champion`, with MLFLOW_TRACKING_URI), and MANY_MODELS_CACHE_BYTES.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
from fastapi import FastAPI, HTTPException, Response
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field

from .bundle import BundleReader, SeriesKey, UnknownSeries
from .features import request_features

LATENCY_WINDOW = 10_000
# What fixes a service with no model: train and register the champion bundle.
NO_MODEL_FIX = "run 'make many-models' to train and register the champion bundle, then restart the service"
# A realistic request and response, shown in /docs and the OpenAPI schema.
EXAMPLE_ROW = {"store": 2, "brand": "dominicks", "week_starting": "1992-10-08", "price": 2.39, "advert": 1,
               "recent_quantities": [10240.0, 9856.0, 11520.0, 10880.0]}  # fmt: skip
EXAMPLE_FORECAST = {"store": 2, "brand": "dominicks", "week_starting": "1992-10-08", "quantity": 10612.4, "series_status": "champion"}


def estimated_bytes(model: object, payload: bytes) -> int:
    """A fitted estimator's footprint: its object, attribute dict and arrays (never below its pickled size)."""
    attributes = getattr(model, "__dict__", {})
    in_memory = sys.getsizeof(model) + sys.getsizeof(attributes)
    in_memory += sum(value.nbytes + 112 if isinstance(value, np.ndarray) else sys.getsizeof(value) for value in attributes.values())
    return max(in_memory, len(payload))


class ModelCache:
    """Least-recently-used series models, holding at most `max_bytes` of estimated model memory."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._entries: OrderedDict[SeriesKey, tuple[object, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes = self.hits = self.misses = self.evictions = 0

    def get(self, key: SeriesKey, load: Callable[[SeriesKey], bytes]) -> object:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key][0]
            self.misses += 1
        payload = load(key)
        model = pickle.loads(payload)
        size = estimated_bytes(model, payload)
        with self._lock:
            if key not in self._entries and size <= self.max_bytes:
                self._entries[key] = (model, size)
                self.bytes += size
                while self.bytes > self.max_bytes:
                    _, (_, evicted_size) = self._entries.popitem(last=False)
                    self.bytes -= evicted_size
                    self.evictions += 1
        return model

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"entries": len(self._entries), "bytes": self.bytes, "max_bytes": self.max_bytes, "hits": self.hits,
                    "misses": self.misses, "evictions": self.evictions}  # fmt: skip


class SeriesWeek(BaseModel):
    model_config = ConfigDict(extra="forbid")

    store: int = Field(gt=0, description="store number")
    brand: str = Field(min_length=1, max_length=64)
    week_starting: date
    price: float = Field(gt=0, le=10_000)
    advert: Literal[0, 1]
    recent_quantities: list[float] = Field(min_length=1, max_length=104, description="quantities of the weeks before, oldest first")


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"rows": [EXAMPLE_ROW]}]})

    rows: list[SeriesWeek] = Field(min_length=1, max_length=1_000)


class Forecast(BaseModel):
    store: int
    brand: str
    week_starting: date
    quantity: float
    series_status: str


class PredictResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"model": "models:/many_models@champion", "forecasts": [EXAMPLE_FORECAST]}]})

    model: str
    forecasts: list[Forecast]


class ServingState:
    """The bundle (opened in the background so liveness answers during start-up), the cache and latencies."""

    def __init__(self, open_bundle: Callable[[], tuple[BundleReader, str]], cache_max_bytes: int):
        self.cache = ModelCache(cache_max_bytes)
        self.reader: BundleReader | None = None
        self.model = ""
        self.error: str | None = None
        self.latencies_ms: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self.requests = self.rejected = 0
        self._open_bundle = open_bundle

    def load(self) -> None:
        try:
            self.reader, self.model = self._open_bundle()
        except Exception as error:  # noqa: BLE001 - reported by /ready, the probe's job
            self.error = f"{type(error).__name__}: {error}"

    def latency(self) -> dict[str, float | int]:
        values = np.array(self.latencies_ms) if self.latencies_ms else np.zeros(1)
        return {"count": len(self.latencies_ms), "p50_ms": float(np.percentile(values, 50)), "p99_ms": float(np.percentile(values, 99))}


def create_app(open_bundle: Callable[[], tuple[BundleReader, str]], cache_max_bytes: int) -> FastAPI:
    state = ServingState(open_bundle, cache_max_bytes)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        loader = threading.Thread(target=state.load, name="bundle-loader", daemon=True)
        loader.start()
        yield
        if state.reader:
            state.reader.close()

    # Swagger UI and ReDoc assets are served by the app itself: FastAPI's defaults load them
    # from a CDN, which leaves /docs blank offline or behind a proxy.
    app = FastAPIOffline(title="Many-models forecasts", lifespan=lifespan)
    app.state.serving = state

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/ready")
    def ready(response: Response) -> dict[str, object]:
        if state.reader is None:
            response.status_code = 503
            if state.error:
                return {"status": "failed", "error": state.error, "fix": NO_MODEL_FIX}
            return {"status": "loading", "error": None}
        return {"status": "ready", "model": state.model, "series": len(state.reader)}

    @app.get("/metrics")
    def metrics() -> dict[str, object]:
        return {"cache": state.cache.stats(), "latency": state.latency(), "requests": state.requests, "rejected": state.rejected}

    @app.post("/predict", response_model=PredictResponse)
    def predict(request: PredictRequest) -> PredictResponse:
        started = time.perf_counter()
        state.requests += 1
        reader = state.reader
        if reader is None:
            if state.error:
                raise HTTPException(status_code=503, detail=f"no model to serve ({state.error}); {NO_MODEL_FIX}")
            raise HTTPException(status_code=503, detail="the model bundle is still loading; retry when /ready answers 200")
        lags = int(reader.metadata["lags"])
        forecasts = []
        for row in request.rows:
            key = (row.store, row.brand)
            if len(row.recent_quantities) != lags:
                state.rejected += 1
                raise HTTPException(
                    status_code=422,
                    detail=f"recent_quantities: store {row.store} brand '{row.brand}' gives {len(row.recent_quantities)} "
                    f"quantities; give exactly {lags}, oldest first",
                )
            try:
                model = state.cache.get(key, reader.model_bytes)
            except UnknownSeries as error:
                state.rejected += 1
                raise HTTPException(status_code=404, detail=str(error)) from None
            features = request_features(row.recent_quantities, row.week_starting, row.price, row.advert)
            forecasts.append(Forecast(store=row.store, brand=row.brand, week_starting=row.week_starting,
                                      quantity=float(model.predict(features)[0]), series_status=reader.entry(key).status))  # fmt: skip
        state.latencies_ms.append((time.perf_counter() - started) * 1000)
        return PredictResponse(model=state.model, forecasts=forecasts)

    return app


def app_from_environment() -> FastAPI:
    """The app uvicorn starts in the container: bundle and cache size from the environment."""
    folder = os.environ.get("MANY_MODELS_BUNDLE")
    cache_bytes = os.environ.get("MANY_MODELS_CACHE_BYTES")

    def open_bundle() -> tuple[BundleReader, str]:
        if folder:
            return BundleReader(Path(folder)), folder
        from ..core.tracking import CHAMPION, configure_tracking
        from .register import bundle_folder
        from .settings import load_many_models_settings

        settings = load_many_models_settings()
        configure_tracking(settings)
        uri = os.environ.get("MANY_MODELS_MODEL_URI") or f"models:/{settings.model_name}@{CHAMPION}"
        return BundleReader(bundle_folder(uri)), uri

    if cache_bytes is None:
        from .settings import load_many_models_settings

        cache_bytes = str(load_many_models_settings().config.serving.cache_max_bytes)
    return create_app(open_bundle, int(cache_bytes))
