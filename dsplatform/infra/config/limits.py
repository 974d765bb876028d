"""What the kind of request and the platform's limits demand of a project file.

Read from the raw mapping before the schema, so that these problems show together with
every schema problem in one run: an exploration's end date, budget cap and single
non-prod environment; a project's owner and cost-center tags; a waiver's outside
approver and bounded expiry. The limits themselves (exploration_max_days,
waiver_max_days) come from infra/platform.yaml through the caller.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from dsplatform.infra.config.problems import Problem
from dsplatform.vocabulary import EXPLORATION_ENVIRONMENTS, REQUEST_KINDS, email_problems


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def requester_emails(data: dict[str, Any]) -> set[str]:
    """Everyone the request speaks for, lowercased: its contact, its owners, and the owner
    tag when it is an e-mail address. None of them may approve the request's waivers.
    Read from the raw file, so these problems show even when others are in the file too."""
    request, tags = _mapping(data.get("request")), _mapping(data.get("tags"))
    owners = request.get("owners") if isinstance(request.get("owners"), list) else []
    candidates = [tags.get("owner"), request.get("contact_email"), *owners]
    return {str(email).strip().lower() for email in candidates if isinstance(email, str) and not email_problems(email)}


def waiver_limit_problems(data: dict[str, Any], today: date, max_days: int) -> list[Problem]:
    """A waiver is someone else's decision, for a bounded time: the approver is not one of
    the requesters (compared case-insensitively), and the expiry is at most `max_days`
    (waiver_max_days in infra/platform.yaml) after the plan date. Values the schema
    refuses anyway (not an e-mail, not a date) are left to its own message."""
    problems = []
    requesters = requester_emails(data)
    latest = today + timedelta(days=max_days)
    waivers = data.get("waivers") if isinstance(data.get("waivers"), list) else []
    for index, item in enumerate(waivers):
        waiver = _mapping(item)
        approver = waiver.get("approver")
        if isinstance(approver, str) and approver.strip().lower() in requesters:
            problems.append(
                Problem(
                    f"waivers.{index}.approver: '{approver}' is an owner or the contact of this request; "
                    "a waiver needs an approver outside the team (expected another person's e-mail, e.g. security@example.com)",
                    ("waivers", index, "approver"),
                )
            )
        try:
            expires = date.fromisoformat(str(waiver.get("expires")))
        except ValueError:
            continue
        if expires > latest:
            problems.append(
                Problem(
                    f"waivers.{index}.expires: {expires.isoformat()} is more than {max_days} days after "
                    f"{today.isoformat()}; end it by {latest.isoformat()} and renew it then "
                    "(waiver_max_days in infra/platform.yaml)",
                    ("waivers", index, "expires"),
                )
            )
    return problems


def kind_problems(data: dict[str, Any], today: date, max_days: int) -> list[Problem]:
    """What the kind of request demands, read from the raw file so these show together
    with every other problem. An exploration: one non-prod environment, an end_date at most
    `max_days` (exploration_max_days in infra/platform.yaml) after the plan date, and an
    explicit budget amount. A project: owner and cost center tags, and no end_date."""
    kind = data.get("kind", "project")
    if kind not in REQUEST_KINDS:
        return []  # the schema's own message names the allowed kinds
    environments = _mapping(data.get("environments"))
    tags = _mapping(data.get("tags"))
    problems: list[Problem] = []
    end = data.get("end_date")
    if kind == "project":
        for key in ("owner", "cost_center"):
            if "tags" in data and tags.get(key) is None:
                problems.append(Problem(f"tags.{key}: is required for a project (only an exploration may leave it out)", ("tags", key)))
        if end is not None:
            problems.append(
                Problem(
                    "end_date: only an exploration ends; remove end_date, or set kind: exploration",
                    ("end_date",),
                )
            )
        return problems
    latest = today + timedelta(days=max_days)
    if end is None:
        problems.append(
            Problem(
                f"end_date: is required for an exploration; add end_date: {latest.isoformat()} or earlier "
                f"(at most {max_days} days away, exploration_max_days in infra/platform.yaml)",
                ("kind",),
            )
        )
    else:
        try:
            ending = end if isinstance(end, date) else date.fromisoformat(str(end))
        except ValueError:
            ending = None  # the schema reports the form
        if ending is not None and ending > latest:
            problems.append(
                Problem(
                    f"end_date: {ending.isoformat()} is more than {max_days} days after {today.isoformat()}; "
                    f"end the exploration by {latest.isoformat()} (extend it later, or promote it to kind: project)",
                    ("end_date",),
                )
            )
    request = _mapping(data.get("request"))
    if tags.get("owner") is None and not (isinstance(request.get("contact_email"), str) and not email_problems(request["contact_email"])):
        problems.append(
            Problem(
                "tags.owner: an exploration needs someone to answer for it; add request.contact_email "
                "(it becomes the owner tag and receives the budget alerts) or tags.owner",
                ("tags",),
            )
        )
    if "prod" in environments:
        problems.append(
            Problem(
                "environments.prod: an exploration never gets prod; remove environments.prod "
                "(promote it to kind: project for prod, docs/self-service.md)",
                ("environments", "prod"),
            )
        )
    non_prod = [environment for environment in environments if environment in EXPLORATION_ENVIRONMENTS]
    if len(non_prod) != 1 and isinstance(data.get("environments"), dict):
        problems.append(
            Problem(
                f"environments: an exploration has exactly one of {' or '.join(EXPLORATION_ENVIRONMENTS)}, "
                f"this file has {len(non_prod)}; keep one (usually dev)",
                ("environments",),
            )
        )
    for environment in non_prod:
        budget = _mapping(_mapping(environments.get(environment)).get("budget"))
        if "amount" not in budget:
            problems.append(
                Problem(
                    f"environments.{environment}.budget.amount: an exploration needs a budget cap; "
                    f"add budget: {{amount: 300}} under environments.{environment} (monthly, in the billing currency)",
                    ("environments", environment),
                )
            )
    return problems
