"""The generated Data Factory definitions (.cloud/datafactory/): present only where Azure ML
runs the batch-scoring sample, valid against the official azure-mgmt-datafactory models,
naming the resources infra/ creates, and a validator that really fails."""

from __future__ import annotations

import copy
import json

import pytest
from azure.mgmt.datafactory import models

from ci.validators import datafactory_problems, repository_files, validate_datafactory
from dsplatform.naming import LANDING_CONTAINER, resource_names

from conftest import generate

FACTORY_FILES = (
    ".cloud/datafactory/pipeline/batch-scoring.json",
    ".cloud/datafactory/trigger/landing-data.json",
    ".cloud/datafactory/trigger/daily.json",
)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("factory"), compute="azureml", sample="batch_scoring")


def _load(project, relative: str) -> dict:
    return json.loads((project / relative).read_text(encoding="utf-8"))


def test_every_definition_deserializes_into_the_sdk_models(project):
    found = sorted(
        path.relative_to(project).as_posix()
        for path in repository_files(project)
        if path.suffix == ".json" and ".cloud/datafactory" in path.as_posix()
    )
    assert found == sorted(FACTORY_FILES)
    for relative in FACTORY_FILES:
        assert validate_datafactory(project / relative, project) == [], relative


@pytest.mark.parametrize(
    ("compute", "sample"), [("databricks", "batch_scoring"), ("azureml", "many_models"), ("databricks", "many_models")]
)
def test_no_factory_without_azureml_and_batch_scoring(tmp_path, compute, sample):
    assert not (generate(tmp_path, compute=compute, sample=sample) / ".cloud" / "datafactory").exists()


def test_definitions_name_what_infra_creates(project):
    names = resource_names(project.name, "dev")
    pipeline = _load(project, FACTORY_FILES[0])["properties"]
    activity = pipeline["activities"][0]
    assert activity["type"] == "WebActivity"
    assert activity["typeProperties"]["authentication"] == {"type": "MSI", "resource": "https://ml.azure.com"}
    assert activity["typeProperties"]["connectVia"]["referenceName"] == names.data_factory_integration_runtime
    assert pipeline["parameters"]["batch_endpoint_uri"]["defaultValue"].startswith(f"https://{names.batch_endpoint}.westeurope.")
    assert f"{LANDING_CONTAINER}@{names.storage_account}." in pipeline["parameters"]["data_root"]["defaultValue"]
    landing = _load(project, FACTORY_FILES[1])["properties"]
    assert landing["type"] == "BlobEventsTrigger"
    assert landing["typeProperties"]["scope"].endswith(
        f"/resourceGroups/{names.resource_group}/providers/Microsoft.Storage/storageAccounts/{names.storage_account}"
    )
    assert landing["typeProperties"]["blobPathBeginsWith"].startswith(f"/{LANDING_CONTAINER}/blobs/")
    daily = _load(project, FACTORY_FILES[2])["properties"]
    assert daily["type"] == "ScheduleTrigger"
    for trigger in (landing, daily):
        assert [reference["pipelineReference"]["referenceName"] for reference in trigger["pipelines"]] == ["batch-scoring"]
        assert set(trigger["pipelines"][0]["parameters"]) <= set(pipeline["parameters"])


# One broken definition per way a definition can be wrong: each must be reported.
BREAKS = {
    "unknown activity property": (0, lambda d: d["properties"]["activities"][0]["typeProperties"].update(urll="https://x")),
    "required property missing": (0, lambda d: d["properties"]["activities"][0]["typeProperties"].pop("url")),
    "unknown activity type": (0, lambda d: d["properties"]["activities"][0].update(type="WebActivty")),
    "nested unknown key": (0, lambda d: d["properties"]["activities"][0]["typeProperties"]["authentication"].update(resourse="x")),
    "unknown parameter key": (0, lambda d: d["properties"]["parameters"]["start"].update(typ="String")),
    "unknown top-level key": (0, lambda d: d["properties"].update(activites=[])),
    "trigger property typo": (1, lambda d: d["properties"]["typeProperties"].update(event=["Microsoft.Storage.BlobCreated"])),
    "trigger reference typo": (2, lambda d: d["properties"]["pipelines"][0]["pipelineReference"].update(referenceNam="x")),
    "trigger type typo": (1, lambda d: d["properties"].update(type="BlobEventTrigger")),
    "list where an object belongs": (0, lambda d: d["properties"].update(parameters=[])),
}


@pytest.mark.parametrize("case", list(BREAKS))
def test_a_broken_definition_fails_the_validator(project, case):
    index, change = BREAKS[case]
    relative = FACTORY_FILES[index]
    model = models.PipelineResource if index == 0 else models.TriggerResource
    document = _load(project, relative)
    assert datafactory_problems(copy.deepcopy(document), model, "$") == []
    change(document)
    assert datafactory_problems(document, model, "$"), f"{case} went unnoticed"


def test_a_definition_outside_the_known_folders_is_refused(project, tmp_path):
    stray = project / ".cloud" / "datafactory" / "dataset" / "x.json"
    stray.parent.mkdir(exist_ok=True)
    stray.write_text("{}", encoding="utf-8")
    try:
        assert validate_datafactory(stray, project) and "pipeline" in validate_datafactory(stray, project)[0]
    finally:
        stray.unlink()
        stray.parent.rmdir()
