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
from dsplatform.template.update import RECORD_FILE

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


def test_cookiecutter_dot_inside_the_template_records_the_template_not_the_project(tmp_path):
    """`cookiecutter .` from a clone gives the hook "." as the template; resolved inside the new
    project it would name the project as its own template, and `project update` would render
    from the wrong place."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cookiecutter"), "--no-input", ".", "-o", str(tmp_path), "project=dot-run"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads((tmp_path / "dot-run" / RECORD_FILE).read_text())
    assert record["template"] == str(REPO_ROOT) == record["context"]["cookiecutter"]["_template"]


def test_update_merges_template_changes_keeps_local_edits_and_reports_conflicts(tmp_path, template_repo, capsys):
    project = generate_from(template_repo, tmp_path / "out")
    readme = project / "README.md"
    local_line = readme.read_text().splitlines()[0]
    edit(readme, local_line, local_line + " (edited by the team)")
    commit_all(project, "local edit")

    # 1. The template changes another file: merged, local edit kept.
    edit(
        template_repo / "{{cookiecutter.project}}/.fragments/all/docs/local.md/50-notebooks.md",
        "\n",
        "\n\nTemplate v2 adds this paragraph.\n",
    )
    v2 = commit_all(template_repo, "template v2: docs")
    # The copy is not the platform's own template: the person updating names it.
    assert dsplatform(["project", "update", str(project), "--check", "--template", str(template_repo)]) == 1
    assert dsplatform(["project", "update", str(project), "--template", str(template_repo)]) == 0
    assert "Template v2 adds this paragraph." in (project / "docs/local.md").read_text()
    assert "(edited by the team)" in readme.read_text()
    assert json.loads((project / RECORD_FILE).read_text())["commit"] == v2
    commit_all(project, "template v2")

    # 2. Nothing new: a clean no-op.
    capsys.readouterr()
    assert dsplatform(["project", "update", str(project), "--template", str(template_repo)]) == 0
    assert "nothing to update" in capsys.readouterr().out
    assert git(project, "status", "--porcelain") == ""

    # 3. A dirty working tree is refused, untouched.
    (project / "scratch.txt").write_text("work in progress")
    assert dsplatform(["project", "update", str(project), "--template", str(template_repo)]) == 2
    assert "uncommitted changes" in capsys.readouterr().err
    (project / "scratch.txt").unlink()

    # 4. The template changes the line the team edited: a conflict, reported, never overwritten.
    template_readme = template_repo / TEMPLATE_README
    template_first = template_readme.read_text().splitlines()[0]
    edit(template_readme, template_first, template_first + " (template v3)")
    commit_all(template_repo, "template v3: README title")
    capsys.readouterr()
    assert dsplatform(["project", "update", str(project), "--template", str(template_repo)]) == 1
    output = capsys.readouterr().out
    assert "CONFLICTS" in output and "README.md" in output
    merged = readme.read_text()
    assert "<<<<<<< project" in merged and "(edited by the team)" in merged and "(template v3)" in merged


# ----------------------------------------------------------------------------- hostile records
# Anyone who can commit to a team's repository can edit its .cruft.json; the platform's
# update job must not run their code. Each attack would create MARKER if it worked.


def commit_record(project: Path, change) -> None:
    record = json.loads((project / RECORD_FILE).read_text())
    change(record)
    (project / RECORD_FILE).write_text(json.dumps(record, indent=2))
    commit_all(project, "edit the record")


def attack_marker(tmp_path: Path) -> Path:
    return tmp_path / "MARKER"


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (
            lambda record, marker: record["context"]["cookiecutter"].update(
                description=f"{{{{ cycler.__init__.__globals__.os.system('touch {marker}') }}}}"
            ),
            "  - description: contains template syntax",
        ),
        (
            lambda record, marker: record["context"]["cookiecutter"].update({f"--replay-file={marker}.json --x": "1"}),
            "is not an answer name",
        ),
        (
            lambda record, marker: record["context"]["cookiecutter"].update(project="../escape"),
            "  - project: '../escape' is not of the form",
        ),
        (lambda record, marker: record.update(commit=f"--output={marker}"), "is not a commit id"),
    ],
    ids=["template-syntax", "option-like-name", "path-like-slug", "option-like-commit"],
)
def test_hostile_recorded_answers_are_refused_before_anything_renders(tmp_path, template_repo, capsys, change, said):
    marker = attack_marker(tmp_path)
    project = generate_from(template_repo, tmp_path / "out")
    commit_record(project, lambda record: change(record, marker))
    edit(template_repo / "{{cookiecutter.project}}/.fragments/all/docs/local.md/50-notebooks.md", "\n", "\n\nTemplate v2.\n")
    commit_all(template_repo, "template v2")
    head = git(project, "rev-parse", "HEAD")
    capsys.readouterr()

    assert dsplatform(["project", "update", str(project), "--template", str(template_repo)]) == 2
    err = capsys.readouterr().err
    assert said in err, err
    assert "nothing was rendered" in err or "is not a commit id" in err
    assert "Traceback" not in err
    assert not marker.exists() and not list(tmp_path.glob("MARKER*"))
    assert git(project, "status", "--porcelain") == "" and git(project, "rev-parse", "HEAD") == head


def attacker_template(folder: Path, marker: Path) -> tuple[Path, str]:
    """A template whose pre-generation hook would run a command: two commits, so an update renders it."""
    (folder / "{{cookiecutter.project}}").mkdir(parents=True)
    (folder / "cookiecutter.json").write_text(json.dumps({"project": "x"}))
    (folder / "{{cookiecutter.project}}" / "README.md").write_text("v1\n")
    (folder / "hooks").mkdir()
    (folder / "hooks" / "pre_gen_project.py").write_text(f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n")
    git(folder, "init", "--quiet", "--initial-branch=main")
    first = commit_all(folder, "v1")
    (folder / "{{cookiecutter.project}}" / "README.md").write_text("v2\n")
    commit_all(folder, "v2")
    return folder, first


def test_a_recorded_template_that_is_not_the_platforms_is_refused_unless_named(tmp_path, capsys):
    marker = attack_marker(tmp_path)
    attacker, first = attacker_template(tmp_path / "attacker", marker)
    project = generate(tmp_path / "out")
    assert json.loads((project / RECORD_FILE).read_text())["template"] == str(REPO_ROOT)
    # The platform's own template is accepted as recorded.
    assert dsplatform(["project", "update", str(project), "--check"]) in (0, 1)
    capsys.readouterr()

    commit_record(project, lambda record: record.update(template=str(attacker), commit=first))
    for command in (["project", "update", str(project)], ["project", "update", str(project), "--check"]):
        assert dsplatform(command) == 2
        err = capsys.readouterr().err
        assert f"the recorded template '{attacker}' is not the platform's template" in err, err
        assert f"pass --template {attacker}" in err
        assert len(err.strip().splitlines()) == 1
    assert not marker.exists()
    assert git(project, "status", "--porcelain") == ""
