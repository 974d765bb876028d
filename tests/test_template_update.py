"""Updating a generated project to a newer template, on real git repositories.

The template is a git copy of this working tree; the project is generated from it with
cookiecutter, edited and committed like a team would; then the template changes and
`dsplatform project update` merges the change.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dsplatform.cli import main as dsplatform
from dsplatform.template_update import RECORD_FILE

from conftest import REPO_ROOT, generate

IDENTITY = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]


def git(folder: Path, *arguments: str) -> str:
    return subprocess.run(["git", *IDENTITY, *arguments], cwd=folder, capture_output=True, text=True, check=True).stdout.strip()


def commit_all(folder: Path, message: str) -> str:
    git(folder, "add", "--all")
    git(folder, "commit", "--quiet", "--no-verify", "-m", message)
    return git(folder, "rev-parse", "HEAD")


@pytest.fixture
def template_repo(tmp_path: Path) -> Path:
    """This template's files (committed or not, minus ignored ones) as a fresh one-commit git repository."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO_ROOT, capture_output=True, check=True
    ).stdout.decode()
    template = tmp_path / "template"
    for relative in filter(None, listed.split("\0")):
        source = REPO_ROOT / relative
        if source.is_file():
            (template / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, template / relative)
    git(template, "init", "--quiet", "--initial-branch=main")
    commit_all(template, "template v1")
    return template


def generate_from(template: Path, output: Path) -> Path:
    """Generate with cookiecutter's CLI, as users do, from the temporary template repository."""
    result = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(output), str(template)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (project,) = output.iterdir()
    return project


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


TEMPLATE_README = "{{cookiecutter.project}}/.fragments/all/README.md/10-intro.md"


def test_generated_project_records_template_and_answers_like_cruft(tmp_path):
    project = generate(tmp_path, compute="azureml")
    record = json.loads((project / RECORD_FILE).read_text())
    assert set(record) == {"template", "commit", "checkout", "context", "directory"}
    assert record["template"] == str(REPO_ROOT)
    head = git(REPO_ROOT, "rev-parse", "HEAD")
    assert record["commit"] == head
    answers = record["context"]["cookiecutter"]
    assert answers["compute"] == "azureml" and answers["_template"] == str(REPO_ROOT) and answers["_commit"] == head
    assert "_output_dir" not in answers, "machine-local paths are not answers"


def test_update_merges_template_changes_keeps_local_edits_and_reports_conflicts(tmp_path, template_repo, capsys):
    project = generate_from(template_repo, tmp_path / "out")
    readme = project / "README.md"
    local_line = readme.read_text().splitlines()[0]
    edit(readme, local_line, local_line + " (edited by the team)")
    commit_all(project, "local edit")

    # 1. The template changes another file: merged, local edit kept.
    edit(template_repo / "{{cookiecutter.project}}/docs/local.md", "\n", "\n\nTemplate v2 adds this paragraph.\n")
    v2 = commit_all(template_repo, "template v2: docs")
    assert dsplatform(["project", "update", str(project), "--check"]) == 1
    assert dsplatform(["project", "update", str(project)]) == 0
    assert "Template v2 adds this paragraph." in (project / "docs/local.md").read_text()
    assert "(edited by the team)" in readme.read_text()
    assert json.loads((project / RECORD_FILE).read_text())["commit"] == v2
    commit_all(project, "template v2")

    # 2. Nothing new: a clean no-op.
    capsys.readouterr()
    assert dsplatform(["project", "update", str(project)]) == 0
    assert "nothing to update" in capsys.readouterr().out
    assert git(project, "status", "--porcelain") == ""

    # 3. A dirty working tree is refused, untouched.
    (project / "scratch.txt").write_text("work in progress")
    assert dsplatform(["project", "update", str(project)]) == 2
    assert "uncommitted changes" in capsys.readouterr().err
    (project / "scratch.txt").unlink()

    # 4. The template changes the line the team edited: a conflict, reported, never overwritten.
    template_readme = template_repo / TEMPLATE_README
    template_first = template_readme.read_text().splitlines()[0]
    edit(template_readme, template_first, template_first + " (template v3)")
    commit_all(template_repo, "template v3: README title")
    capsys.readouterr()
    assert dsplatform(["project", "update", str(project)]) == 1
    output = capsys.readouterr().out
    assert "CONFLICTS" in output and "README.md" in output
    merged = readme.read_text()
    assert "<<<<<<< project" in merged and "(edited by the team)" in merged and "(template v3)" in merged
