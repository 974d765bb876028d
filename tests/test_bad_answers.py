"""Bad answers through the real cookiecutter CLI: one clear line each, non-zero exit, nothing written."""

import pytest

from dsplatform.naming import PROJECT_SLUG_MAX_LENGTH

from conftest import run_cookiecutter

BAD_ANSWERS = [
    ({"project": "Bad Name"}, "project: 'Bad Name' is not of the form"),
    ({"project": ""}, "project: is empty"),
    ({"project": "../escape"}, "project: '../escape' is not of the form"),
    ({"project": "a/b-c"}, "project: 'a/b-c' is not of the form"),
    ({"project": "x" * (PROJECT_SLUG_MAX_LENGTH + 1)}, f"the maximum is {PROJECT_SLUG_MAX_LENGTH}"),
    ({"project": "ab"}, "the minimum is 3"),
    ({"project_name": ""}, "project_name: is empty"),
    ({"owner_email": "data-science"}, "owner_email: 'data-science' is not an e-mail address"),
    ({"cicd": "jenkins"}, "cicd: 'jenkins' is not allowed; use one of: azure_devops, github"),
    ({"compute": "kubernetes"}, "compute: 'kubernetes' is not allowed; use one of: databricks, azureml, both"),
    ({"sample": "forecasting"}, "sample: 'forecasting' is not allowed; use one of: batch_scoring, many_models, both"),
    ({"python_version": "2.7"}, "python_version: '2.7' is not allowed; use one of: 3.11, 3.12"),
    ({"azure_location": "West Europa"}, "azure_location: 'West Europa' is not a supported Azure region name (did you mean 'westeurope'?)"),
    ({"cost_center": "CC&42"}, "cost_center: contains &"),
    ({"data_classification": "top-secret"}, "data_classification: 'top-secret' is not allowed"),
    ({"notebook_authors": "Jane Doe, ?"}, "notebook_authors: '?' has no letters or digits to name a folder with"),
    ({"notebook_authors": "shared"}, "notebook_authors: 'shared' would be the folder 'shared'"),
]


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS, ids=lambda value: str(value)[:40] if isinstance(value, dict) else None)
def test_bad_answer_is_refused_cleanly(tmp_path, answers, message):
    output = tmp_path / "out"
    output.mkdir()
    result = run_cookiecutter(output, **answers)
    said = result.stdout + result.stderr
    assert result.returncode != 0
    assert message in said
    assert "Traceback" not in said
    assert "Nothing was written" in said
    assert list(output.iterdir()) == [], "no partial directory is left behind"
    assert not (tmp_path / "escape").exists()


def test_several_bad_answers_are_reported_together(tmp_path):
    result = run_cookiecutter(tmp_path, project="X", cicd="jenkins", owner_email="nope")
    said = result.stderr
    assert result.returncode != 0
    assert all(f"  - {answer}:" in said for answer in ("project", "cicd", "owner_email"))
    assert list(tmp_path.iterdir()) == []
