"""The interactive session as a person types it, driven through a terminal (pexpect).

Cookiecutter asks each question in order; these tests answer them like a person would:
choices in another case, a region written as Azure's portal shows it, author names in any
language, and a typo that gets the answers refused, saved and offered back on the next run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pexpect
import pytest
import yaml

from conftest import REPO_ROOT

COOKIECUTTER = Path(sys.executable).parent / "cookiecutter"
QUESTIONS = [key for key in json.loads((REPO_ROOT / "cookiecutter.json").read_text()) if not key.startswith("_")]


def session(tmp_path: Path, answers: dict[str, str], *arguments: str) -> tuple[int, str]:
    """Run cookiecutter in a terminal, answer each question (Enter keeps the default)."""
    config = tmp_path / "user-config.yaml"
    if not config.exists():
        config.write_text(f"replay_dir: {tmp_path / 'replay'}\n")
    if "--config-file" not in arguments:
        arguments = ("--config-file", str(config), *arguments)
    child = pexpect.spawn(
        str(COOKIECUTTER),
        [*arguments, "--output-dir", str(tmp_path / "out"), str(REPO_ROOT)],
        cwd=str(tmp_path),
        env={"NO_COLOR": "1", "TERM": "dumb", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        encoding="utf-8",
        timeout=120,
        dimensions=(50, 250),
    )
    for number, question in enumerate(QUESTIONS, 1):
        child.expect_exact(f"[{number}/{len(QUESTIONS)}]")
        child.sendline(answers.get(question, ""))
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, child.before


def test_choices_regions_and_names_are_understood_as_meant(tmp_path):
    status, said = session(
        tmp_path,
        {
            "project_name": "Prévision des ventes",
            "data_classification": "Confidential",
            "cicd": "GitHub",
            "azure_location": "West Europe",
            "notebook_authors": "Max Müller, alice_b, 山田 太郎",
        },
    )
    assert status == 0, said
    (project,) = (tmp_path / "out").iterdir()
    assert project.name == "prevision-des-ventes"
    answers = json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]
    assert (answers["data_classification"], answers["cicd"], answers["azure_location"]) == ("confidential", "github", "westeurope")
    assert (project / ".github").is_dir() and not (project / ".ado").exists()
    assert {path.name for path in (project / "notebooks").iterdir()} >= {"max.muller", "alice_b", "shan.tian.tai.lang"}


def test_refused_answers_are_saved_and_a_rerun_starts_from_them(tmp_path):
    typed = {"project_name": "Churn Model", "owner": "Growth Team", "owner_email": "growth-at-example.com", "cicd": "githb"}
    status, said = session(tmp_path, typed)
    assert status == 1
    assert "  - owner_email: 'growth-at-example.com' is not an e-mail address" in said
    assert "  - cicd: 'githb' is not allowed; use one of: azure_devops, github" in said
    assert "Traceback" not in said
    saved = tmp_path / "cookiecutter-answers.yaml"
    assert f"--config-file {saved}" in said.replace("\r\n", " ").replace("\n", " ")
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
    assert yaml.safe_load(saved.read_text())["default_context"]["owner"] == "Growth Team"

    # The re-run offers every earlier answer as the default: only the two typos are retyped.
    status, said = session(tmp_path, {"owner_email": "growth@example.com", "cicd": "github"}, "--config-file", str(saved))
    assert status == 0, said
    (project,) = (tmp_path / "out").iterdir()
    answers = json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]
    assert (answers["project_name"], answers["owner"], answers["project"]) == ("Churn Model", "Growth Team", "churn-model")
    assert (answers["owner_email"], answers["cicd"]) == ("growth@example.com", "github")


@pytest.mark.parametrize("answer", ["{{ 7*7 }}"])
def test_typed_template_syntax_is_refused_and_never_run(tmp_path, answer):
    status, said = session(tmp_path, {"description": answer})
    assert status == 1
    assert "  - description: contains template syntax" in said and "49" not in said
