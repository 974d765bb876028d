"""The project file: defaults per environment, and errors that name the field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dsplatform.cli import main
from dsplatform.infra.config import (
    ENVIRONMENT_DEFAULTS,
    ProjectFileError,
    load_stack_settings,
    parse_project,
)
from dsplatform.infra.stack import split_stack_name

from .conftest import EXAMPLE, INFRA, settings_from


def problems_of(data) -> list[str]:
    with pytest.raises(ProjectFileError) as raised:
        parse_project(data)
    return raised.value.problems


def test_example_file_is_valid_for_both_environments(example_settings):
    assert example_settings["dev"].stack_name == "example-dev"
    assert example_settings["prod"].stack_name == "example-prod"


def test_dev_is_public_behind_the_allowlist_and_prod_is_private(example_settings):
    dev, prod = example_settings["dev"].settings, example_settings["prod"].settings
    assert dev.private_networking is False and dev.allowed_ip_ranges == ["203.0.113.0/24"]
    assert prod.private_networking is True


def test_dev_is_cheaper_than_prod_by_default():
    dev, prod = ENVIRONMENT_DEFAULTS["dev"], ENVIRONMENT_DEFAULTS["prod"]
    assert dev["azureml"]["cpu_cluster_max_nodes"] < prod["azureml"]["cpu_cluster_max_nodes"]
    assert dev["aks"]["user_pool"]["min_count"] == 0 < prod["aks"]["user_pool"]["min_count"]
    assert dev["log_retention_days"] < prod["log_retention_days"]


def test_environment_overrides_merge_over_defaults(example_settings):
    prod = example_settings["prod"].settings
    # example.yaml overrides only max_count of the prod scoring pool...
    assert prod.aks.user_pool.max_count == 4
    # ...and the rest still comes from ENVIRONMENT_DEFAULTS.
    assert prod.aks.system_pool.min_count == ENVIRONMENT_DEFAULTS["prod"]["aks"]["system_pool"]["min_count"]


def test_booleans_are_booleans_not_strings(example_data):
    # mlops-v2 read "false" as true; here a non-boolean is an error, not a truthy string.
    example_data["features"]["aks"] = "nope"
    assert any(problem.startswith("features.aks:") for problem in problems_of(example_data))


@pytest.mark.parametrize(
    ("mutate", "field", "hint"),
    [
        (lambda d: d.update(project="Churn_Model"), "project:", "lowercase letters"),
        (lambda d: d.update(location="West Europe"), "location:", "westeurope"),
        (lambda d: d["tags"].pop("owner"), "tags.owner:", "is required"),
        (lambda d: d["tags"].update(cost_centre="x"), "tags.cost_centre:", "not a known setting"),
        (lambda d: d["tags"].update(data_classification="secret"), "tags.data_classification:", "confidential"),
        (lambda d: d["principals"]["data_science_group"].update(object_id="abc"), "principals.data_science_group.object_id:", "GUID"),
        (lambda d: d["environments"].pop("prod"), "environments:", "dev and prod are required"),
        (lambda d: d["environments"].update(qa={}), "environments:", "unknown environment qa"),
        (
            lambda d: d["environments"]["prod"].update(network={"aks_subnet": "10.30.0.0/24"}),
            "environments.prod.network:",
            "overlaps",
        ),
        (
            lambda d: d["environments"]["prod"].update(azureml={"cpu_cluster_max_nodes": "lots"}),
            "environments.prod.azureml.cpu_cluster_max_nodes:",
            "integer",
        ),
        (
            lambda d: d["environments"]["dev"].update(allowed_ip_ranges=[]),
            "environments.dev:",
            "allowed_ip_ranges is empty",
        ),
        (
            lambda d: d["environments"]["dev"].update(allowed_ip_ranges=["10.0.0.0/8"]),
            "environments.dev.allowed_ip_ranges:",
            "private range",
        ),
        (lambda d: d["environments"]["prod"].update(name_suffix="TOOLONG1"), "environments.prod.name_suffix:", "lowercase"),
        (
            lambda d: d["environments"]["prod"].update(aks={"user_pool": {"min_count": 5, "max_count": 2}}),
            "environments.prod.aks.user_pool:",
            "below min_count",
        ),
        (
            lambda d: d["principals"].pop("azure_databricks_object_id"),
            "principals.azure_databricks_object_id:",
            "required when databricks is on",
        ),
    ],
)
def test_invalid_settings_name_the_field_and_the_expected_form(example_data, mutate, field, hint):
    mutate(example_data)
    problems = problems_of(example_data)
    matching = [problem for problem in problems if problem.startswith(field)]
    assert matching, problems
    assert any(hint in problem for problem in matching), matching


def test_a_bad_prod_override_fails_the_dev_plan_too(example_data, tmp_path):
    example_data["environments"]["prod"] = {"azureml": {"cpu_cluster_vm_size": "huge"}}
    path = tmp_path / "example.yaml"
    path.write_text(yaml.safe_dump(example_data))
    with pytest.raises(ProjectFileError) as raised:
        load_stack_settings(path, "dev")
    assert "environments.prod.azureml.cpu_cluster_vm_size" in str(raised.value)


def test_databricks_object_id_is_optional_without_databricks(example_data):
    example_data["principals"].pop("azure_databricks_object_id")
    example_data["features"]["databricks"] = False
    assert settings_from(example_data, "prod").features.databricks is False


def test_stack_names_split_on_the_last_hyphen():
    assert split_stack_name("churn-model-prod") == ("churn-model", "prod")
    with pytest.raises(ProjectFileError):
        split_stack_name("churn-model-qa")


def test_cli_reports_a_bad_file_without_a_traceback(example_data, tmp_path, capsys):
    example_data["tags"]["data_classification"] = "top-secret"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(example_data))
    assert main(["plan", str(path), "--env", "dev"]) == 2
    error = capsys.readouterr().err
    assert "tags.data_classification" in error and "public, internal, confidential, restricted" in error
    assert "Traceback" not in error


def test_cli_reports_unreadable_and_non_yaml_files(tmp_path, capsys):
    assert main(["plan", str(tmp_path / "missing.yaml"), "--env", "dev"]) == 2
    assert "cannot be read" in capsys.readouterr().err
    path = tmp_path / "broken.yaml"
    path.write_text("project: [unclosed\n")
    assert main(["plan", str(path), "--env", "dev"]) == 2
    assert "not valid YAML" in capsys.readouterr().err


def test_console_script_exits_non_zero_with_the_field_named(example_data, tmp_path):
    # The console script `make setup` installs, in a fresh process, as a user would run it.
    example_data["location"] = "atlantis"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(example_data))
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dsplatform")), "plan", str(path), "--env", "prod"],
        capture_output=True,
        check=False,
        text=True,
        cwd=INFRA,
        timeout=120,
    )
    assert result.returncode == 2
    assert "location: 'atlantis' is not a supported Azure region" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_example_file_is_the_documented_path():
    assert EXAMPLE.name == "example.yaml" and EXAMPLE.parent.name == "projects"


def test_every_problem_is_reported_in_one_run(example_data):
    example_data["tags"]["data_classification"] = "secret"
    example_data["environments"]["prod"] = {"network": {"aks_subnet": "10.30.0.0/24"}}
    problems = problems_of(example_data)
    assert any(problem.startswith("tags.data_classification:") for problem in problems)
    assert any(problem.startswith("environments.prod.network:") for problem in problems)
