"""The plan of every environment of a request, and the two summaries of it: the
pull-request comment (Markdown) and what a person at a terminal reads.

A module of its own because the comment is a security boundary (docs/security.md, "a
forged review comment"): its first line is the verdict and its second section the
waivers table, both built from the plans and the validated waivers only, and every value
the request supplies is escaped. Keeping that code apart keeps the rule reviewable in one
place.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from dsplatform.infra.config.load import resolve_environment
from dsplatform.infra.config.problems import one_line
from dsplatform.infra.config.schema import ProjectFile
from dsplatform.infra.plan_view import budget_summary
from dsplatform.infra.request import environments_of
from dsplatform.vocabulary import markdown_text


def plan_request(project_file: ProjectFile, source: str, today: date | None = None) -> list:
    from dsplatform.infra.plan import run_plan

    return [run_plan(resolve_environment(project_file, environment, source), today) for environment in environments_of(project_file)]


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat |= _flatten(item, f"{prefix}{key}.")
        return flat
    return {prefix.rstrip("."): value}


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "(none)"
    return "(default)" if value is None else str(value)


class Markup(str):
    """Text this module wrote itself (a code span of our own identifiers); every other
    cell is escaped by `markdown_text`."""


def _code(text: str) -> Markup:
    """A code span around one of our own identifiers (slugs, types, rule ids, setting keys),
    which never hold a backtick; anything else would be escaped instead."""
    return Markup(f"`{text}`") if "`" not in str(text) and "\n" not in str(text) else Markup(markdown_text(text))


def _markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    def cell(value: Any) -> str:
        return value if isinstance(value, Markup) else markdown_text(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    return lines + ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]


def verdict_line(plans: list) -> str:
    """The first line of the summary, from the plans alone: no request text reaches it."""
    environments = ", ".join(plan.settings.environment for plan in plans)
    broken = [plan for plan in plans if plan.constraints is not None and not plan.constraints.passed]
    if broken:
        counts = "; ".join(
            f"{plan.settings.environment}: {len(plan.constraints.violations)} Azure constraint violation(s)" for plan in broken
        )
        return f"**Azure constraints FAILED** for {environments} ({counts}). Azure would refuse this deployment; no waiver covers it."
    blocked = [plan for plan in plans if not plan.policy.passed]
    if not blocked:
        return f"**Guardrails passed** for {environments}: no mandatory violation without a valid waiver, and no Azure constraint broken."
    counts = "; ".join(f"{plan.settings.environment}: {plan.policy.mandatory_count} mandatory violation(s)" for plan in blocked)
    return f"**Guardrails FAILED** for {environments} ({counts}). This request cannot be deployed as it is."


def waivers_table(project_file: ProjectFile) -> list[str]:
    """Every waiver the request declares, whether or not a finding uses it, so a reviewer
    sees each accepted exception with its approver and end date."""
    waivers = project_file.waivers
    if not waivers:
        return ["### Waivers: none declared", ""]
    rows = [
        [
            _code(waiver.rule),
            ", ".join(waiver.environments) if waiver.environments else "all",
            waiver.resource or "all",
            waiver.approver,
            waiver.expires.isoformat(),
            waiver.reason,
        ]
        for waiver in waivers
    ]
    return [
        f"### Waivers: {len(waivers)} declared",
        "",
        *_markdown_table(["rule", "environments", "resource", "approver", "expires", "reason"], rows),
        "",
    ]


def summary_markdown(project_file: ProjectFile, plans: list, source: str) -> str:
    """The pull-request comment. Its first line is the verdict and the waivers table comes
    next, both built from the plans and the validated waivers only, at fixed positions.
    Everything a request supplies is escaped with `markdown_text`, so no value can add a
    heading, close a table, open an HTML comment or `<details>`, or move those two."""
    environments = [plan.settings.environment for plan in plans]
    request = project_file.request
    title = request.display_name if request else project_file.project
    lines = [verdict_line(plans), "", *waivers_table(project_file)]
    lines += [
        f"### Platform request: {markdown_text(title)} ({_code(project_file.project)})",
        "",
        f"Offline plan of {_code(source)}; nothing was sent to Azure.",
        "",
        f"- Owner: {markdown_text(project_file.tags.owner)}" + (f" ({markdown_text(request.contact_email)})" if request else ""),
        f"- Cost center: {markdown_text(project_file.tags.cost_center)}; data classification: {project_file.tags.data_classification}",
        f"- Location: {markdown_text(project_file.location)}",
    ]
    if project_file.kind == "exploration":
        # Reviewers approve a sandbox differently from a project: say so before anything else.
        lines.append(
            f"- Kind: exploration until {project_file.end_date.isoformat() if project_file.end_date else '(no end date)'}; "
            "the scheduled expiry pipeline tears it down after that (docs/self-service.md)"
        )
    lines += [
        f"- Budget ({plan.settings.environment}): {markdown_text(budget_summary(plan.resources_of('azure-native:consumption:Budget')[0].properties))}"
        for plan in plans
        if plan.resources_of("azure-native:consumption:Budget")
    ]
    if request:
        lines.append(f"- Accountable: {markdown_text(', '.join(request.owners))}; repository CI/CD: {request.cicd}")
        if request.description:
            lines.append(f"- Description: {markdown_text(request.description)}")
    lines += ["", "### Per environment", ""]
    lines += _markdown_table(
        ["environment", "stack", "resources", "role assignments", "human write roles", "mandatory", "advisory", "waived"],
        [
            [
                plan.settings.environment,
                _code(plan.settings.stack_name),
                len(plan.resources),
                len(plan.role_assignments),
                len(plan.human_write_assignments),
                plan.policy.mandatory_count,
                plan.policy.advisory_count,
                len(plan.policy.waived),
            ]
            for plan in plans
        ],
    )
    counts = {plan.settings.environment: {} for plan in plans}
    for plan in plans:
        for resource in plan.resources:
            counts[plan.settings.environment][resource.type] = counts[plan.settings.environment].get(resource.type, 0) + 1
    types = sorted({kind for per_environment in counts.values() for kind in per_environment})
    lines += ["", "### Resources by type", ""]
    rows = []
    for kind in types:
        values = [counts[environment].get(kind, 0) for environment in environments]
        marker = " (differs)" if len(set(values)) > 1 else ""
        rows.append([Markup(_code(kind) + marker), *values])
    lines += _markdown_table(["type", *environments], rows)

    lines += ["", "### Guardrail findings", ""]
    finding_rows = []
    for plan in plans:
        for finding in plan.policy.findings:
            violation = finding.violation
            status = finding.status
            if finding.waiver is not None:
                status += f", approved by {finding.waiver.approver}"
            finding_rows.append(
                [plan.settings.environment, violation.severity, _code(violation.rule), violation.resource_name, violation.message, status]
            )
    lines += (
        _markdown_table(["environment", "severity", "rule", "resource", "problem", "status"], finding_rows)
        if finding_rows
        else ["None: every resource meets every rule."]
    )

    lines += ["", "### Settings that differ between environments", ""]
    flat = {plan.settings.environment: _flatten(plan.settings.settings.model_dump()) for plan in plans}
    keys = sorted({key for values in flat.values() for key in values})
    different = [key for key in keys if len({json.dumps(flat[environment].get(key), sort_keys=True) for environment in environments}) > 1]
    lines += (
        _markdown_table(
            ["setting", *environments], [[_code(key), *(_cell(flat[env].get(key)) for env in environments)] for key in different]
        )
        if different
        else ["None."]
    )

    lines += ["", "### Role assignments (principal -> role -> scope)", ""]
    for plan in plans:
        lines += [
            f"<details><summary>{plan.settings.environment}: {len(plan.role_assignments)} assignments, "
            f"{len(plan.human_write_assignments)} human write</summary>",
            "",
        ]
        lines += _markdown_table(
            ["principal", "type", "role", "scope", "access"],
            [
                [row.principal, row.principal_type, row.role, f"{row.scope} ({row.scope_type})", "write" if row.writes else "read"]
                for row in plan.role_assignments
            ],
        )
        lines += ["", "</details>", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def terminal_summary(project_file: ProjectFile, plans: list, written: Sequence[Path]) -> str:
    """What a person at a terminal reads: the verdict, one line per environment, the
    findings that block or are waived, and where each file went. The Markdown comment is
    for the pull request (`--markdown` prints it)."""
    lines = [verdict_line(plans).replace("**", ""), ""]
    width = max(len(plan.settings.stack_name) for plan in plans)
    for plan in plans:
        policy = plan.policy
        lines.append(
            f"  {plan.settings.stack_name.ljust(width)}  {len(plan.resources):>3} resources, {len(plan.role_assignments):>2} role assignments "
            f"({len(plan.human_write_assignments)} human write); {policy.mandatory_count} mandatory, "
            f"{policy.advisory_count} advisory, {len(policy.waived)} waived"
        )
    findings = [(plan.settings.environment, finding) for plan in plans for finding in plan.policy.findings]
    if findings:
        lines += ["", "Findings:"]
        for environment, finding in findings:
            violation = finding.violation
            lines.append(
                f"  {environment} {violation.severity} {violation.rule} {violation.resource_name}: {one_line(violation.message)} [{finding.status}]"
            )
    lines.append("")
    if written:
        lines += [f"Wrote {path}" for path in written]
        lines.append(f"Next: post {written[-1]} as the pull-request comment (the platform pipelines do).")
    else:
        lines.append("Next: add --output DIR to write the plans and the pull-request comment (summary.md), or --markdown to print it.")
    return "\n".join(lines) + "\n"
