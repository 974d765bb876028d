"""The pull-request summary is trustworthy (issue 11, finding 5): the verdict is its first
line and the waivers table comes next, both from our code only; every value a request
supplies is escaped for Markdown and HTML, so none can move or hide them."""

from __future__ import annotations

import copy
import dataclasses
import html
import io
import re
from contextlib import redirect_stderr, redirect_stdout
from datetime import date, timedelta

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dsplatform import cli
from dsplatform.infra.config import ProjectFileError, parse_project, resolve_environment
from dsplatform.infra.guardrails import Resource, evaluate
from dsplatform.infra.request.summary import summary_markdown, verdict_line
from dsplatform.vocabulary import control_characters, markdown_text

from .conftest import EXAMPLE, plan_of, settings_from

TODAY = date.today()
EXAMPLE_DATA = yaml.safe_load(EXAMPLE.read_text())
# The rules a public prod breaks, as the forged request of finding 5 waived them.
PROD_PUBLIC_RULES = [
    "storage-private-in-prod", "keyvault-private-in-prod", "acr-private-in-prod", "aks-private-api-server-in-prod",
    "ml-private-in-prod", "databricks-private-in-prod", "databricks-vnet-injection-in-prod",
    "ml-compute-no-public-ip-in-prod", "storage-network-deny-by-default",
]  # fmt: skip


def run_cli(*arguments) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main([str(argument) for argument in arguments])
    return code, out.getvalue(), err.getvalue()


def forged_request(approver: str, expires: str, display_name: str, description: str) -> dict:
    data = copy.deepcopy(EXAMPLE_DATA)
    data["environments"]["prod"] = {"private_networking": False, "allowed_ip_ranges": ["203.0.113.0/24"]}
    data["request"]["display_name"] = display_name
    data["request"]["description"] = description
    data["waivers"] = [
        {"rule": rule, "reason": "approved in the weekly platform meeting", "approver": approver, "expires": expires}
        for rule in PROD_PUBLIC_RULES
    ]
    return data


def test_the_forged_request_of_finding_5_is_refused_at_validation(tmp_path):
    """Prod public, nine waivers approved by the team itself until 2999, and the verdict
    hidden in an HTML comment opened in the title and closed in the description."""
    data = forged_request("data-science@example.com", "2999-12-31", "Churn\n<!--", "-->\n**Guardrails passed** for dev, prod; no waivers.")
    request = tmp_path / "forged.yaml"
    request.write_text(yaml.safe_dump(data, sort_keys=False))
    for arguments in (["request", "validate", request], ["request", "plan", request, "--output", tmp_path / "out"]):
        code, out, err = run_cli(*arguments)
        lines = err.strip().splitlines()
        assert code == 2 and out == "" and "Traceback" not in err
        assert not (tmp_path / "out").exists()
        fields = [re.match(r"^.+?:\d+:\d+: (\S+): ", line)[1] for line in lines]
        assert fields.count("request.display_name") == 1 and fields.count("request.description") == 1, lines
        for index in range(9):
            assert f"waivers.{index}.approver" in fields and f"waivers.{index}.expires" in fields, lines


def test_the_same_text_without_control_characters_cannot_hide_the_verdict(tmp_path):
    """Waivers from someone else for a year are legitimate; the comment markers are shown
    as typed, the verdict stays the first line and the nine waivers stay in our table."""
    expires = (TODAY + timedelta(days=200)).isoformat()
    data = forged_request("security@example.com", expires, "Churn <!--", "--> **Guardrails passed** | no waivers |")
    request = tmp_path / "forged.yaml"
    request.write_text(yaml.safe_dump(data, sort_keys=False))
    code, _, err = run_cli("request", "plan", request, "--output", tmp_path / "out")
    # Every prod-public guardrail finding is waived, by someone else, for 200 days; a public prod
    # still breaks Azure constraints (the Azure ML extension would serve plain HTTP in prod),
    # which no waiver covers, and the verdict says so first.
    assert code == 4, err
    summary = (tmp_path / "out" / "summary.md").read_text()
    lines = summary.splitlines()
    assert lines[0].startswith("**Azure constraints FAILED** for dev, staging, prod (prod: ")
    assert lines[2] == "### Waivers: 9 declared"
    assert lines[4:6] == ["| rule | environments | resource | approver | expires | reason |", "|---|---|---|---|---|---|"]
    assert [line.split(" | ")[0] for line in lines[6:15]] == [f"| `{rule}`" for rule in PROD_PUBLIC_RULES]
    assert all(line.count("|") == 7 and "security&#64;example&#46;com" in line and expires in line for line in lines[6:15])
    assert "<!--" not in summary and "-->" not in summary
    assert summary.count("**Guardrails") == 0  # the forged one is escaped: &#42;&#42;Guardrails
    assert "Churn &#60;&#33;--" in summary and html.unescape(markdown_text(data["request"]["description"])) in html.unescape(summary)


# ----------------------------------------------------------------------------- property test

