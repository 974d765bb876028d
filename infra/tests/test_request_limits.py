"""Limits a request cannot talk its way around (issue 11, findings 6 and 7): waivers are
approved by someone outside the team for a bounded time, allowlists admit a bounded set
of addresses, names hold no control characters, and the limits come from the platform's
own configuration (infra/platform.yaml), not from the request."""

from __future__ import annotations

import copy
import io
import re
from contextlib import redirect_stderr, redirect_stdout
from datetime import date, timedelta

import pytest
import yaml

from dsplatform import cli
from dsplatform.infra.config import ProjectFileError, parse_project
from dsplatform.infra.platform_policy import POLICY_PATH, PlatformPolicy, PlatformPolicyError, platform_policy

from .conftest import EXAMPLE, plan_of, settings_from

TODAY = date.today()
WAIVER = {
    "rule": "acr-admin-user-disabled",
    "reason": "a vendor tool needs the admin user until March",
    "approver": "security@example.com",
    "expires": (TODAY + timedelta(days=30)).isoformat(),
}


def run_cli(*arguments) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main([str(argument) for argument in arguments])
    return code, out.getvalue(), err.getvalue()


def example() -> dict:
    return yaml.safe_load(EXAMPLE.read_text())


def validate(tmp_path, data: dict) -> tuple[int, str]:
    request = tmp_path / "request.yaml"
    request.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    code, _, err = run_cli("request", "validate", request)
    assert "Traceback" not in err
    return code, err


# ----------------------------------------------------------------------------- the platform policy


def test_platform_policy_is_committed_typed_and_read():
    committed = yaml.safe_load(POLICY_PATH.read_text())
    assert committed == {
        "waiver_max_days": 365,
        "allowlist_max_prefix": 16,
        "allowlist_max_addresses": 131072,
        "exploration_max_days": 90,
        "budget_alert_thresholds": [80, 100],
    }
    assert platform_policy() == PlatformPolicy(**committed)


def test_a_broken_platform_policy_is_one_located_line(tmp_path):
    path = tmp_path / "platform.yaml"
    path.write_text("waiver_max_days: forever\nallowlist_max_prefx: 16\n")
    with pytest.raises(PlatformPolicyError) as error:
        platform_policy(path)
    first, second = error.value.lines
    assert first.startswith(f"{path}:1:1: waiver_max_days: ") and "(expected the longest a waiver may run" in first
    assert second == f"{path}:2:1: allowlist_max_prefx: is not a known setting"


def test_the_limits_follow_the_platform_file(tmp_path, monkeypatch):
    """The same request passes or fails depending on the platform's configuration only."""
    import dsplatform.infra.config.schema as schema

    data = example()
    data["environments"]["dev"]["allowed_ip_ranges"] = ["203.0.0.0/15"]
    assert validate(tmp_path, data)[0] == 2
    monkeypatch.setattr(schema, "platform_policy", lambda: PlatformPolicy(allowlist_max_prefix=15))
    assert validate(tmp_path, data)[0] == 0


# ----------------------------------------------------------------------------- waivers


def test_a_waiver_from_outside_the_team_within_a_year_is_accepted(tmp_path):
    data = example()
    data["waivers"] = [WAIVER, {**WAIVER, "expires": (TODAY + timedelta(days=365)).isoformat()}]
    code, err = validate(tmp_path, data)
    assert code == 0, err


@pytest.mark.parametrize(
    "approver", ["alice.smith@example.com", "ALICE.Smith@Example.com", "data-science@example.com", "Data-Science@EXAMPLE.com"]
)
def test_self_approved_waivers_are_refused_naming_the_field(tmp_path, approver):
    data = example()
    data["waivers"] = [{**WAIVER, "approver": approver}]
    code, err = validate(tmp_path, data)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert re.match(r".+request\.yaml:\d+:\d+: waivers\.0\.approver: .* is an owner or the contact of this request", lines[0]), lines


def test_the_owner_tag_counts_as_a_requester_when_it_is_an_email(tmp_path):
    data = example()
    data["tags"]["owner"] = "ml-team@example.com"
    data["waivers"] = [{**WAIVER, "approver": "ML-Team@example.com"}]
    code, err = validate(tmp_path, data)
    assert code == 2 and "waivers.0.approver" in err


