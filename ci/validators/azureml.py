"""Azure ML v2: azure-ai-ml's own loaders, chosen by the file's `$schema` line.

A module of its own because the `$schema` to loader table decides both which files are
Azure ML objects (the discovery in ci.validators asks `azureml_loader_name`) and how each
one is loaded, offline and without a workspace.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import yaml

from ci.validators.common import first_line, read_yaml, relative

# Azure ML v2 `$schema` file name -> the azure-ai-ml loader that validates it.
AZUREML_LOADERS = {
    "commandComponent": "load_component",
    "pipelineComponent": "load_component",
    "pipelineJob": "load_job",
    "commandJob": "load_job",
    "sweepJob": "load_job",
    "environment": "load_environment",
    "amlCompute": "load_compute",
    "kubernetesCompute": "load_compute",
    "computeInstance": "load_compute",
    "managedOnlineEndpoint": "load_online_endpoint",
    "kubernetesOnlineEndpoint": "load_online_endpoint",
    "managedOnlineDeployment": "load_online_deployment",
    "kubernetesOnlineDeployment": "load_online_deployment",
    "batchEndpoint": "load_batch_endpoint",
    "batchDeployment": "load_batch_deployment",
    "modelBatchDeployment": "load_model_batch_deployment",
    "pipelineComponentBatchDeployment": "load_pipeline_component_batch_deployment",
    "model": "load_model",
    "data": "load_data",
    "schedule": "load_schedule",
}
AZUREML_SCHEMA_URL = re.compile(r"azuremlschemas\.azureedge\.net/(?:latest|[\w.]+)/(\w+)\.schema\.json")
# Files under the Azure ML folders that are not Azure ML objects themselves.
AZUREML_PLAIN_FILES = re.compile(r"conda[\w-]*\.ya?ml$")


def azureml_loader_name(path: Path) -> str | None:
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    match = AZUREML_SCHEMA_URL.search(str(document.get("$schema", ""))) if isinstance(document, dict) else None
    return AZUREML_LOADERS.get(match.group(1)) if match else None


def validate_azureml(path: Path, root: Path) -> list[str]:
    """An Azure ML v2 YAML file through the loader its `$schema` names (offline; no workspace)."""
    document, problem = read_yaml(path, root)
    if problem:
        return [problem]
    schema = str(document.get("$schema", "")) if isinstance(document, dict) else ""
    match = AZUREML_SCHEMA_URL.search(schema)
    if not match:
        return [f"{relative(path, root)}: no Azure ML `$schema:` line; every Azure ML file starts with its schema URL"]
    loader_name = AZUREML_LOADERS.get(match.group(1))
    if loader_name is None:
        return [f"{relative(path, root)}: `$schema` {match.group(1)} has no known azure-ai-ml loader; add it to ci/validators/azureml.py"]
    # Some loaders (pipeline-component batch deployments) are not re-exported by azure.ai.ml.
    from azure.ai.ml.entities import _load_functions

    # The SDK logs "Class ...Schema: This is an experimental class" once per schema class it
    # meets (azure/ai/ml/_utils/_experimental.py): a notice for SDK users, not a finding here.
    logging.getLogger("azure.ai.ml._utils._experimental").setLevel(logging.ERROR)

    loader: Callable = getattr(_load_functions, loader_name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = loader(source=str(path))
        if loader_name == "load_job" and hasattr(loaded, "_validate"):
            result = loaded._validate()
            if not result.passed:
                return [f"{relative(path, root)}: {loader_name}: {first_line(result.error_messages)}"]
    except Exception as error:  # the loaders raise several exception types; each names the field
        return [f"{relative(path, root)}: {loader_name}: {first_line(error)}"]
    return []
