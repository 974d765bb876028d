"""≥1,000 generated answer sets through cookiecutter's Python API, in-process: each ends in
a generated repository or a clean refusal that names the answer, never a traceback and
never a partial output directory (mlops-v2 #106)."""

from __future__ import annotations

import contextlib
import io
import logging
import re
import string

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dsplatform.template import CHOICES, answer_problems

from conftest import DEFAULTS, REPO_ROOT

pytestmark = pytest.mark.slow

ANSWER_KEYS = [key for key in DEFAULTS if not key.startswith("_")]
NASTY = st.sampled_from(
    ["", " ", "../escape", "a/b", "{{ cookiecutter.project }}", "{% raw %}", "{{", "}}", "x" * 400, "line\nbreak",
     "Ünïcödé ✓", "CON", ".hidden", "-leading", "trailing-", "a--b", "UPPER", "42", "<&>", "null", "true"]
)
VALUE = st.one_of(NASTY, st.text(alphabet=string.printable + "äöü€✓\u0085", max_size=60), st.sampled_from(sum(CHOICES.values(), ())))
# Rendering a valid answer set costs about a second; a sample of them proves success, the
# rest of the budget goes to the refusals.
VALID_RENDER_BUDGET = 25
SEEN = {"rendered": 0}


@st.composite
def answer_sets(draw) -> dict[str, str]:
    keys = draw(st.lists(st.sampled_from(ANSWER_KEYS), min_size=1, max_size=4, unique=True))
    return {key: draw(VALUE) for key in keys}


def rendered_answers(answers: dict[str, str]) -> dict[str, str]:
    """The answers as the template resolves them: defaults, then the derived slug and folder."""
    from dsplatform.template import person_folder, slug_filter

    resolved = {key: value for key, value in DEFAULTS.items() if not key.startswith("_")} | answers
    if "project" not in answers:
        resolved["project"] = slug_filter(resolved["project_name"])
    if "notebook_authors" not in answers:
        resolved["notebook_authors"] = person_folder(resolved["owner_email"])
    return resolved


@settings(max_examples=1000, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(answers=answer_sets())
def test_generated_answer_sets_end_in_a_repository_or_a_clean_refusal(tmp_path_factory, answers):
    from cookiecutter.main import cookiecutter

    expected_problems = answer_problems(rendered_answers(answers))
    if not expected_problems and SEEN["rendered"] >= VALID_RENDER_BUDGET:
        event("valid, not rendered (budget spent)")
        return
    output = tmp_path_factory.mktemp("answers")
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    logging.getLogger("cookiecutter").addHandler(handler)
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            try:
                cookiecutter(str(REPO_ROOT), no_input=True, extra_context=answers, output_dir=str(output))
                outcome = "generated"
            except SystemExit as error:
                outcome = f"refused ({error.code})"
            except Exception as error:  # what a cookiecutter caller would see
                outcome = f"error {type(error).__name__}: {error}"
    finally:
        logging.getLogger("cookiecutter").removeHandler(handler)
    text = captured.getvalue()
    created = [path.name for path in output.iterdir()]
    assert "Traceback" not in text, text
    if outcome == "generated":
        SEEN["rendered"] += 1
        event("generated")
        # An answer may legitimately reference another ("{{ cookiecutter.project }}"); only
        # answers free of template syntax can be judged before rendering.
        if not any(mark in str(value) for value in answers.values() for mark in ("{{", "{%", "{#")):
            assert not expected_problems, (answers, expected_problems)
        assert len(created) == 1, created
        project = output / created[0]
        assert not [path for path in project.rglob("*") if "{{" in path.name or "{%" in path.name]
    else:
        event("refused")
        assert created == [], (answers, outcome, created)
        # Cookiecutter itself refuses an answer Jinja cannot render, naming the variable
        # (its CLI prints just that line); everything else is refused by our checks.
        if outcome.startswith("error UndefinedVariableInTemplate"):
            assert re.search(r"Unable to render variable '([a-z_]+)'", outcome).group(1) in ANSWER_KEYS, outcome
        else:
            assert outcome.startswith("refused"), (answers, outcome, text[-2000:])
            assert re.search(r"^\s+- ([a-z_]+|answer '.*'): ", text, re.MULTILINE), (answers, text[-2000:])
