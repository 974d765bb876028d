"""The deployment files call real CLI steps with real options, and name files that exist.

Fast (no Spark): it reads the bundle, the Azure ML definitions and the CI files that this
repository has, and parses every task's and component's command with the CLI's own parser,
so a renamed step or option fails here rather than in a cloud run.
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.__package }} import online_scoring
from {{ cookiecutter.__package }}.cli import _parser
from {{ cookiecutter.__package }}.settings import load_settings
from {{ cookiecutter.__package }}.train import model_input_columns

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "{{ cookiecutter.__package }}"
OPEN, CLOSE = "{" * 2, "}" * 2
# Databricks dynamic value references, Azure ML input/output references and optional groups.
JOB_PARAMETER = re.compile(re.escape(OPEN) + r"job\.parameters\.(\w+)" + re.escape(CLOSE))
AZUREML_REFERENCE = re.compile(r"\$" + re.escape(OPEN) + r"(inputs|outputs)\.(\w+)" + re.escape(CLOSE))
OPTIONAL_GROUP = re.compile(r"\$\[\[(.*?)\]\]")
SAMPLE_VALUES = {"start": "2015-03-01", "end": "2015-03-08", "size": "tiny"}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def files(pattern: str) -> list[Path]:
    return sorted(path for path in ROOT.glob(pattern) if path.is_file())


def parse_step(words: list[str], where: str):
    """Parse a step's arguments with the CLI's own parser; a wrong option fails with its name."""
    try:
        return _parser().parse_args(words)
    except SystemExit:
        pytest.fail(f"{where}: `python -m {PACKAGE} {' '.join(words)}` is not a valid CLI call")


def test_the_repository_has_deployment_definitions():
    assert files("databricks.yml") or files(".cloud/azureml/components/*.yml"), "neither a bundle nor Azure ML components"


def databricks_tasks() -> list[tuple[Path, dict, dict]]:
    return [
        (path, job, task)
        for path in files("pipelines/databricks/*.yml")
        for job in (load(path).get("resources", {}).get("jobs") or {}).values()
        for task in job.get("tasks", [])
    ]


def bundle_jobs() -> set[str]:
    return {key for path in files("pipelines/databricks/*.yml") for key in (load(path).get("resources", {}).get("jobs") or {})}


def test_bundle_includes_every_job_file():
    if not files("databricks.yml"):
        return
    bundle = load(ROOT / "databricks.yml")
    included = {path for pattern in bundle["include"] for path in ROOT.glob(pattern)}
    assert set(files("pipelines/databricks/*.yml")) <= included
    assert set(bundle["targets"]) == {"dev", "staging", "prod"}
    for target in ("staging", "prod"):
        assert "service_principal_name" in bundle["targets"][target]["run_as"], target
    assert all("host" not in (target.get("workspace") or {}) for target in bundle["targets"].values()), (
        "the CLI cannot interpolate workspace.host; CI sets DATABRICKS_HOST"
    )


def test_every_databricks_task_runs_a_real_cli_step():
    for path, job, task in databricks_tasks():
        where = f"{path.name}: task {task['task_key']}"
        if "notebook_task" in task:
            notebook = path.parent / task["notebook_task"]["notebook_path"]
            assert notebook.exists() or notebook.with_suffix(".ipynb").exists() or notebook.with_suffix(".py").exists(), where
            continue
        if "condition_task" in task:
            upstream = re.findall(r"tasks\.(\w+)\.values\.", str(task["condition_task"]))
            assert upstream and set(upstream) <= {other["task_key"] for other in job["tasks"]}, where
            continue
        if "run_job_task" in task:
            assert re.fullmatch(r"\$\{resources\.jobs\.(\w+)\.id\}", task["run_job_task"]["job_id"]), where
            job_key = task["run_job_task"]["job_id"].split(".")[2]
            assert job_key in bundle_jobs(), f"{where}: runs unknown job {job_key}"
            continue
        python_task = task["spark_python_task"]
        assert (path.parent / python_task["python_file"]).is_file(), where
        declared = {parameter["name"] for parameter in job.get("parameters", [])}
        words = []
        for word in python_task.get("parameters", []):
            for name in JOB_PARAMETER.findall(word):
                assert name in declared, f"{where}: job parameter '{name}' is not declared"
            words.append(JOB_PARAMETER.sub(lambda match: SAMPLE_VALUES.get(match.group(1), ""), word))
        if Path(python_task["python_file"]).name == "run_step.py":
            arguments = parse_step(words, where)
            assert arguments.step == task["task_key"] or task["task_key"].startswith(arguments.step), where


def test_the_databricks_entry_file_calls_the_cli_and_fails_on_a_non_zero_exit():
    for path in files("pipelines/databricks/*.py"):
        text = path.read_text(encoding="utf-8")
        assert f"from {PACKAGE}.cli import main" in text and "raise SystemExit" in text, path.name


def component_command_words(component: dict, where: str) -> tuple[str, list[str]]:
    """The module a component runs (`python -m <module>`) and its arguments, references filled in."""
    command = OPTIONAL_GROUP.sub(r"\1", component["command"])
    inputs, outputs = set(component.get("inputs") or {}), set(component.get("outputs") or {})

    def value(match: re.Match) -> str:
        kind, name = match.groups()
        assert name in (inputs if kind == "inputs" else outputs), f"{where}: {kind}.{name} is not declared"
        return SAMPLE_VALUES.get(name, f"/mnt/{name}")

    words = AZUREML_REFERENCE.sub(value, command).split()
    words = [word for word in words if "=" not in word or word.startswith("-")]  # drop VAR=value prefixes
    assert words[:2] == ["python", "-m"] and words[2].split(".")[0] == PACKAGE, f"{where}: does not run python -m {PACKAGE}"
    return words[2], words[3:]


def test_every_azureml_command_component_runs_a_real_cli_step():
    for path in files(".cloud/azureml/components/*.yml"):
        component = load(path)
        if component.get("type") != "command":
            continue
        where = path.relative_to(ROOT).as_posix()
        assert (path.parent / component["code"] / PACKAGE / "__main__.py").is_file(), f"{where}: code is not the code/ folder"
        module, words = component_command_words(component, where)
        if module == PACKAGE:
            arguments = parse_step(words, where)
            assert arguments.step == path.stem, f"{where}: runs step '{arguments.step}'"
        else:
            module_path = ROOT / "code" / Path(*module.split("."))
            assert module_path.with_suffix(".py").is_file() or (module_path / "__main__.py").is_file(), f"{where}: no module {module}"


def test_azureml_pipelines_use_existing_components_and_declared_inputs():
    for path in [*files("pipelines/azureml/*.yml"), *files(".cloud/azureml/components/*pipeline*.yml")]:
        pipeline = load(path)
        where = path.relative_to(ROOT).as_posix()
        if "create_job" in pipeline:  # a schedule: it must start one of these pipelines
            assert (path.parent / pipeline["create_job"]).resolve().is_file(), f"{where}: schedules a missing job"
            continue
        parent_inputs = set(pipeline.get("inputs") or {})
        for name, node in pipeline["jobs"].items():
            component_path = (path.parent / node["component"]).resolve()
            assert component_path.is_file(), f"{where}: job {name} uses missing {node['component']}"
            component_inputs = set(load(component_path).get("inputs") or {})
            for key, value in (node.get("inputs") or {}).items():
                assert key in component_inputs, f"{where}: job {name} sets unknown input {key}"
                for reference in re.findall(r"parent\.inputs\.(\w+)", str(value)):
                    assert reference in parent_inputs, f"{where}: job {name} reads undeclared parent input {reference}"
                for upstream in re.findall(r"parent\.jobs\.(\w+)\.", str(value)):
                    assert upstream in pipeline["jobs"], f"{where}: job {name} waits for unknown job {upstream}"


def test_online_deployments_use_the_scoring_script():
    for path in files(".cloud/azureml/endpoints/online/*/deployment.yml"):
        configuration = load(path)["code_configuration"]
        script = path.parent / configuration["code"] / configuration["scoring_script"]
        assert script.resolve() == (ROOT / "code" / PACKAGE / "online_scoring.py").resolve(), path
    assert callable(online_scoring.init) and callable(online_scoring.run)


def test_the_sample_request_has_exactly_the_model_inputs():
    for path in files(".cloud/azureml/endpoints/online/sample-request.json"):
        columns = model_input_columns(load_settings())
        rows = online_scoring.parse_request(path.read_text(encoding="utf-8"), columns)
        assert all(set(row) == set(columns) for row in rows)


def test_scoring_requests_are_refused_with_the_field_named():
    columns = ["machine_id", "window_start"]
    with pytest.raises(online_scoring.RequestError, match="not JSON"):
        online_scoring.parse_request("{rows", columns)
    with pytest.raises(online_scoring.RequestError, match='"rows"'):
        online_scoring.parse_request(json.dumps({"rows": []}), columns)
    with pytest.raises(online_scoring.RequestError, match=r"rows\[1\]: missing window_start"):
        online_scoring.parse_request(json.dumps({"rows": [{"machine_id": 1, "window_start": "x"}, {"machine_id": 2}]}), columns)


def test_the_model_directory_is_found_or_named_missing(tmp_path: Path):
    (tmp_path / "model" / "sparkml").mkdir(parents=True)
    (tmp_path / "model" / "MLmodel").write_text("flavors: {}\n")
    assert online_scoring.model_directory(tmp_path) == tmp_path / "model"
    with pytest.raises(FileNotFoundError, match="no MLflow model"):
        online_scoring.model_directory(tmp_path / "model" / "sparkml")


def test_the_azureml_environment_pins_what_pyproject_pins():
    for path in files(".cloud/azureml/conda.yml"):
        pip = next(item["pip"] for item in load(path)["dependencies"] if isinstance(item, dict))
        pinned = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"])
        missing = pinned - set(pip)
        assert not missing, f"conda.yml lacks pyproject pins: {sorted(missing)}"


def test_ci_files_name_existing_files_and_make_targets():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for path in [*files(".ado/*.yml"), *files(".github/workflows/*.yml"), *files("pipelines/azureml/*.sh")]:
        text = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#"))
        where = path.relative_to(ROOT).as_posix()
        for reference in re.findall(r"(?:scriptPath: |template: |--file |-f )([\w./-]+)", text):
            candidates = [ROOT / reference, path.parent / reference]
            assert any(candidate.is_file() for candidate in candidates), f"{where}: names missing file {reference}"
        for reference in re.findall(r"(pipelines/azureml/deploy\.sh)", text):
            assert (ROOT / reference).is_file(), f"{where}: names missing {reference}"
        for target in re.findall(r"\bmake (\w[\w-]*)", text):
            assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE), f"{where}: make {target} is not a target"
        assert "continueOnError" not in text and "continue-on-error" not in text, f"{where}: a step may not continue on error"


def test_the_deployment_script_is_valid_bash():
    for path in files("pipelines/azureml/*.sh"):
        result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{path.name}: {result.stderr}"


def test_the_python_built_training_job_runs_what_the_train_component_runs():
    """azureml_job.py (for notebooks) and components/train.yml (for pipelines) must not drift."""
    from {{ cookiecutter.__package }} import azureml_job

    for path in files(".cloud/azureml/components/train.yml"):
        component = load(path)
        component_call = parse_step(component_command_words(component, path.name)[1], path.name)
        job_words = AZUREML_REFERENCE.sub(lambda match: SAMPLE_VALUES[match.group(2)], azureml_job.training_command()).split()
        job_call = parse_step(job_words[3:], "azureml_job.training_command()")
        assert (job_call.step, job_call.start, job_call.end) == (component_call.step, component_call.start, component_call.end)
        assert f"azureml:{azureml_job.DEFAULT_ENVIRONMENT}" == component["environment"]
        pipeline = load(ROOT / "pipelines" / "azureml" / "training.yml")
        assert pipeline["settings"]["default_compute"] == f"azureml:{azureml_job.DEFAULT_COMPUTE}"
