"""The training step as an Azure ML command job, built from the same settings the local run uses.

Why build the job in Python rather than keep a job YAML beside the code: the date
range, the storage root, the experiment and the model name then come from the typed
settings, so the job cannot drift from what `python -m {{ cookiecutter.__package }}.batch_scoring train` does
locally. The object is built without any network call, so tests check it offline and
`load_job` validates its YAML against the Azure ML schema (see tests/batch_scoring/test_azureml_job.py).

Inside Azure ML the job runs the very same CLI. Only two things differ from a laptop:
the storage root (an `abfss://` URI instead of a folder) and MLflow tracking, which
Azure ML points at the workspace itself by setting MLFLOW_TRACKING_URI in the job.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from azure.ai.ml import command

from ..core.tracking import git_commit
from .settings import DateRange, Settings, SettingsError, model_name

if TYPE_CHECKING:
    from azure.ai.ml.entities import Command, Job

# The compute cluster the platform's infrastructure creates in every Azure ML workspace.
DEFAULT_COMPUTE = "cpu-cluster"
# A registered environment with Java 17 and this project's pinned dependencies; Spark
# runs in local mode inside the job's node, exactly as on a laptop.
DEFAULT_ENVIRONMENT = "{{ cookiecutter.project }}-training@latest"
# The folder uploaded as the job's code snapshot: the package and nothing else.
CODE_DIR = Path(__file__).resolve().parents[2]
# Storage roots a job in the cloud can reach; a laptop folder would silently be empty there.
REMOTE_SCHEMES = ("abfss://", "abfs://", "wasbs://", "azureml://")
# Variables that shape what the step does and must travel with the job. MLFLOW_TRACKING_URI
# is deliberately absent: Azure ML sets its own, and a forwarded local sqlite path would
# send the run to a database on the job's temporary disk.
FORWARDED_VARIABLES = ("SPARK_SHUFFLE_PARTITIONS", "SPARK_DRIVER_MEMORY")
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M"
PACKAGE = "{{ cookiecutter.__package }}"


def input_placeholder(name: str) -> str:
    """Azure ML's reference to a job input: a dollar sign, the input in doubled braces.

    Assembled piecewise because the template engine that generated this project treats
    doubled braces as its own, and a rendered file must not contain any.
    """
    return "${" + "{inputs." + name + "}}"


def training_command() -> str:
    """The command line the job runs: the same CLI as locally, with the range as job inputs."""
    return f"python -m {PACKAGE}.batch_scoring train --start {input_placeholder('start')} --end {input_placeholder('end')}"


def build_training_job(
    settings: Settings,
    *,
    compute: str = DEFAULT_COMPUTE,
    environment: str = DEFAULT_ENVIRONMENT,
    date_range: DateRange | None = None,
    code: str | Path = CODE_DIR,
) -> Command:
    """A ready-to-submit command job that trains on `date_range` (default: the settings' train range).

    Refuses a local storage root: a job in the cloud cannot read a folder on this machine,
    and it would only find out after queueing for a node.
    """
    if not settings.data_root.startswith(REMOTE_SCHEMES):
        raise SettingsError(
            f"data root '{settings.data_root}' is a local folder, which an Azure ML job cannot read; "
            "set DATA_ROOT (or --data-root) to abfss://<container>@<account>.dfs.core.windows.net/<path>"
        )
    code_dir = Path(code).resolve()
    if not (code_dir / PACKAGE / "__main__.py").is_file() or {"site-packages", "dist-packages"} & set(code_dir.parts):
        # An installed (not editable) package would upload all of site-packages as the snapshot.
        raise SettingsError(f"'{code_dir}' is not a checkout's code/ folder with the {PACKAGE} package; pass code=<repository>/code")
    train_range = date_range or settings.ranges()["train"]
    environment_variables = {
        "DATA_ROOT": settings.data_root,
        "PIPELINE_SIZE": settings.size,
        "MODEL_NAME": model_name(settings),
        **{name: os.environ[name] for name in FORWARDED_VARIABLES if os.environ.get(name)},
    }
    commit = git_commit(code_dir.parent)
    return command(
        code=str(code_dir),
        command=training_command(),
        inputs={
            "start": train_range.start.strftime(TIMESTAMP_FORMAT),
            "end": train_range.end.strftime(TIMESTAMP_FORMAT),
        },
        environment=environment,
        compute=compute,
        environment_variables=environment_variables,
        experiment_name=os.environ.get("MLFLOW_EXPERIMENT_NAME") or settings.config.tracking.experiment,
        display_name=f"train {train_range.start:%Y-%m-%d}..{train_range.end:%Y-%m-%d} ({settings.size})",
        description=f"Train {model_name(settings)} on {train_range} with the {PACKAGE} train step.",
        tags={
            "project": "{{ cookiecutter.project }}",
            "step": "train",
            "size": settings.size,
            "train_start": train_range.start.strftime(TIMESTAMP_FORMAT),
            "train_end": train_range.end.strftime(TIMESTAMP_FORMAT),
            "git_commit": commit,
        },
    )


def submit_training_job(job: Command, subscription_id: str, resource_group: str, workspace: str, *, stream: bool = True) -> Job:
    """Submit the job to a workspace and, by default, follow its log until it ends.

    azure.identity is imported here, not at module level, so building and testing a job
    never needs credentials. DefaultAzureCredential tries, in order, environment
    variables (CI), a managed identity (compute in Azure) and the Azure CLI login (laptops).
    """
    from azure.ai.ml import MLClient
    from azure.identity import DefaultAzureCredential

    client = MLClient(DefaultAzureCredential(), subscription_id, resource_group, workspace)
    submitted = client.jobs.create_or_update(job)
    if stream:
        client.jobs.stream(submitted.name)
    return submitted
