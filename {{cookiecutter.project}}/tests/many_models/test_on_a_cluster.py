"""The same code runs on a cluster: the tiny many-models pipeline with separate executor JVMs and an MLflow server over HTTP.

Run by name (`pytest -m cluster`); the template's own tests run it once per test run.
"""

from __future__ import annotations

import uuid

import pytest
from conftest import CLUSTER_MASTER, executors_that_ran_tasks, run_on_cluster, spark_master
from mlflow.tracking import MlflowClient

pytestmark = pytest.mark.cluster


def test_the_pipeline_runs_on_a_local_cluster_and_registers_its_bundle_on_the_server(mlflow_server, tmp_path):
    name = f"cluster-mm-{uuid.uuid4().hex[:8]}"
    environment = {"MANY_MODELS_MODEL_NAME": name, "MLFLOW_EXPERIMENT_NAME": name}
    events = run_on_cluster("many-models", "tiny", mlflow_server, tmp_path, environment)
    assert spark_master(events) == CLUSTER_MASTER
    assert executors_that_ran_tasks(events) >= {"0", "1"}, "both executor JVMs trained series"
    client = MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server)
    champion = client.get_model_version_by_alias(name, "champion")
    assert champion.run_id and client.get_run(champion.run_id).info.status == "FINISHED"
    assert int(champion.tags["series_count"]) == 36, "every tiny series is in the registered bundle"
