"""One vocabulary (issue 11, finding 8, request half): whatever `request validate` accepts,
`request scaffold` accepts too. The template's answer rules
(dsplatform.template.answer_problems) judge the answers a valid request implies, for
generated free text in every request field that becomes an answer."""

from __future__ import annotations

import copy
import io
import re
from contextlib import redirect_stderr, redirect_stdout

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dsplatform import cli
from dsplatform.infra.config import ProjectFileError, parse_project
from dsplatform.infra.request.scaffold import scaffold_answers
from dsplatform.template import answer_problems

from .conftest import EXAMPLE

EXAMPLE_DATA = yaml.safe_load(EXAMPLE.read_text())
SNIPPETS = [
    "{{ 7*7 }}", "{%", "{#", "}}", "\"", "'", '"""', "\\", "\n", "\t", "\u202e", "<", ">", "&", "%", "?", "/", "|", "`",
    "#", "$(id)", "${HOME}", "é", "€", " ", "  ", "a" * 90, "x" * 301, "@", ",", ";", "[", "]", "<!--", "\x00", "~",
]  # fmt: skip
HOSTILE = st.lists(st.one_of(st.sampled_from(SNIPPETS), st.text(max_size=6)), min_size=1, max_size=6).map("".join)
# Printable text full of quotes, braces and Markdown: most of it should pass both sides.
TRICKY = st.text(alphabet="abc XYZ 09 éü€ '\"`#|*_[]!{}()$;:=+-.,@~^", min_size=1, max_size=40).filter(str.strip)
TEXT = st.one_of(HOSTILE, TRICKY, TRICKY)
LOCAL = st.from_regex(r"[A-Za-z0-9._%+-]{1,12}", fullmatch=True)
EMAIL = st.one_of(st.builds(lambda local: f"{local}@example.com", LOCAL), TEXT)
FIELDS = {
    ("request", "display_name"): TEXT,
    ("request", "description"): TEXT,
    ("tags", "owner"): TEXT,
    ("tags", "cost_center"): TEXT,
    ("request", "contact_email"): EMAIL,
    ("request", "owners"): st.lists(EMAIL, min_size=1, max_size=3),
}


@st.composite
def requests(draw) -> dict:
    data = copy.deepcopy(EXAMPLE_DATA)
    for (section, key), strategy in FIELDS.items():
        if draw(st.booleans()):
            data[section][key] = draw(strategy)
    return data


@settings(max_examples=600, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=requests())
def test_every_request_validate_accepts_gives_answers_the_template_accepts(data):
    try:
        project_file = parse_project(copy.deepcopy(data))
    except ProjectFileError as error:
        assert all(re.match(r"^[\w.]+: ", str(problem)) for problem in error.problems), error.problems
        event("refused by request validate")
        return
    event("accepted by request validate")
    assert answer_problems(scaffold_answers(project_file)) == []


def test_template_syntax_is_refused_at_validation_not_at_scaffold(tmp_path):
    """The concrete disagreement the property test found first: the template refused
    `{{` in answers that the request schema let through."""
    data = copy.deepcopy(EXAMPLE_DATA)
    data["request"]["display_name"] = "Churn {{ 7*7 }}"
    request = tmp_path / "request.yaml"
    request.write_text(yaml.safe_dump(data))
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(["request", "validate", str(request)])
    assert code == 2 and re.search(r"request\.yaml:\d+:\d+: request\.display_name: ", err.getvalue()), err.getvalue()
