"""The job definitions call real CLI steps with real options, and name files that exist.

Fast (no Spark): it reads the bundle, the Azure ML definitions and the CI files that this
repository has, whichever samples it was generated with, and parses every task's and
component's command with its sample's own CLI parser, so a renamed step or option
fails here rather than in a cloud run.
"""

from __future__ import annotations

import importlib
import re
import runpy
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.__package }}.core.cli import samples

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "{{ cookiecutter.__package }}"
OPEN, CLOSE = "{" * 2, "}" * 2
# Databricks dynamic value references, Azure ML input/output references and optional groups.
JOB_PARAMETER = re.compile(re.escape(OPEN) + r"job\.parameters\.(\w+)" + re.escape(CLOSE))
AZUREML_REFERENCE = re.compile(r"\$" + re.escape(OPEN) + r"(inputs|outputs)\.(\w+)" + re.escape(CLOSE))
OPTIONAL_GROUP = re.compile(r"\$\[\[(.*?)\]\]")
SAMPLE_VALUES = {"start": "2015-03-01", "end": "2015-03-08", "size": "tiny"}
# The samples this project has: command name (`batch-scoring`) -> module (`<package>.batch_scoring`).
SAMPLES = samples()


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def files(pattern: str) -> list[Path]:
    return sorted(path for path in ROOT.glob(pattern) if path.is_file())


def parse_step(words: list[str], where: str, module: str):
    """Parse a step's arguments with its sample's own CLI parser; a wrong option fails with its name."""
    if module not in SAMPLES.values():
        pytest.fail(f"{where}: runs {module}, which is not a sample of this project ({', '.join(SAMPLES.values())})")
    try:
        return importlib.import_module(f"{module}.cli")._parser().parse_args(words)
    except SystemExit:
        pytest.fail(f"{where}: `python -m {module} {' '.join(words)}` is not a valid CLI call")


def step_module(words: list[str], where: str) -> tuple[str, list[str]]:
    """The sample module run_step.py runs for these task parameters (`<sample> <step> ...`), and the step's own arguments."""
    if words[:1] and words[0] in SAMPLES:
        return SAMPLES[words[0]], words[1:]
    pytest.fail(f"{where}: parameters must start with a sample of this project ({', '.join(SAMPLES)}), not {words[:1]}")


def test_the_repository_has_deployment_definitions():
    assert files("databricks.yml") or files(".cloud/azureml/components/*/*.yml"), "neither a bundle nor Azure ML components"


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
            module, step_words = step_module(words, where)
            arguments = parse_step(step_words, where, module)
            assert arguments.step == task["task_key"] or task["task_key"].startswith(arguments.step), where


def test_the_databricks_entry_file_fails_the_task_with_the_step_exit_code(monkeypatch, capsys):
    """A task whose step fails must fail on Databricks: the entry file raises the CLI's exit code."""
    for path in files("pipelines/databricks/run_step.py"):
        # A bad size fails in the settings, before Spark starts: exit 2, the field named.
        for words in ([sample, "promote", "--size", "no-such-size", "--version", "challenger"] for sample in SAMPLES):
            # Run as Databricks does (the file as __main__), in this process: no interpreter start-up.
            monkeypatch.setattr(sys, "argv", [str(path), *words])
            with pytest.raises(SystemExit) as exit_info:
                runpy.run_path(str(path), run_name="__main__")
            assert exit_info.value.code == 2, f"run_step.py {' '.join(words)}: exit {exit_info.value.code}"
            assert "no-such-size" in capsys.readouterr().err


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
    for path in files(".cloud/azureml/components/*/*.yml"):
        component = load(path)
        if component.get("type") != "command":
            continue
        where = path.relative_to(ROOT).as_posix()
        assert (path.parent / component["code"] / PACKAGE / "__main__.py").is_file(), f"{where}: code is not the code/ folder"
        module, words = component_command_words(component, where)
        module_path = ROOT / "code" / Path(*module.split("."))
        assert module_path.with_suffix(".py").is_file() or (module_path / "__main__.py").is_file(), f"{where}: no module {module}"
        arguments = parse_step(words, where, module)
        # The file is named after its step, in its sample's folder: components/<sample>/<step>.yml.
        assert f"{PACKAGE}.{path.parent.name}" == module, f"{where}: runs {module} from another sample's folder"
        assert path.stem == arguments.step, f"{where}: runs step '{arguments.step}'"


def test_azureml_pipelines_use_existing_components_and_declared_inputs():
    for path in [*files("pipelines/azureml/*.yml"), *files(".cloud/azureml/components/*/*pipeline*.yml")]:
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


def test_the_azureml_environment_pins_what_pyproject_pins():
    for path in files(".cloud/azureml/conda.yml"):
        pip = next(item["pip"] for item in load(path)["dependencies"] if isinstance(item, dict))
        project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        pinned = {*project["dependencies"], *project["optional-dependencies"]["azureml"]}
        missing = pinned - set(pip)
        assert not missing, f"conda.yml lacks pyproject pins: {sorted(missing)}"


def test_ci_files_name_existing_files_and_make_targets():
    # The Makefile and each present sample's targets.mk, which it includes.
    makefile = "\n".join(path.read_text(encoding="utf-8") for path in [ROOT / "Makefile", *ROOT.glob("code/*/*/targets.mk")])
    for path in [*files(".ado/*.yml"), *files(".github/workflows/*.yml"), *files("pipelines/*/*.sh")]:
        text = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#"))
        where = path.relative_to(ROOT).as_posix()
        for reference in re.findall(r"(?:scriptPath: |template: |--file |-f )([\w./][\w./-]*)", text):
            candidates = [ROOT / reference, path.parent / reference]
            assert any(candidate.is_file() for candidate in candidates), f"{where}: names missing file {reference}"
        for reference in re.findall(r"(pipelines/\w+/[\w-]+\.sh)", text):
            assert (ROOT / reference).is_file(), f"{where}: names missing {reference}"
        for target in re.findall(r"\bmake (\w[\w-]*)", text):
            assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE), f"{where}: make {target} is not a target"
        assert "continueOnError" not in text and "continue-on-error" not in text, f"{where}: a step may not continue on error"


def test_the_deployment_scripts_are_valid_bash():
    for path in files("pipelines/*/*.sh"):
        result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{path.name}: {result.stderr}"
