"""Messages a person can act on (issue 13, finding 7): one located format for every
command, "did you mean" for unknown keys, strict booleans, a hint to quote values YAML
reads as numbers, and problems reported only at keys that exist in the file."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout

import pytest
import yaml

from dsplatform import cli

from .conftest import EXAMPLE

LOCATED = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<field>\S+): (?P<message>\S.*)$")


def run_cli(*arguments) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main([str(argument) for argument in arguments])
    return code, out.getvalue(), err.getvalue()


def problems_of(tmp_path, text: str, command: str = "validate") -> list[re.Match]:
    request = tmp_path / "request.yaml"
    request.write_text(text)
    arguments = ["request", "validate", request] if command == "validate" else ["plan", request, "--env", "dev"]
    code, _, err = run_cli(*arguments)
    lines = err.strip().splitlines()
    assert code == 2 and "Traceback" not in err, err
    matches = [LOCATED.match(line) for line in lines]
    assert all(matches), lines
    return matches


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_unknown_keys_get_a_did_you_mean(tmp_path, command):
    found = problems_of(tmp_path, EXAMPLE.read_text().replace("  cost_center: CC-1234", "  cost_centre: CC-1234"), command)
    unknown = [match for match in found if match["field"] == "tags.cost_centre"]
    assert unknown and "did you mean 'cost_center'?" in unknown[0]["message"]
    assert (unknown[0]["line"], unknown[0]["column"]) == ("18", "3")


def test_a_key_with_no_close_match_lists_the_known_ones(tmp_path):
    text = EXAMPLE.read_text().replace("  aks: true", "  aks: true\n  quantum: true")
    (match,) = [m for m in problems_of(tmp_path, text) if m["field"] == "features.quantum"]
    assert "use one of ai_services, aks, azureml, data_factory, databricks" in match["message"]


@pytest.mark.parametrize("text", ['"no"', '"false"', '"yes"', "off_"])
def test_booleans_are_strict(tmp_path, text):
    found = problems_of(tmp_path, EXAMPLE.read_text().replace("  aks: true", f"  aks: {text}"))
    assert [match["field"] for match in found] == ["features.aks"], [m.string for m in found]
    assert "not a boolean; write true or false without quotes" in found[0]["message"]


def test_yaml_booleans_are_still_booleans(tmp_path):
    request = tmp_path / "request.yaml"
    request.write_text(EXAMPLE.read_text().replace("  aks: true", "  aks: false"))
    assert run_cli("request", "validate", request)[0] == 0


def test_numbers_get_a_hint_to_quote_them(tmp_path):
    found = problems_of(tmp_path, EXAMPLE.read_text().replace('python_version: "3.11"', "python_version: 3.11"))
    assert [match["field"] for match in found] == ["request.python_version"]
    assert 'YAML read 3.11 as a number; put the value in quotes as you mean it, e.g. python_version: "3.11"' in found[0]["message"]
    found = problems_of(tmp_path, EXAMPLE.read_text().replace("cost_center: CC-1234", "cost_center: 1234"))
    assert [match["field"] for match in found] == ["tags.cost_center"] and 'cost_center: "1234"' in found[0]["message"]


def test_problems_are_reported_only_at_keys_in_the_file(tmp_path):
    """A bad top-level feature is one problem at `features`, not one more per environment."""
    found = problems_of(tmp_path, EXAMPLE.read_text().replace("  aks: true", '  aks: "no"'))
    assert len(found) == 1 and found[0]["field"] == "features.aks"
    # Written under an environment, it is reported there.
    text = EXAMPLE.read_text().replace("  prod:\n", '  prod:\n    features: {aks: "no"}\n')
    found = problems_of(tmp_path, text)
    assert [match["field"] for match in found] == ["environments.prod.features.aks"]


def test_plan_reports_in_the_same_located_format(tmp_path):
    found = problems_of(tmp_path, EXAMPLE.read_text().replace("location: westeurope", "location: west europe"), "plan")
    assert [match["field"] for match in found] == ["location"] and found[0]["line"] == "6"
    without_staging = yaml.safe_load(EXAMPLE.read_text())
    del without_staging["environments"]["staging"]
    (tmp_path / "two.yaml").write_text(yaml.safe_dump(without_staging, sort_keys=False))
    code, _, err = run_cli("plan", tmp_path / "two.yaml", "--env", "staging")
    assert code == 2 and LOCATED.match(err.strip()) and ": environments: has no 'staging'" in err, err
