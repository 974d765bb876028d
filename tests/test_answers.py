"""The answer rules in isolation: fast, and the same functions the hooks call."""

import pytest

from dsplatform.naming import PROJECT_SLUG_MAX_LENGTH, project_slug_problems, slug_from_name
from dsplatform.template import answer_problems, normalise_answers, notebook_authors, paths_to_prune, person_folder

from conftest import DEFAULTS

VALID = {key: value for key, value in DEFAULTS.items() if not key.startswith("_")} | {
    "project": "predictive-maintenance",
    "notebook_authors": "data.science",
}


@pytest.mark.parametrize(
    "name",
    [
        "Predictive Maintenance",
        "Prévision des ventes — Été 2026",
        "3D printing",
        "日本語のプロジェクト",
        "!!!",
        "ab",
        "x" * 200,
        "Ünïcödé " * 10,
    ],
)
def test_derived_slug_is_always_valid(name):
    slug = slug_from_name(name)
    assert project_slug_problems(slug) == []
    assert slug.isascii() and len(slug) <= PROJECT_SLUG_MAX_LENGTH


def test_slug_keeps_whole_words_when_it_can():
    assert slug_from_name("Predictive Maintenance") == "predictive-maintenance"
    assert slug_from_name("Prévision des ventes") == "prevision-des-ventes"
    assert slug_from_name("3D printing") == "p-3d-printing"
    # The 24-character cut falls exactly between two words: keep the whole first part.
    assert slug_from_name("Ånalyse des pannes — Usine №3") == "analyse-des-pannes-usine"
    # The cut falls inside a word: drop the partial word.
    assert slug_from_name("Analyse des pannes des usines") == "analyse-des-pannes-des"


def test_defaults_are_valid():
    assert answer_problems(VALID) == []
    assert answer_problems(VALID | {"owner_email": "o.neil+ml@example.com", "__package": "predictive_maintenance"}) == []


@pytest.mark.parametrize(
    ("answer", "value", "message"),
    [
        ("project", "Bad Name", "project: 'Bad Name' is not of the form"),
        ("project", "ab", "the minimum is 3"),
        ("project", "a" * (PROJECT_SLUG_MAX_LENGTH + 1), f"the maximum is {PROJECT_SLUG_MAX_LENGTH}"),
        ("project", "9lives", "starting with a letter"),
        ("project", "double--hyphen", "single hyphens"),
        ("owner_email", "not-an-email", "owner_email: 'not-an-email' is not an e-mail address"),
        # A leading '%' would open a YAML directive in the Databricks jobs' e-mail lists.
        ("owner_email", "%ops@example.com", "owner_email: '%ops@example.com' is not an e-mail address"),
        ("owner_email", "-ops@example.com", "owner_email: '-ops@example.com' is not an e-mail address"),
        ("description", "{{ 7*7 }}", "description: contains template syntax"),
        ("owner", "{% raw %}", "owner: contains template syntax"),
        # Derived from the slug; only a replay file can carry another value.
        ("__package", "../escape", "__package: is derived from project"),
        ("cicd", "jenkins", "cicd: 'jenkins' is not allowed; use one of: azure_devops, github"),
        ("compute", "kubernetes", "compute: 'kubernetes' is not allowed; use one of: databricks, azureml, both"),
        ("python_version", "2.7", "python_version: '2.7' is not allowed"),
        ("data_classification", "secret", "data_classification: 'secret' is not allowed"),
        ("azure_location", "West Europe", "did you mean 'westeurope'?"),
        ("cost_center", "CC/42", "cost_center: contains /"),
        ("owner", "", "owner: is empty"),
        ("project_name", "  ", "project_name: is empty"),
        ("notebook_authors", "alice, !!!", "notebook_authors: '!!!' has no letters or digits to name a folder with"),
        # Different names, one folder: 'bob.smith'.
        ("notebook_authors", "bob.smith, Bob Smith", "lists a person twice"),
        ("notebook_authors", "Examples", "'Examples' would be the folder 'examples', which the template uses"),
    ],
)
def test_each_bad_answer_is_named_with_its_allowed_form(answer, value, message):
    problems = answer_problems(VALID | {answer: value})
    assert any(message in problem for problem in problems), problems
    assert all(problem.startswith(f"{answer}:") for problem in problems)