def test_waivers_expiring_more_than_a_year_out_are_refused(tmp_path):
    data = example()
    data["waivers"] = [{**WAIVER, "expires": (TODAY + timedelta(days=366)).isoformat()}, {**WAIVER, "expires": "2999-12-31"}]
    code, err = validate(tmp_path, data)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 2, err
    assert all(re.search(r": waivers\.[01]\.expires: .* is more than 365 days after", line) for line in lines), lines
    assert (TODAY + timedelta(days=365)).isoformat() in lines[0]


def test_the_plan_date_decides_the_expiry_limit():
    data = example()
    data["waivers"] = [{**WAIVER, "expires": "2027-06-30"}]
    parse_project(copy.deepcopy(data), today=date(2026, 11, 26))
    with pytest.raises(ProjectFileError, match=r"waivers\.0\.expires"):
        parse_project(copy.deepcopy(data), today=date(2026, 6, 29))


def test_the_policy_pack_ignores_a_self_approved_waiver(tmp_path):
    from dsplatform.infra import policy_pack

    data = example()
    data["waivers"] = [{**WAIVER, "approver": "alice.smith@example.com"}]
    (tmp_path / "example.yaml").write_text(yaml.safe_dump(data))
    policy_pack.waivers_for.cache_clear()
    try:
        assert policy_pack.waivers_for("example", tmp_path) == ()
        data["waivers"] = [WAIVER]
        (tmp_path / "other.yaml").write_text(yaml.safe_dump(data))
        assert len(policy_pack.waivers_for("other", tmp_path)) == 1
    finally:
        policy_pack.waivers_for.cache_clear()


# ----------------------------------------------------------------------------- allowlists


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        (["0.0.0.0/1", "128.0.0.0/1"], "broader than /16"),
        (["0.0.0.0/0"], "broader than /16"),
        (["20.0.0.0/15"], "broader than /16"),
        (["20.0.0.0/16", "21.0.0.0/16", "22.0.0.0/16"], "196,608 addresses together, more than the platform's 131,072"),
    ],
)
def test_broad_allowlists_are_refused_at_validation(tmp_path, ranges, message):
    data = example()
    data["environments"]["dev"]["allowed_ip_ranges"] = ranges
    code, err = validate(tmp_path, data)
    assert code == 2 and message in err and ": environments.dev.allowed_ip_ranges: " in err, err


def test_allowlists_up_to_the_limits_are_accepted(tmp_path):
    data = example()
    data["environments"]["dev"]["allowed_ip_ranges"] = ["20.0.0.0/16", "21.0.0.0/16", "20.0.1.0/24", "21.0.113.7"]
    code, err = validate(tmp_path, data)
    assert code == 0, err  # exactly 2 x /16: the /24 and the address lie inside them and count once


def test_the_guardrail_judges_combined_coverage_of_a_planned_stack():
    """Both ways through the real program: the example dev stack passes; the same stack with
    `[0.0.0.0/1, 128.0.0.0/1]` (forced past validation) fails on every public service."""
    settings = settings_from(example(), "dev")
    clean = plan_of(settings)
    assert not [finding for finding in clean.policy.findings if finding.violation.rule == "network-allowlists-bounded"]
    opened = settings.model_copy(
        update={"settings": settings.settings.model_copy(update={"allowed_ip_ranges": ["0.0.0.0/1", "128.0.0.0/1"]})}
    )
    plan = plan_of(opened)
    found = [finding.violation for finding in plan.policy.findings if finding.violation.rule == "network-allowlists-bounded"]
    assert not plan.policy.passed
    kinds = {violation.resource.split(" ")[0] for violation in found}
    assert {
        "azure-native:storage:StorageAccount",
        "azure-native:keyvault:Vault",
        "azure-native:containerservice:ManagedCluster",
        "databricks:index/ipAccessList:IpAccessList",
        "stack",
    } <= kinds, kinds
    assert any("4,294,967,296 distinct addresses" in violation.message for violation in found)


# ----------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (("request", "display_name"), "Churn\nGuardrails passed"),
        (("request", "description"), "fine\u202etxt.exe"),
        (("principals", "data_science_group", "display_name"), "grp\u200bdata"),
        (("tags", "owner"), "Team\r\n"),
        (("waivers", 0, "reason"), "needed for a vendor tool\n<!-- hide -->"),
        (("waivers", 0, "resource"), "cr\texample"),
    ],
)
def test_control_characters_are_refused_in_every_name(tmp_path, path, text):
    data = example()
    data["waivers"] = [copy.deepcopy(WAIVER)]
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = text
    code, err = validate(tmp_path, data)
    field = ".".join(str(part) for part in path)
    assert code == 2 and f": {field}: " in err and "control characters" in err, err
    assert len(err.strip().splitlines()) == 1, err
