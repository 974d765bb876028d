"""The forecast service, tested as deployed: uvicorn on a loopback port, real HTTP, a bundle on disk.

Includes a bounded load test that prints p50/p99 for cold series (first request loads the
model from the bundle) and warm ones (served from the cache), and checks that eviction
keeps the cache's bytes under its cap while every answer stays correct.
"""

from __future__ import annotations

import os
import pickle
import socket
import subprocess
import sys
import time
from datetime import date

import httpx
import numpy as np
import pytest

from {{ cookiecutter.__package }}.many_models.features import request_features

CACHE_MAX_BYTES = 12_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_fits, state_dir, build_bundle):
    from {{ cookiecutter.__package }}.many_models.settings import load_many_models_settings

    settings = load_many_models_settings(size="tiny", state_dir=state_dir, data_root=str(state_dir / "unused"))
    folder = build_bundle(tmp_path_factory.mktemp("serving") / "bundle", settings, tiny_fits)
    port = _free_port()
    environment = dict(os.environ, MANY_MODELS_BUNDLE=str(folder), MANY_MODELS_CACHE_BYTES=str(CACHE_MAX_BYTES))
    command = [sys.executable, "-m", "uvicorn", "--factory", "{{ cookiecutter.__package }}.many_models.serve:app_from_environment",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    deadline = time.monotonic() + 30
    while True:
        try:
            if client.get("/ready").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the server did not become ready: {process.communicate()[0][-2000:]}")
        time.sleep(0.1)
    yield client
    client.close()
    process.terminate()
    process.wait(timeout=10)


def _row(store: int, brand: str, **changes) -> dict:
    row = {"store": store, "brand": brand, "week_starting": "1991-08-08", "price": 2.1, "advert": 1,
           "recent_quantities": [9500.0, 9800.0, 10100.0, 9900.0]}  # fmt: skip
    return {**row, **changes}


def test_health_and_readiness(server):
    assert server.get("/health").json() == {"status": "alive"}
    ready = server.get("/ready").json()
    assert ready["status"] == "ready" and ready["series"] == 36


def test_prediction_equals_the_series_model(server, tiny_fits):
    fitted = tiny_fits.set_index(["Store", "Brand"]).loc[(4, "tropicana"), "model"]
    expected = pickle.loads(fitted).predict(request_features([9500.0, 9800.0, 10100.0, 9900.0], date(1991, 8, 8), 2.1, 1))[0]
    answer = server.post("/predict", json={"rows": [_row(4, "tropicana")]})
    assert answer.status_code == 200, answer.text
    forecast = answer.json()["forecasts"][0]
    assert forecast["quantity"] == pytest.approx(expected)
    assert forecast["series_status"] == "trained"


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"rows": [_row(1, "dominicks", advert=2)]}, 422, "advert"),
        ({"rows": [_row(1, "dominicks", price=-1)]}, 422, "price"),
        ({"rows": [_row(1, "dominicks", week_starting="next week")]}, 422, "week_starting"),
        ({"rows": [{k: v for k, v in _row(1, "dominicks").items() if k != "store"}]}, 422, "store"),
        ({"rows": [_row(1, "dominicks", recent_quantities=[1.0, 2.0])]}, 422, "give exactly 4"),
        ({"rows": []}, 422, "rows"),
        ({"rows": [_row(999, "dominicks")]}, 404, "no model for Store 999"),
    ],
)
def test_bad_requests_get_a_clear_4xx(server, body, status, says):
    answer = server.post("/predict", json=body)
    assert answer.status_code == status
    assert says in answer.text


def test_load_reports_latency_and_eviction_holds_the_memory_bound(server, tiny_fits):
    keys = [(int(row.Store), row.Brand) for row in tiny_fits.itertuples()]
    cold, warm = [], []
    for store, brand in keys:  # every series once: each is a cache miss (the cap holds far fewer than 36)
        started = time.perf_counter()
        assert server.post("/predict", json={"rows": [_row(store, brand)]}).status_code == 200
        cold.append((time.perf_counter() - started) * 1000)
    hot = keys[-3:]
    for _ in range(50):
        for store, brand in hot:
            started = time.perf_counter()
            assert server.post("/predict", json={"rows": [_row(store, brand)]}).status_code == 200
            warm.append((time.perf_counter() - started) * 1000)
    metrics = server.get("/metrics").json()
    cache = metrics["cache"]
    print(f"\ncold p50 {np.percentile(cold, 50):.2f} ms p99 {np.percentile(cold, 99):.2f} ms; "
          f"warm p50 {np.percentile(warm, 50):.2f} ms p99 {np.percentile(warm, 99):.2f} ms; cache {cache}")  # fmt: skip
    assert 0 < cache["bytes"] <= cache["max_bytes"] == CACHE_MAX_BYTES
    assert cache["evictions"] >= len(keys) - cache["entries"] > 0
    assert cache["hits"] >= 150 - 3, "the hot series stay cached"
    assert metrics["latency"]["count"] >= len(cold) + len(warm)
    assert np.percentile(warm, 99) < 250 and np.percentile(cold, 99) < 500, "bounds loose enough for a busy CI machine"


def test_docs_are_served_offline_with_a_realistic_example(server):
    docs = server.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower() and "/static-offline-docs/swagger-ui-bundle.js" in docs.text
    assert server.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
    schemas = server.get("/openapi.json").json()["components"]["schemas"]
    example = schemas["PredictRequest"]["examples"][0]
    assert server.post("/predict", json=example).status_code in (200, 404)  # a valid body; the tiny bundle may lack store 2
    assert schemas["PredictResponse"]["examples"][0]["forecasts"]


def test_a_service_without_a_model_says_so_and_names_the_fix():
    from fastapi.testclient import TestClient

    from {{ cookiecutter.__package }}.many_models.serve import create_app

    def no_registered_model():
        raise LookupError("Registered model 'demo_many_models' has no alias 'champion'")

    with TestClient(create_app(no_registered_model, CACHE_MAX_BYTES)) as client:
        deadline = time.monotonic() + 10
        while (ready := client.get("/ready").json())["status"] == "loading" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready["status"] == "failed" and "make many-models" in ready["fix"]
        answer = client.post("/predict", json={"rows": [_row(1, "tropicana")]})
        assert answer.status_code == 503
        assert "no alias 'champion'" in answer.json()["detail"] and "make many-models" in answer.json()["detail"]
