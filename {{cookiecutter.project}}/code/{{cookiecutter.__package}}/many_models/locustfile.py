"""The load the stress test and the pre-production gate send: one forecast request per user per second.

Locust runs this file (`locust -f`); the package never imports it. The request bodies come
from the JSON list in STRESS_REQUESTS (one body per series, written by `stress.py` from the
bundle being served), so the load spreads over real series and exercises the model cache.
STRESS_BEARER_TOKEN, when set, is sent as the Authorization header (an Azure ML endpoint's key
or token); the test cluster's service needs none.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from locust import FastHttpUser, constant_throughput, task

BODIES = [json.dumps(body).encode() for body in json.loads(Path(os.environ["STRESS_REQUESTS"]).read_text(encoding="utf-8"))]
HEADERS = {"Content-Type": "application/json"}
if os.environ.get("STRESS_BEARER_TOKEN"):
    HEADERS["Authorization"] = f"Bearer {os.environ['STRESS_BEARER_TOKEN']}"


class Forecaster(FastHttpUser):
    # Each user sends one request a second, so the offered load is the user count in requests/s.
    wait_time = constant_throughput(1)

    @task
    def predict(self) -> None:
        self.client.post(os.environ.get("STRESS_PATH", "/predict"), data=random.choice(BODIES), headers=HEADERS)
