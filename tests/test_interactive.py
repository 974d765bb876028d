"""The interactive session as a person types it, driven through a terminal (pexpect).

Cookiecutter asks each question in order; these tests answer them like a person would:
fixed choices from numbered menus (a typo there is asked again at once), a region written
as Azure's portal shows it, author names in any language, and a free-text typo that gets
the answers refused, saved and offered back on the next run.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pexpect
import pytest
import yaml

from dsplatform.vocabulary import CHOICES

from conftest import REPO_ROOT

COOKIECUTTER = Path(sys.executable).parent / "cookiecutter"
QUESTIONS = [key for key in json.loads((REPO_ROOT / "cookiecutter.json").read_text()) if not key.startswith("_")]


def session(tmp_path: Path, answers: dict[str, str | list[str]], *arguments: str) -> tuple[int, str]:
    """Run cookiecutter in a terminal, answer each question (Enter keeps the default).

    A list answers a menu several times: every entry but the last must be refused and the
    same menu asked again."""
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
    transcript = io.StringIO()
    child.logfile_read = transcript
    for number, question in enumerate(QUESTIONS, 1):
        child.expect_exact(f"[{number}/{len(QUESTIONS)}]")
        typed = answers.get(question, "")
        for attempt, line in enumerate(typed if isinstance(typed, list) else [typed]):
            if attempt:
                child.expect_exact("Please select one of the available options")
                child.expect_exact(f"[{number}/{len(QUESTIONS)}]")
            if question in CHOICES:
                child.expect_exact("Choose from")
            child.sendline(line)
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, transcript.getvalue()


def test_choices_regions_and_names_are_understood_as_meant(tmp_path):
    status, said = session(
        tmp_path,
        {
            "project_name": "Prévision des ventes",
            # The menus list the default first: internal, public, confidential, restricted.
            "data_classification": "3",
            "cicd": "2",
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


def test_a_menu_asks_again_after_a_typo_and_keeps_the_answers_before_it(tmp_path):
    status, said = session(tmp_path, {"owner": "Growth Team", "cicd": ["githb", "GitHub", "7", "2"], "compute": ""})
    assert status == 0, said
    assert said.count("Please select one of the available options") == 3
    (project,) = (tmp_path / "out").iterdir()
    answers = json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]
    assert (answers["owner"], answers["cicd"], answers["compute"]) == ("Growth Team", "github", "both")


def test_every_fixed_choice_is_a_menu_of_exactly_its_allowed_values(tmp_path):
    status, said = session(tmp_path, {})
    assert status == 0, said
    text = said.replace("\r\n", "\n")
    for question, allowed in CHOICES.items():
        number = QUESTIONS.index(question) + 1
        block = text.split(f"[{number}/{len(QUESTIONS)}]", 1)[1].split("Choose from", 1)[0]
        shown = [line.split(" - ", 1)[1].split(" ", 1)[0] for line in block.splitlines() if " - " in line]
        assert sorted(shown) == sorted(allowed), (question, block)


def test_refused_answers_are_saved_and_a_rerun_starts_from_them(tmp_path):
    typed = {"project_name": "Churn Model", "owner": "Growth Team", "owner_email": "growth-at-example.com", "cicd": "2"}
    status, said = session(tmp_path, typed)
    assert status == 1
    assert "  - owner_email: 'growth-at-example.com' is not an e-mail address" in said
    assert "Traceback" not in said
    saved = tmp_path / "cookiecutter-answers.yaml"
    assert f"--config-file {saved}" in said.replace("\r\n", " ").replace("\n", " ")
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
    assert yaml.safe_load(saved.read_text())["default_context"]["owner"] == "Growth Team"

    assert yaml.safe_load(saved.read_text())["default_context"]["cicd"] == "github"

    # The re-run offers every earlier answer as the default (a menu lists it first): only the typo is retyped.
    status, said = session(tmp_path, {"owner_email": "growth@example.com"}, "--config-file", str(saved))
    assert status == 0, said
    (project,) = (tmp_path / "out").iterdir()
    answers = json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]
    assert (answers["project_name"], answers["owner"], answers["project"]) == ("Churn Model", "Growth Team", "churn-model")
    assert (answers["owner_email"], answers["cicd"]) == ("growth@example.com", "github")


@pytest.mark.parametrize("answer", ["{{ 7*7 }}"])
def test_typed_template_syntax_is_refused_and_never_run(tmp_path, answer):
    status, said = session(tmp_path, {"description": answer})
    assert status == 1
    # Paths (pytest-749, the clone's folder) may hold any digits: only the rest of what was said counts.
    said = said.replace(str(tmp_path), "<tmp>").replace(str(REPO_ROOT), "<template>")
    assert "  - description: contains template syntax" in said and "49" not in said
    saved = yaml.safe_load((tmp_path / "cookiecutter-answers.yaml").read_text())["default_context"]
    # Saved answers are read as Jinja on the re-run, so the hostile one is left out: it is asked afresh.
    assert "description" not in saved and saved["project_name"] == "Predictive Maintenance"
