"""Answers are data: no answer runs as a template, and none breaks the file it lands in.

Every attack here would create a marker file if it worked. Each test asserts the marker is
absent, what the person running cookiecutter sees, and that no project folder is left.
The three ways cookiecutter renders answers: `--no-input key=value` (its Python API and
its real command line), a config file's `default_context`, and a replay file.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from dsplatform.template import package_name

from conftest import DEFAULTS, REPO_ROOT, generate

COOKIECUTTER = Path(sys.executable).parent / "cookiecutter"
FREE_TEXT_ANSWERS = ("project_name", "description", "owner", "owner_email", "cost_center", "notebook_authors")


def attack(marker: Path) -> str:
    """Jinja reaching Python's globals through a built-in object: a shell command if evaluated."""
    return f"{{{{ cycler.__init__.__globals__.os.system('touch {marker}') }}}}"


def cli(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess:
    """cookiecutter's own command line, with its replay and clone folders kept in tmp_path."""
    config = tmp_path / "user-config.yaml"
    if "--config-file" not in arguments:
        config.write_text(f"replay_dir: {tmp_path / 'replay'}\ncookiecutters_dir: {tmp_path / 'cookiecutters'}\n")
        arguments = ("--config-file", str(config), *arguments)
    return subprocess.run([str(COOKIECUTTER), *arguments], capture_output=True, text=True, timeout=300, check=False)


def assert_refused(result: subprocess.CompletedProcess, output: Path, line: str) -> None:
    said = result.stdout + result.stderr
    assert result.returncode == 1, said
    assert f"\n  - {line}" in said, said
    assert "Traceback" not in said and "Nothing was written" in said
    assert list(output.iterdir()) == [], "no project folder is left behind"


@pytest.mark.parametrize("answer", FREE_TEXT_ANSWERS)
def test_no_input_answer_is_never_evaluated_python_api(tmp_path, answer):
    from cookiecutter.main import cookiecutter

    marker = tmp_path / "MARKER"
    output = tmp_path / "out"
    said = io.StringIO()
    with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said), pytest.raises(SystemExit) as refused:
        cookiecutter(str(REPO_ROOT), no_input=True, extra_context={answer: attack(marker)}, output_dir=str(output))
    assert refused.value.code == 1
    assert not marker.exists()
    assert f"  - {answer}: contains template syntax" in said.getvalue(), said.getvalue()
    assert not output.exists() or list(output.iterdir()) == []


def test_no_input_answer_is_never_evaluated_command_line(tmp_path):
    marker = tmp_path / "MARKER"
    output = tmp_path / "out"
    output.mkdir()
    result = cli(tmp_path, "--no-input", "--output-dir", str(output), str(REPO_ROOT), f"description={attack(marker)}")
    assert not marker.exists()
    assert_refused(result, output, "description: contains template syntax")


def test_harmless_looking_template_syntax_is_refused_not_computed(tmp_path):
    output = tmp_path / "out"
    output.mkdir()
    result = cli(tmp_path, "--no-input", "--output-dir", str(output), str(REPO_ROOT), "owner={{ 7*7 }}")
    assert_refused(result, output, "owner: contains template syntax")


def test_the_refusal_of_template_syntax_names_every_other_mistake_too(tmp_path):
    """One run names every bad answer: the template-syntax refusal comes while cookiecutter renders
    its answers, and the other answers given as plain text are checked there as well."""
    output = tmp_path / "out"
    output.mkdir()
    answers = ("description={{ 7*7 }}", "project=Bad_Name", "owner_email=nobody", "cicd=GitHub", "data_classification=Confidential")
    result = cli(tmp_path, "--no-input", "--output-dir", str(output), str(REPO_ROOT), *answers)
    assert_refused(result, output, "description: contains template syntax")
    said = result.stdout + result.stderr
    assert "\n  - project: 'Bad_Name' is not of the form" in said and "\n  - owner_email: 'nobody'" in said, said
    assert "cicd" not in said and "data_classification" not in said, "answers whose meaning is clear are taken, not refused"
    assert said.count("\n  - ") == 3, said


def test_config_file_default_context_is_never_evaluated(tmp_path):
    marker = tmp_path / "MARKER"
    output = tmp_path / "out"
    output.mkdir()
    config = tmp_path / "config.yaml"
    config.write_text(
        f"replay_dir: {tmp_path / 'replay'}\ndefault_context:\n  cost_center: {json.dumps(attack(marker))}\n", encoding="utf-8"
    )
    result = cli(tmp_path, "--no-input", "--config-file", str(config), "--output-dir", str(output), str(REPO_ROOT))
    assert not marker.exists()
    assert_refused(result, output, "cost_center: contains template syntax")


