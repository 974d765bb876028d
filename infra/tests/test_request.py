"""`dsplatform request ...`: validate with positions, the JSON Schema, plan summaries,
stack settings and scaffolding, plus a property test that bad requests fail cleanly."""

from __future__ import annotations

import io
import json
import re
import shutil
import string
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dsplatform import cli
from dsplatform.infra.config import request_json_schema
from dsplatform.infra.request.cli import SCHEMA_PATH

from .conftest import EXAMPLE, INFRA

LOCATED_ERROR = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<field>[^:\s]+): \S.*$")
# Generated keys may hold spaces or colons, so the property test only needs some field before the message.
ANY_LOCATED_ERROR = re.compile(r"^.+?:\d+:\d+: \S.*: .+$")


def run_cli(*arguments: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main([str(argument) for argument in arguments])
    return code, out.getvalue(), err.getvalue()


def test_example_request_validates():
    code, out, err = run_cli("request", "validate", EXAMPLE)
    assert code == 0, err
    assert "valid request for 'example'" in out


FIVE_MISTAKES = """\
project: Bad_Slug
location: west europe
tags:
  owner: Data Science Team
  cost_center: CC-1234
  data_classification: secret
principals:
  data_science_group:
    object_id: 11111111-1111-4111-8111-111111111111
    display_name: grp-example-data-science
  ci_service_principal:
    object_id: 22222222-2222-4222-8222-222222222222
    client_id: not-a-guid
    display_name: sp-example-ci
  platform_admins:
    object_id: 44444444-4444-4444-8444-444444444444
    display_name: grp-platform-admins
  azure_databricks_object_id: 55555555-5555-4555-8555-555555555555
environments:
  dev:
    allowed_ip_ranges: [203.0.113.0/24]
  prod:
    network:
      aks_subnet: 10.99.0.0/24
"""


def test_five_mistakes_are_reported_at_once_with_line_and_column(tmp_path):
    request = tmp_path / "bad.yaml"
    request.write_text(FIVE_MISTAKES)
    code, _, err = run_cli("request", "validate", request)
    assert code == 2
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    located = [LOCATED_ERROR.match(line) for line in lines]
    assert all(located), lines
    found = {(match["field"], int(match["line"]), int(match["column"])) for match in located}
    assert found == {
        ("project", 1, 1),
        ("location", 2, 1),
        ("tags.data_classification", 6, 3),
        ("principals.ci_service_principal.client_id", 13, 5),
        ("environments.prod.network", 23, 5),
    }, lines
    assert "did you mean 'westeurope'" in err and "(expected" in err


def test_missing_keys_point_at_their_parent_and_yaml_errors_at_their_position(tmp_path):
    data = yaml.safe_load(EXAMPLE.read_text())
    del data["tags"]["owner"]
    data["waivers"] = [{"rule": "acr-admin-user-disable", "reason": "short", "approver": "nobody", "expires": "2026-13-01"}]
    request = tmp_path / "request.yaml"
    request.write_text(yaml.safe_dump(data, sort_keys=False))
    code, _, err = run_cli("request", "validate", request)
    assert code == 2
    assert re.search(r":\d+:1: tags.owner: is required", err)
    for field in ("waivers.0.rule", "waivers.0.reason", "waivers.0.approver", "waivers.0.expires"):
        assert f": {field}: " in err, err
    assert "did you mean 'acr-admin-user-disabled'" in err

    request.write_text("project: example\nlocation: [westeurope\n")
    code, _, err = run_cli("request", "validate", request)
    assert code == 2 and re.match(r".+:3:1: \(file\): is not valid YAML", err), err

    request.write_text("project: a\nproject: b\n")
    code, _, err = run_cli("request", "validate", request)
    assert code == 2 and ":2:1: project: appears twice" in err


def test_json_schema_is_published_and_up_to_date(tmp_path):
    committed = json.loads(SCHEMA_PATH.read_text())
    assert committed == request_json_schema(), (
        "regenerate: dsplatform request validate projects/example.yaml --schema-out projects/request.schema.json"
    )
    code, out, _ = run_cli("request", "schema")
    assert code == 0 and json.loads(out) == committed
    target = tmp_path / "schema.json"
    assert run_cli("request", "validate", EXAMPLE, "--schema-out", target)[0] == 0
    assert json.loads(target.read_text()) == committed
    assert set(committed["properties"]["environments"]["properties"]) == {"dev", "staging", "prod"}
    assert "waivers" in committed["properties"] and "request" in committed["properties"]
    assert EXAMPLE.read_text().startswith("# yaml-language-server: $schema=request.schema.json")


def test_request_plan_writes_reports_and_a_pull_request_summary(tmp_path):
    code, out, err = run_cli("request", "plan", EXAMPLE, "--output", tmp_path, "--markdown")
    assert code == 0, err
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "example-dev.plan.json",
        "example-dev.policy.json",
        "example-prod.plan.json",
        "example-prod.policy.json",
        "example-staging.plan.json",
        "example-staging.policy.json",
        "summary.md",
    ]
    summary = (tmp_path / "summary.md").read_text()
    assert summary == out
    for heading in (
        "### Waivers: none declared",
        "### Per environment",
        "### Resources by type",
        "### Guardrail findings",
        "### Settings that differ between environments",
        "### Role assignments",
    ):
        assert heading in summary
    assert "**Guardrails passed**" in summary
    # Nine for the core services, one each for the Data Factory and the AI services account.
    assert "| `azure-native:network:PrivateEndpoint` (differs) | 0 | 11 | 11 |" in summary
    assert "| `private_networking` | False | True |" in summary
    policy = json.loads((tmp_path / "example-prod.policy.json").read_text())
    assert policy["passed"] is True and policy["mandatoryViolations"] == 0
    plan = json.loads((tmp_path / "example-prod.plan.json").read_text())
    assert plan["policy"] == policy


