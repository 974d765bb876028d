"""What the template CI command (`python -m ci.template_ci`, run by `make test`) does not cover.

The command renders every option combination and checks each one's exact file set,
leftover template syntax, ruff, every YAML file with its official validator and the
notebooks. These tests check the matrix itself, the answers reaching the files and git.
"""

from __future__ import annotations

import itertools
import subprocess

import pytest

from ci.template_ci import CONDITIONAL_FILES, MATRIX_ANSWERS, OPTION_MATRIX, PACKAGE, expected_files, generated_files
from ci.validators import validate_python
from dsplatform.naming import PROJECT_SLUG_MAX_LENGTH, PROJECT_SLUG_MIN_LENGTH
from dsplatform.template import CHOICES, OPTIONAL_PATHS, first_run_command, paths_to_prune

from conftest import DEFAULTS, generate


def test_the_matrix_covers_every_answer_that_prunes_files():
    assert set(OPTIONAL_PATHS) <= set(MATRIX_ANSWERS)
    assert len(OPTION_MATRIX) == len(list(itertools.product(*(CHOICES[answer] for answer in MATRIX_ANSWERS))))
    assert len({tuple(answers.items()) for answers in OPTION_MATRIX}) == len(OPTION_MATRIX)


def test_no_expected_file_lies_under_a_path_its_answers_prune():
    for answers in OPTION_MATRIX:
        pruned = paths_to_prune(answers)
        for path in expected_files(answers):
            assert not any(path == prefix or path.startswith(f"{prefix}/") for prefix in pruned), (answers, path)


def test_every_conditional_file_is_expected_somewhere():
    everywhere = set().union(*(expected_files(answers) for answers in OPTION_MATRIX))
    assert set().union(*CONDITIONAL_FILES.values()) <= everywhere


def test_git_repository_starts_with_one_commit(tmp_path):
    project = generate(tmp_path)
    log = subprocess.run(["git", "log", "--oneline"], cwd=project, capture_output=True, text=True, check=True).stdout
    assert len(log.splitlines()) == 1
    status = subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=True).stdout
    assert status == "", "every generated file is committed"
    assert DEFAULTS["cicd"] == "azure_devops" and (project / ".ado" / "pr.yml").is_file()


def test_answers_reach_the_files(tmp_path):
    project = generate(
        tmp_path,
        project_name="Prévision des ventes — Été",
        owner="Équipe Données",
        notebook_authors="alice, bob.smith",
        cicd="github",
        compute="azureml",
    )
    assert project.name == "prevision-des-ventes-ete"
    assert (project / "code" / "prevision_des_ventes_ete" / "core" / "cli.py").exists()
    assert {path.name for path in (project / "notebooks").iterdir()} >= {"alice", "bob.smith", "examples"}
    assert "Prévision des ventes — Été" in (project / "README.md").read_text(encoding="utf-8")
    assert 'name = "prevision-des-ventes-ete"' in (project / "pyproject.toml").read_text(encoding="utf-8")
    # Azure names come from the naming module, as infra creates them.
    deploy = (project / "pipelines" / "azureml" / "deploy.sh").read_text(encoding="utf-8")
    assert 'workspace="mlw-prevision-des-ventes-ete-prd"' in deploy
    train_component = project / ".cloud" / "azureml" / "components" / "batch_scoring" / "train.yml"
    assert "python -m prevision_des_ventes_ete.batch_scoring train" in train_component.read_text()


def test_the_hook_names_a_make_target_that_runs_the_generated_sample(tmp_path):
    """The hint printed after generation must work: a many-models-only project has no batch-scoring pipeline."""
    for sample, target in (("both", "pipeline"), ("batch_scoring", "pipeline"), ("many_models", "many-models")):
        assert first_run_command({"sample": sample}) == f"make {target}"
    project = generate(tmp_path, sample="many_models")
    package = project / "code" / project.name.replace("-", "_")
    assert "\nmany-models:" in (package / "many_models" / "targets.mk").read_text(encoding="utf-8")
    assert "\npipeline:" not in (project / "Makefile").read_text(encoding="utf-8")
    assert not (package / "batch_scoring").exists()
    targets = subprocess.run(["make", "-C", str(project), "-pn"], capture_output=True, text=True, check=False).stdout
    assert "\nmany-models:" in targets and "\nserve:" in targets and "\npipeline:" not in targets, (
        "make knows only the present sample's targets"
    )


def test_one_sample_alone_holds_nothing_of_the_other(tmp_path):
    """A many-models-only project contains nothing of batch scoring, and the reverse: exactly the expected files,
    and a README and docs index that describe only the sample, compute and CI that were generated."""
    cases = (
        ("many_models", "batch_scoring", {"compute": "databricks", "cicd": "github"}, ("Azure ML", "azureml", "batch", ".ado")),
        ("batch_scoring", "many_models", {"compute": "azureml", "cicd": "azure_devops"}, ("Databricks", "many", ".github")),
    )
    for sample, other, platform, absent in cases:
        answers = {"sample": sample, **platform}
        project = generate(tmp_path / sample, **answers)
        files = generated_files(project)
        assert files == expected_files({**DEFAULTS, **answers}), sorted(files ^ expected_files({**DEFAULTS, **answers}))
        for marker in {other, other.replace("_", "-")}:
            assert not [path for path in files if marker in path], (sample, sorted(path for path in files if marker in path))
        assert f"code/{PACKAGE}/{sample}/cli.py" in files and f"tests/{sample}/conftest.py" in files
        ci_folder = ".github/" if answers["cicd"] == "github" else ".ado/"
        for document in ("README.md", "docs/index.md"):
            text = (project / document).read_text(encoding="utf-8")
            assert not [word for word in absent if word in text], (sample, document, [word for word in absent if word in text])
            assert "{{" not in text and "arrives with" not in text, document
        readme = (project / "README.md").read_text(encoding="utf-8")
        assert f"| `{ci_folder}` |" in readme, "the layout table names the CI folder that was chosen"
        assert ("make many-models" in readme) == (sample == "many_models") and ("make pipeline" in readme) == (sample == "batch_scoring")


def test_the_readme_of_both_samples_lists_both_quick_starts(tmp_path):
    readme = (generate(tmp_path) / "README.md").read_text(encoding="utf-8")
    for command in ("make pipeline", "make many-models", "make serve", "batch-scoring score", "many-models train"):
        assert command in readme, command
    assert "Databricks" in readme and "Azure ML" in readme


@pytest.mark.parametrize("project", ["abc", "m" + "-x1" * 7 + "zz"])
def test_lint_is_clean_for_the_shortest_and_longest_package_names(tmp_path, project):
    """ruff wraps a line by its length, and the package name is part of some lines: a file
    formatted for the default name could fail `make lint` in a project with another one."""
    assert len(project) in (PROJECT_SLUG_MIN_LENGTH, PROJECT_SLUG_MAX_LENGTH)
    assert validate_python(generate(tmp_path, project=project)) == []