def test_all_problems_are_reported_at_once():
    problems = answer_problems(VALID | {"project": "X", "cicd": "jenkins", "owner_email": "nope"})
    assert {problem.split(":")[0] for problem in problems} == {"project", "cicd", "owner_email"}


@pytest.mark.parametrize(
    ("cicd", "compute", "pruned"),
    [
        ("azure_devops", "both", [".fragments/github", ".github"]),
        ("github", "both", [".ado", ".fragments/azure_devops"]),
        (
            "github",
            "databricks",
            sorted(
                [
                    ".ado",
                    ".fragments/azure_devops",
                    ".fragments/azureml",
                    ".cloud/azureml",
                    "pipelines/azureml",
                    "code//batch_scoring/azureml_job.py",
                    "tests/batch_scoring/test_azureml_job.py",
                    "notebooks/examples/03_submit_training_job.ipynb",
                    ".ado/azureml.yml",
                    ".ado/azureml-deploy.yml",
                    ".github/workflows/azureml.yml",
                    ".cloud/datafactory",
                    ".ado/serving-azureml.yml",
                    ".github/workflows/serving-azureml.yml",
                ]
            ),
        ),
        (
            "azure_devops",
            "azureml",
            sorted(
                [
                    ".github",
                    ".fragments/github",
                    ".fragments/databricks",
                    "databricks.yml",
                    "pipelines/databricks",
                    ".cloud/databricks",
                    ".ado/databricks.yml",
                    ".ado/databricks-cli.yml",
                    ".github/workflows/databricks.yml",
                    "code//batch_scoring/feature_store_databricks.py",
                    "tests/batch_scoring/test_feature_store_databricks.py",
                ]
            ),
        ),
    ],
)
def test_pruning_follows_the_answers(cicd, compute, pruned):
    assert paths_to_prune({"cicd": cicd, "compute": compute}) == pruned


def test_each_sample_prunes_the_others_files_and_keeps_the_shared_ones():
    answers = {"cicd": "github", "compute": "both", "project": "sales-forecast"}
    batch_only = paths_to_prune(answers | {"sample": "batch_scoring"})
    many_only = paths_to_prune(answers | {"sample": "many_models"})
    assert "code/sales_forecast/many_models" in batch_only and "tests/many_models" in batch_only
    assert "code/sales_forecast/batch_scoring" in many_only and "tests/batch_scoring" in many_only
    assert not set(batch_only) & set(many_only) - {".ado", ".fragments/azure_devops"}
    shared = {"code/sales_forecast/core", "code/sales_forecast/__main__.py", "tests/conftest.py", "tests/core"}
    assert not shared & set(batch_only + many_only)
    assert paths_to_prune(answers | {"sample": "both"}) == [".ado", ".fragments/azure_devops"]


@pytest.mark.parametrize(
    ("text", "folder"),
    [
        ("Jane.Doe+ml@example.com", "jane.doe.ml"),
        ("42team@x.io", "u42team"),
        ("", "analyst"),
        ("Max Müller", "max.muller"),
        ("Zoë O'Brien", "zoe.o.brien"),
    ],
)
def test_person_folder_is_always_a_valid_folder(text, folder):
    assert person_folder(text) == folder


def test_authors_in_any_language_become_folders_and_folder_names_stay():
    answer = "Max Müller, alice_b, bob-c, jane.doe@example.com, 山田 太郎"
    assert answer_problems(VALID | {"notebook_authors": answer}) == []
    assert notebook_authors(answer) == ["max.muller", "alice_b", "bob-c", "jane.doe", "shan.tian.tai.lang"]


@pytest.mark.parametrize(
    ("answers", "normal"),
    [
        (
            {"data_classification": "Confidential", "cicd": "GitHub", "compute": " BOTH "},
            {"data_classification": "confidential", "cicd": "github", "compute": "both"},
        ),
        ({"azure_location": "West Europe"}, {"azure_location": "westeurope"}),
        ({"azure_location": "East US 2"}, {"azure_location": "eastus2"}),
        ({"cicd": "githb", "azure_location": "West Europa", "python_version": "3.1"}, {}),
        (VALID, {}),
    ],
)
def test_answers_with_a_clear_meaning_are_put_in_their_normal_form(answers, normal):
    assert normalise_answers(answers) == normal
    assert answer_problems(VALID | answers | normal) == [] or not normal