def test_request_plan_prints_a_short_terminal_summary_and_where_it_wrote_each_file(tmp_path):
    code, out, err = run_cli("request", "plan", EXAMPLE, "--output", tmp_path)
    assert code == 0, err
    lines = out.splitlines()
    assert (
        lines[0]
        == "Guardrails passed for dev, staging, prod: no mandatory violation without a valid waiver, and no Azure constraint broken."
    )
    assert re.match(r"^  example-dev +\d+ resources, +\d+ role assignments \(\d+ human write\); 0 mandatory", lines[2]), lines
    assert "<details>" not in out and "|" not in out and "###" not in out and len(lines) < 20
    written = [line.removeprefix("Wrote ") for line in lines if line.startswith("Wrote ")]
    assert sorted(Path(path).name for path in written) == sorted(path.name for path in tmp_path.iterdir())
    assert lines[-1].startswith("Next: post ") and "summary.md" in lines[-1]
    code, out, _ = run_cli("request", "plan", EXAMPLE)
    assert code == 0 and out.splitlines()[-1].startswith("Next: add --output DIR")


def stacks_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "infra"
    (folder / "projects").mkdir(parents=True)
    shutil.copy(INFRA / "Pulumi.yaml", folder)
    shutil.copy(EXAMPLE, folder / "projects" / "example.yaml")
    return folder


def test_stacks_are_written_once_then_unchanged_and_hand_edits_are_refused(tmp_path):
    folder = stacks_folder(tmp_path)
    request = folder / "projects" / "example.yaml"
    code, out, _ = run_cli("request", "stacks", request)
    assert code == 0 and out.count(": created") == 3
    dev = folder / "Pulumi.example-dev.yaml"
    config = yaml.safe_load(dev.read_text())["config"]
    assert config["dsplatform:projectFile"] == "projects/example.yaml"
    assert config["dsplatform:environment"] == "dev" and config["azure-native:location"] == "westeurope"
    first = dev.read_bytes()

    code, out, _ = run_cli("request", "stacks", request)
    assert code == 0 and out.count(": unchanged") == 3 and dev.read_bytes() == first

    # Keys the tool does not own are kept, and are not hand edits of its keys.
    dev.write_text(dev.read_text() + "  azure-native:subscriptionId: 00000000-0000-0000-0000-00000000abcd\n")
    code, out, _ = run_cli("request", "stacks", request)
    assert code == 0 and out.count(": unchanged") == 3

    # A changed request updates the managed keys.
    request.write_text(request.read_text().replace("location: westeurope", "location: northeurope"))
    code, out, _ = run_cli("request", "stacks", request)
    assert code == 0 and out.count(": updated") == 3
    config = yaml.safe_load(dev.read_text())["config"]
    assert config["azure-native:location"] == "northeurope" and config["azure-native:subscriptionId"].endswith("abcd")

    # A hand edit of a managed key is refused, and nothing at all is written.
    prod = folder / "Pulumi.example-prod.yaml"
    prod_before = prod.read_bytes()
    dev.write_text(dev.read_text().replace("northeurope", "swedencentral"))
    request.write_text(request.read_text().replace("location: northeurope", "location: westeurope"))
    code, out, err = run_cli("request", "stacks", request)
    assert code == 2 and "edited by hand" in err and "--force" in err and "Nothing was written." in err
    assert prod.read_bytes() == prod_before and "swedencentral" in dev.read_text()
    code, out, _ = run_cli("request", "stacks", request, "--force")
    assert code == 0 and "westeurope" in dev.read_text()