def replay_file(tmp_path: Path, **answers: str) -> Path:
    """A replay file as cookiecutter writes one, with some answers replaced."""
    context = {key: value for key, value in DEFAULTS.items() if not key.startswith("__")}
    context |= {"project": "predictive-maintenance", "notebook_authors": "data.science", "__package": "predictive_maintenance"}
    path = tmp_path / "replay.json"
    path.write_text(json.dumps({"cookiecutter": context | answers}), encoding="utf-8")
    return path


def test_replayed_answer_is_never_evaluated(tmp_path):
    marker = tmp_path / "MARKER"
    output = tmp_path / "out"
    output.mkdir()
    replay = replay_file(tmp_path, project_name=attack(marker))
    result = cli(tmp_path, "--replay-file", str(replay), "--output-dir", str(output), str(REPO_ROOT))
    assert not marker.exists()
    assert_refused(result, output, "project_name: contains template syntax")


@pytest.mark.parametrize(
    ("answers", "line"),
    [
        ({"project": "../escape"}, "project: makes the file or folder name '../escape', which leaves its folder"),
        ({"__package": "../../escape"}, "__package: is derived from project"),
    ],
)
def test_replayed_names_cannot_move_files_or_folders(tmp_path, answers, line):
    """A replay carries the slug and the derived `__package` unrendered; cookiecutter makes
    the project folder from the slug before any hook runs, so names are checked as they render."""
    output = tmp_path / "deep" / "out"
    output.mkdir(parents=True)
    result = cli(tmp_path, "--replay-file", str(replay_file(tmp_path, **answers)), "--output-dir", str(output), str(REPO_ROOT))
    assert_refused(result, output, line)
    assert not (tmp_path / "deep" / "escape").exists() and not (tmp_path / "escape").exists()


def test_replayed_package_cannot_move_files_even_with_hooks_off(tmp_path):
    """With --accept-hooks no, the pre-generation check does not run; the file names still may not move."""
    output = tmp_path / "deep" / "out"
    output.mkdir(parents=True)
    replay = replay_file(tmp_path, __package="../../escape")
    result = cli(tmp_path, "--accept-hooks", "no", "--replay-file", str(replay), "--output-dir", str(output), str(REPO_ROOT))
    said = result.stdout + result.stderr
    assert result.returncode == 1 and "Traceback" not in said
    assert "  - __package: makes the file or folder name" in said, said
    assert not (tmp_path / "deep" / "escape").exists() and not (tmp_path / "escape").exists()


# ----------------------------------------------------------------------------- target formats

BREAKOUT = '''X""";__import__("os").system("touch {marker}");"""'''


def test_free_text_stays_text_in_python_toml_and_markdown(tmp_path):
    """A name that closes the package docstring, and quotes and backslashes in pyproject.toml."""
    marker = Path("/tmp") / f"M{tmp_path.name[-12:]}"  # the name has at most 80 characters
    answers = {
        "project_name": BREAKOUT.format(marker=marker),
        "project": "breakout",
        "description": 'He said "hi" \\ then <!-- hidden --> [link](http://x) **bold** # 1',
        "owner": 'Team "Q"',
    }
    project = generate(tmp_path / "out", **answers)
    package = project / "code" / package_name("breakout")
    # Importing the package is what `make setup` and every test do: it must run nothing.
    imported = subprocess.run(
        [sys.executable, "-c", "import breakout; print(breakout.__doc__.splitlines()[0])"],
        cwd=package.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert not marker.exists()
    assert imported.stdout.strip() == f"{answers['project_name']}: {answers['description']}"
    assert ast.get_docstring(ast.parse((package / "__init__.py").read_text())).startswith(answers["project_name"])

    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert pyproject["description"] == answers["description"]
    assert pyproject["authors"][0]["name"] == answers["owner"]

    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "<!--" not in readme and "[link](" not in readme and "**bold**" not in readme


def test_escape_filters_are_the_ones_used_for_free_text_in_every_format():
    """Every free-text answer in the template passes through its file format's filter."""
    import re

    expected = {".py": "py_str", ".toml": "toml_str", ".md": "md_text", ".json": "json_str", ".ipynb": "json_str", ".yml": "yaml_str"}
    found = []
    for path in (REPO_ROOT / "{{cookiecutter.project}}").rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for answer, filters in re.findall(r"cookiecutter\.(project_name|description|owner|cost_center)\b((?:\s*\|\s*\w+)*)", text):
            wanted = expected.get(path.suffix, "shell_quote")
            assert wanted in filters, f"{path.relative_to(REPO_ROOT)}: {answer} needs | {wanted}"
            found.append(answer)
    assert set(found) == {"project_name", "description", "owner", "cost_center"}
