"""The same code runs on a cluster: the whole tiny pipeline with separate executor JVMs and an MLflow server over HTTP.

Run by name (`pytest -m cluster`); the template's own tests run it once per test run.
"""

from __future__ import annotations

import uuid

import pytest
from conftest import CLUSTER_MASTER, executors_that_ran_tasks, run_on_cluster, spark_master
from mlflow.tracking import MlflowClient

pytestmark = pytest.mark.cluster


def test_the_pipeline_runs_on_a_local_cluster_and_registers_its_champion_on_the_server(mlflow_server, tmp_path):
    name = f"cluster-{uuid.uuid4().hex[:8]}"
    events = run_on_cluster("batch-scoring", "tiny", mlflow_server, tmp_path, {"MODEL_NAME": name, "MLFLOW_EXPERIMENT_NAME": name})
    assert spark_master(events) == CLUSTER_MASTER
    assert executors_that_ran_tasks(events) >= {"0", "1"}, "both executor JVMs ran tasks"
    client = MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server)
    champion = client.get_model_version_by_alias(name, "champion")
    assert client.get_run(champion.run_id).info.status == "FINISHED"
    assert champion.tags["git_commit"] and champion.tags["train_start"]