def test_stacks_refuse_a_file_they_did_not_write(tmp_path):
    folder = stacks_folder(tmp_path)
    (folder / "Pulumi.example-dev.yaml").write_text("config:\n  azure-native:location: westeurope\n")
    code, _, err = run_cli("request", "stacks", folder / "projects" / "example.yaml")
    assert code == 2 and "was not written by" in err
    assert not (folder / "Pulumi.example-prod.yaml").exists()


def test_committed_example_stack_settings_are_current():
    code, out, err = run_cli("request", "stacks", EXAMPLE)
    assert code == 0, err
    assert out.count(": unchanged") == 3, out


def test_entry_point_reads_the_stack_settings(tmp_path):
    from dsplatform.infra.config import ProjectFileError
    from dsplatform.infra.stack import settings_for_stack

    settings = settings_for_stack("example-prod", INFRA / "projects", project_file="projects/example.yaml", environment="prod")
    assert settings.stack_name == "example-prod"
    with pytest.raises(ProjectFileError, match="dsplatform:environment"):
        settings_for_stack("example-prod", INFRA / "projects", project_file="projects/example.yaml", environment="dev")


def test_scaffold_generates_the_repository_with_the_requests_names(tmp_path, capfd):
    code, out, err = run_cli("request", "scaffold", EXAMPLE, "--output", tmp_path)
    assert code == 0, err
    # The hooks run as processes of their own: what they print reaches the terminal (capfd).
    shown = out + capfd.readouterr().out
    assert shown.count("Next:") == 1 and f"Next: cd {tmp_path / 'example'} && make setup test" in shown, shown
    assert [path.name for path in tmp_path.iterdir()] == ["example"]
    project = tmp_path / "example"
    assert (project / "code" / "example").is_dir() and (project / ".ado").is_dir() and not (project / ".github").exists()
    readme = (project / "README.md").read_text()
    assert "Example" in readme
    assert (project / "notebooks" / "alice.smith").is_dir()
    code, _, err = run_cli("request", "scaffold", EXAMPLE, "--output", tmp_path)
    assert code == 2 and "already exists" in err


def test_scaffold_answers_every_question_the_template_asks():
    """A new template answer must reach the request too, or scaffolding would leave it empty."""
    from dsplatform.infra.config import load_project_file
    from dsplatform.infra.request.scaffold import scaffold_answers

    template_answers = json.loads((INFRA.parent / "cookiecutter.json").read_text(encoding="utf-8"))
    asked = {name for name in template_answers if not name.startswith("_")}
    assert set(scaffold_answers(load_project_file(EXAMPLE))) == asked


def test_scaffold_refuses_bad_answers_without_writing(tmp_path):
    data = yaml.safe_load(EXAMPLE.read_text())
    data["features"] = {"databricks": False, "azureml": False, "aks": True}
    request = tmp_path / "request.yaml"
    request.write_text(yaml.safe_dump(data))
    output = tmp_path / "out"
    code, _, err = run_cli("request", "scaffold", request, "--output", output)
    assert code == 2 and "features:" in err and not output.exists()

    data = yaml.safe_load(EXAMPLE.read_text())
    del data["request"]
    request.write_text(yaml.safe_dump(data))
    code, _, err = run_cli("request", "scaffold", request, "--output", output)
    assert code == 2 and "request: is required to scaffold" in err and not output.exists()


