"""Hostile text in every free-text answer: a clean refusal, or a repository that reads back.

Generated strings mix template syntax, quotes, triple quotes, backslashes, line breaks,
control characters, Markdown and HTML, and TOML and YAML specials, and some carry a command
that would create a marker file if it ran. Each answer set, rendered through cookiecutter's
Python API, ends either in a refusal (exit 1, one line per problem naming the answer, no
folder) or in a repository whose Python compiles and whose package imports, whose TOML,
YAML, JSON and notebooks parse, and where each value reads back exactly from the files it
landed in. The post-generation git step is skipped (no git on PATH) to keep this fast.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import tomllib
from pathlib import Path

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dsplatform.escaping import md_unescape
from dsplatform.template import answer_problems, notebook_authors, package_name, person_folder, slug_filter

from conftest import DEFAULTS, REPO_ROOT

FREE_TEXT_ANSWERS = ("project_name", "description", "owner", "owner_email", "cost_center", "notebook_authors")
MARKER = Path("/tmp") / f"answers-property-marker-{os.getpid()}"
# Text the answer rules may let through: quotes, backslashes, Markdown, HTML, TOML and YAML specials.
PRINTABLE = [
    '"""', "'''", '"', "'", "\\", "\\n", "\\u0041", "\\N{BULLET}", "\xa0", "<!--", "-->", "<b>", "</p>", "**", "_", "`", "```",
    "[x](javascript:y)", "#", "- ", "1. ", "> ", "|", ": ", " #", "= ", "[", "]", "{", "}", ",", "&amp;", "&", "%", "@", "!",
    "*", "~", "---", "$(touch M)", "`touch M`", ";", "é", "✓", "日本", " ", "  ", "a", "Z", "0", "x@example.com", "team",
]  # fmt: skip
# Text they refuse: template syntax, line breaks and other control or invisible characters.
REFUSED = ["{{", "{%", "{#", "}}", "%}", "\n", "\r", "\t", "\x00", "\x1b[31m", "\u2028", "\u202e", "\u200b", "\ufeff"]
ATTACKS = [
    f"{{{{ cycler.__init__.__globals__.os.system('touch {MARKER}') }}}}",
    f'X""";__import__("os").system("touch {MARKER}");"""',
    f"x\"\nimport os; os.system('touch {MARKER}')\n\"",
    f'\\" ]\nbuild-backend = "{MARKER}"\n[x]\ny = "',
]
VALUE = st.one_of(
    st.lists(st.sampled_from(PRINTABLE), min_size=1, max_size=8).map("".join),
    st.lists(st.sampled_from(PRINTABLE + REFUSED), min_size=1, max_size=8).map("".join),
    st.sampled_from(ATTACKS),
)


@st.composite
def answer_sets(draw) -> dict[str, str]:
    # The e-mail and folder answers accept almost none of this text; lean on the free-form
    # ones so that about half the runs render a repository.
    leaning = st.sampled_from(("project_name", "description", "project_name", "description", *FREE_TEXT_ANSWERS))
    keys = {draw(leaning), draw(leaning)}
    return {key: draw(VALUE) for key in sorted(keys)}


def resolved(answers: dict[str, str]) -> dict[str, str]:
    values = {key: value for key, value in DEFAULTS.items() if not key.startswith("_")} | answers
    values["project"] = slug_filter(values["project_name"])
    if "notebook_authors" not in answers:
        values["notebook_authors"] = person_folder(values["owner_email"])
    return values


@contextlib.contextmanager
def without_git(folder: Path):
    """The hooks run with this Python; with no git on PATH the post-generation hook skips its commit."""
    saved = os.environ["PATH"]
    os.environ["PATH"] = str(folder)
    try:
        yield
    finally:
        os.environ["PATH"] = saved


def check_repository(project: Path, values: dict[str, str]) -> None:
    for path in project.rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    init = project / "code" / package_name(values["project"]) / "__init__.py"
    spec = importlib.util.spec_from_file_location(f"generated_{package_name(values['project'])}", init)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # what `make setup` and every test do first
    assert module.__doc__.splitlines()[0] == f"{values['project_name']}: {values['description']}"

    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert pyproject["description"] == values["description"]
    assert pyproject["authors"] == [{"name": values["owner"], "email": values["owner_email"]}]

    for path in [*project.rglob("*.yml"), *project.rglob("*.yaml")]:
        list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    for path in [*project.rglob("*.json"), *project.rglob("*.ipynb")]:
        json.loads(path.read_text(encoding="utf-8"))
    recorded = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))["context"]["cookiecutter"]
    assert {key: recorded[key] for key in values} == values

    for readme in ("README.md", "docs/index.md"):
        lines = [md_unescape(line) for line in (project / readme).read_text(encoding="utf-8").splitlines()]
        assert lines[0] == f"# {values['project_name']}" and lines[2] == values["description"], readme
        assert lines[4].startswith(f"Owner: {values['owner']} ({values['owner_email']})")
    notebooks = {path.name for path in (project / "notebooks").iterdir() if path.is_dir()}
    assert set(notebook_authors(values["notebook_authors"])) <= notebooks


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(answers=answer_sets())
def test_hostile_free_text_ends_in_a_clean_refusal_or_a_repository_that_reads_back(tmp_path_factory, answers):
    from cookiecutter.main import cookiecutter

    values = resolved(answers)
    expected_problems = answer_problems(values)
    output = tmp_path_factory.mktemp("out")
    said = io.StringIO()
    with without_git(tmp_path_factory.mktemp("no-git")), contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
        try:
            cookiecutter(str(REPO_ROOT), no_input=True, extra_context=answers, output_dir=str(output))
            refused = None
        except SystemExit as error:
            refused = error.code
    text = said.getvalue()
    assert not MARKER.exists(), (answers, text)
    assert "Traceback" not in text
    if refused is None:
        event("generated")
        assert not expected_problems, (answers, expected_problems)
        (project,) = output.iterdir()
        check_repository(project, values)
    else:
        event("refused")
        assert refused == 1 and expected_problems, (answers, text)
        assert list(output.iterdir()) == [], "no folder is left behind"
        named = [line for line in text.splitlines() if line.startswith("  - ")]
        assert named and all(line[4:].split(":")[0] in {*values, "answer"} for line in named), text
        assert "Nothing was written" in text