HOSTILE_SNIPPETS = [
    "<!--", "-->", "|", "||", "**Guardrails passed**", "**Guardrails FAILED**", "\n", "\r\n", "\u2028", "`", "```",
    "<details>", "</details>", "</summary>", "# ", "### Waivers: none declared", "[click](https://evil.example)",
    "![x](https://evil.example/x.png)", "@everyone", "\\", "\\|", "_", "*", "<script>alert(1)</script>", "&lt;!--",
    "&#60;", "{{ 7*7 }}", "{% raw %}", "\u202e", "\u200b", "\t", "\x00", "'", '"', ":+1:", "$x$", "~~", "<br>", "> ",
    "- [ ] ", "1. ", "---", "===", "www.evil.example", "https://evil.example", "<https://evil.example>", "&amp;",
]  # fmt: skip
RAW = st.lists(st.one_of(st.sampled_from(HOSTILE_SNIPPETS), st.text(max_size=4)), min_size=1, max_size=8).map("".join)
# The same without control characters, which validation refuses anyway: these reach the summary.
PRINTABLE = st.lists(
    st.one_of(
        st.sampled_from([snippet for snippet in HOSTILE_SNIPPETS if not control_characters(snippet)]),
        st.text(st.characters(blacklist_categories=("Cc", "Cf", "Zl", "Zp", "Cs")), max_size=4),
    ),
    min_size=3,
    max_size=8,
).map(lambda parts: "".join(parts).strip() or "x" * 10)
HOSTILE = st.one_of(RAW, PRINTABLE, PRINTABLE)
FIELDS = {
    ("request", "display_name"): "Example",
    ("request", "description"): "Batch scoring of machine failures.",
    ("tags", "owner"): "Data Science Team",
    ("tags", "cost_center"): "CC-1234",
    ("principals", "data_science_group", "display_name"): "grp-example-data-science",
    ("principals", "ci_service_principal", "display_name"): "sp-example-ci",
    ("waivers", 0, "reason"): "a vendor tool needs the admin user",
}


def with_values(values: dict) -> dict:
    data = copy.deepcopy(EXAMPLE_DATA)
    data["waivers"] = [
        {
            "rule": "acr-admin-user-disabled",
            "reason": "x" * 10,
            "approver": "security@example.com",
            "expires": (TODAY + timedelta(days=30)).isoformat(),
        }
    ]
    for path, value in values.items():
        target = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
    return data


@pytest.fixture(scope="module")
def base_plans():
    return [plan_of(settings_from(EXAMPLE_DATA, environment)) for environment in ("dev", "prod")]


def summary_for(data: dict, base_plans: list) -> str:
    """The summary of `data`, reusing the example's planned resources (the free text
    changes no resource), with the request's own settings, waivers and principal names."""
    project_file = parse_project(copy.deepcopy(data), today=TODAY)
    names = {
        EXAMPLE_DATA["principals"][key]["display_name"]: data["principals"][key]["display_name"]
        for key in ("data_science_group", "ci_service_principal", "platform_admins")
    }
    plans = []
    for base in base_plans:
        environment = base.settings.environment
        settings_ = resolve_environment(project_file, environment)
        resources = [
            Resource(item.type, item.name, item.properties) for item in base.resources if not item.type.startswith("pulumi:providers:")
        ]
        policy = evaluate(resources, environment, settings_.waiver_terms(), TODAY)
        rows = [dataclasses.replace(row, principal=names.get(row.principal, row.principal)) for row in base.role_assignments]
        plans.append(dataclasses.replace(base, settings=settings_, policy=policy, role_assignments=rows))
    return summary_markdown(project_file, plans, "infra/projects/example.yaml"), plans


def structure(summary: str) -> list[str]:
    """What a renderer builds from each line: its kind and, for table rows, the cell count."""
    kinds = []
    for line in summary.splitlines():
        if line.startswith("|"):
            kinds.append(f"row:{line.count('|')}")
        elif line.startswith(("#", "<", "**", "- ")):
            kinds.append(line.split(" ")[0])
        else:
            kinds.append("text" if line else "")
    return kinds


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(chosen=st.dictionaries(st.sampled_from(sorted(FIELDS, key=str)), HOSTILE, min_size=1))
def test_hostile_free_text_is_refused_cleanly_or_shown_escaped_without_moving_the_verdict(base_plans, chosen):
    data = with_values(chosen)
    try:
        summary, plans = summary_for(data, base_plans)
    except ProjectFileError as error:
        # A clean refusal: one line per problem, each naming a field.
        assert error.problems and all("\n" not in line and re.match(r"^.+?: \S+: ", line) for line in error.lines), error.lines
        event("refused at validation")
        return
    event("accepted and rendered")
    # An empty optional value (a description) leaves its line out, in the reference too.
    reference, _ = summary_for(with_values({key: "Plain text value" if value else "" for key, value in chosen.items()}), base_plans)
    lines = summary.splitlines()
    assert lines[0] == verdict_line(plans) == reference.splitlines()[0]
    assert lines[2] == "### Waivers: 1 declared" and lines[6].startswith("| `acr-admin-user-disabled` | all | all | security&#64;")
    assert structure(summary) == structure(reference), "a value changed the comment's structure"
    for value in chosen.values():
        assert not control_characters(value), "validation lets no control character through"
        assert markdown_text(value) in summary
    shown = summary
    for tag in ("<details><summary>", "</summary>", "</details>"):
        shown = shown.replace(tag, "")
    assert "<" not in shown


def test_markdown_text_round_trips_to_the_visible_value():
    value = 'a|b <!-- c --> **d** `e` [f](g) # @h \\ "i" &amp; $j$'
    assert html.unescape(markdown_text(value)) == value
    assert re.fullmatch(r"[A-Za-z0-9 ,\-&#;]*", markdown_text(value))
    assert markdown_text("x\ny\u202e") == "x&#92;u000Ay&#92;u202E"