def test_scaffold_failure_inside_cookiecutter_leaves_nothing(tmp_path, monkeypatch):
    import cookiecutter.main

    def broken(*_, output_dir, **__):
        (Path(output_dir) / "example").mkdir()
        (Path(output_dir) / "example" / "half.txt").write_text("partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cookiecutter.main, "cookiecutter", broken)
    code, _, err = run_cli("request", "scaffold", EXAMPLE, "--output", tmp_path)
    assert code == 2 and "No space left on device" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
    code, _, err = run_cli("request", "scaffold", EXAMPLE, "--output", tmp_path / "new" / "folder")
    assert code == 2 and not (tmp_path / "new").exists()


# ----------------------------------------------------------------------------- bad input, generated

EXAMPLE_DATA = yaml.safe_load(EXAMPLE.read_text())
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["dev", "prod", "westeurope", "10.0.0.0/8", "2026-02-30", "yes", "~", "premium", "@", "a" * 300]),
)
VALUES = st.recursive(
    SCALARS, lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3), max_leaves=6
)


def paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for key, item in data.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from paths(item, (*prefix, index))


ALL_PATHS = [path for path in paths(EXAMPLE_DATA) if path]


@st.composite
def request_texts(draw) -> str:
    kind = draw(st.sampled_from(["mutated", "mutated", "mutated", "text"]))
    if kind == "text":
        return draw(st.text(alphabet=string.printable + "äé€\t", max_size=200))
    data = json.loads(json.dumps(EXAMPLE_DATA))
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent = data
        try:
            for part in path[:-1]:
                parent = parent[part]
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                parent[path[-1]] = draw(VALUES)
            elif action == "delete" and isinstance(parent, dict):
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[draw(st.text(min_size=1, max_size=10))] = draw(VALUES)
        except (KeyError, IndexError, TypeError):
            continue
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=draw(st.booleans()))


CASES_SEEN = {"total": 0, "valid": 0}


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(text=request_texts())
def test_generated_requests_end_in_success_or_a_clean_located_error(tmp_path_factory, text):
    """≥1,000 generated request files through the real CLI entry point, in-process: each
    ends in success or in located `file:line:column: field: message` lines, never a
    traceback, and `request stacks` writes either every stack file or none."""
    folder = tmp_path_factory.mktemp("request")
    (folder / "projects").mkdir()
    shutil.copy(INFRA / "Pulumi.yaml", folder)
    request = folder / "projects" / "generated.yaml"
    request.write_text(text, encoding="utf-8")
    CASES_SEEN["total"] += 1
    code, out, err = run_cli("request", "validate", request)
    assert code in (0, 2), err
    assert "Traceback" not in out + err
    event("valid request" if code == 0 else "rejected request")
    if code == 2:
        lines = err.strip().splitlines()
        assert lines and all(ANY_LOCATED_ERROR.match(line) for line in lines), lines
    else:
        CASES_SEEN["valid"] += 1
        assert "valid request" in out
    code, out, err = run_cli("request", "stacks", request)
    assert code in (0, 2) and "Traceback" not in err
    written = sorted(path.name for path in folder.glob("Pulumi.*.yaml"))
    assert written == [] if code == 2 else len(written) >= 2, (code, written, err)


@pytest.mark.slow
def test_scaffolded_repository_sets_up_lints_and_passes_its_fast_tests(tmp_path):
    """The example request's repository is green out of the box: its own `make setup` (its own
    virtualenv and Delta jars), `make lint` and its fast tests.

    Its Spark suite is not run again here: the example asks for both computes and both
    samples, as the template's defaults do, and template CI proves `code/` and `tests/`
    identical across those answers, so the root suite's default project (its whole
    `make test`, tests/test_generated_project.py) already runs this code on Spark.
    What only this test can show is that scaffolding renders what the template renders
    and that the result installs and lints.
    """
    import os
    import subprocess
    import sys

    code, _, err = run_cli("request", "scaffold", EXAMPLE, "--output", tmp_path)
    assert code == 0, err
    project = tmp_path / "example"
    # uv from the root tooling or this environment speeds up the project's setup when on PATH.
    path = os.pathsep.join([str(INFRA.parent / "build" / "venv" / "bin"), str(Path(sys.executable).parent), os.environ["PATH"]])
    env = dict(os.environ, PATH=path)
    for command in (
        ["make", "setup"],
        ["make", "lint"],
        [".venv/bin/python", "-m", "pytest", "-m", "not slow", "-q", "-p", "no:cacheprovider"],
    ):
        result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=1800, check=False)
        tail = (result.stdout + result.stderr)[-6000:]
        assert result.returncode == 0, f"{' '.join(command)}:\n{tail}"
    assert " passed" in result.stdout and " failed" not in result.stdout, tail
    assert "deselected" in result.stdout, "the Spark tests exist and were left to the root suite's default project"
