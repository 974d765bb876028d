"""Thin pulumi-policy adapters over dsplatform.infra.guardrails: one policy per rule.

Why adapters and not policies written here: a PolicyPack starts a gRPC server and waits for
the Pulumi engine, so it cannot run on its own; the rule logic stays in plain functions
that `dsplatform plan` calls offline and these adapters call inside `pulumi preview`.

The stack is `<project>-<env>` (read from each resource's URN): the environment decides
the prod-only rules, and the project's file under infra/projects/ supplies the waivers.
A waived violation is not reported; an expired waiver reports the violation again and
says so.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from dsplatform.infra import PULUMI_PROJECT_DIRECTORY
from dsplatform.infra.guardrails import RULES, Resource, Rule, Violation, WaiverTerms, apply_waivers, resource_label
from dsplatform.infra.mocks import azure_name

PACK_NAME = "dsplatform-guardrails"
PROJECTS_DIRECTORY = PULUMI_PROJECT_DIRECTORY / "projects"


def stack_of(urn: str) -> tuple[str, str]:
    """(project, environment) from `urn:pulumi:<stack>::<project>::<type>::<name>`. A stack
    not named <project>-<env> gets the strictest rules (prod)."""
    from dsplatform.infra.config.problems import ProjectFileError
    from dsplatform.infra.stack import split_stack_name

    stack = urn.split("::", 1)[0].removeprefix("urn:pulumi:")
    try:
        return split_stack_name(stack)
    except ProjectFileError:
        return stack, "prod"


@lru_cache(maxsize=16)
def waivers_for(project: str, projects_directory: Path) -> tuple[WaiverTerms, ...]:
    """The project's waivers; a missing or invalid file waives nothing (the plan and
    `request validate` report why)."""
    from dsplatform.infra.config.load import load_project_file
    from dsplatform.infra.config.problems import ProjectFileError

    try:
        return tuple(waiver.terms() for waiver in load_project_file(projects_directory / f"{project}.yaml").waivers)
    except ProjectFileError:
        return ()


def _report(
    violations: list[Violation],
    project: str,
    environment: str,
    report_violation: ReportViolation,
    urns: list[str | None],
    today: date | None,
) -> None:
    report = apply_waivers(violations, waivers_for(project, PROJECTS_DIRECTORY), environment, today)
    for finding, urn in zip(report.findings, urns, strict=True):
        if not finding.counts:
            continue
        text = f"{finding.violation.message}. Fix: {finding.violation.remediation}"
        if finding.waiver_expired:
            text += f" (waiver approved by {finding.waiver.approver} expired on {finding.waiver.expires.isoformat()})"
        report_violation(text, urn)


def _resource_validation(rule: Rule, today: date | None = None):
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in rule.types:
            return
        project, environment = stack_of(args.urn)
        if environment not in rule.environments:
            return
        name = azure_name(args.resource_type, args.name, args.props)
        label = resource_label(args.resource_type, name)
        violations = [
            Violation(rule.id, rule.severity, label, message, rule.remediation) for message in rule.check(args.props, environment)
        ]
        _report(violations, project, environment, report_violation, [None] * len(violations), today)

    return validate


def _stack_validation(rule: Rule, today: date | None = None):
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        if not args.resources:
            return
        project, environment = stack_of(args.resources[0].urn)
        if environment not in rule.environments:
            return
        resources, urns = [], {}
        for resource in args.resources:
            planned = Resource(resource.resource_type, azure_name(resource.resource_type, resource.name, resource.props), resource.props)
            resources.append(planned)
            urns[id(planned)] = resource.urn
        found = rule.stack_check(resources, environment)
        violations = [
            Violation(rule.id, rule.severity, resource_label(item.type, item.name) if item else "stack", message, rule.remediation)
            for item, message in found
        ]
        _report(violations, project, environment, report_violation, [urns.get(id(item)) for item, _ in found], today)

    return validate


@lru_cache(maxsize=16)
def constraint_context_for(project: str, environment: str, projects_directory: Path):
    """The constraint context (Azure ML control-plane ranges, AzureDatabricks app id) from
    the project file; without a readable file the checks that need it report the gap."""
    from dsplatform.infra.config.load import load_stack_settings
    from dsplatform.infra.config.problems import ProjectFileError
    from dsplatform.infra.constraints import ConstraintContext

    try:
        return ConstraintContext.from_settings(load_stack_settings(projects_directory / f"{project}.yaml", environment))
    except ProjectFileError:
        return ConstraintContext(environment=environment)


def _constraint_validation(constraint):
    """A constraint as a mandatory stack policy: no waiver applies (Azure accepts none)."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        if not args.resources:
            return
        project, environment = stack_of(args.resources[0].urn)
        resources, urns = [], {}
        for resource in args.resources:
            planned = Resource(resource.resource_type, azure_name(resource.resource_type, resource.name, resource.props), resource.props)
            resources.append(planned)
            urns[id(planned)] = resource.urn
        context = constraint_context_for(project, environment, PROJECTS_DIRECTORY)
        for item, message in constraint.check(resources, context):
            report_violation(
                f"{message}. Fix: {constraint.remediation} ({constraint.source.title}, {constraint.source.url})", urns.get(id(item))
            )

    return validate


def build_policies(today: date | None = None) -> list:
    """One pulumi-policy policy per guardrail, named by the rule id, and one mandatory
    policy per Azure constraint (dsplatform.infra.constraints), named `constraint-<id>`."""
    from dsplatform.infra.constraints import CONSTRAINTS

    policies = []
    for rule in RULES:
        level = EnforcementLevel.MANDATORY if rule.severity == "mandatory" else EnforcementLevel.ADVISORY
        common = {
            "name": rule.id,
            "description": f"{rule.title} ({rule.source}).",
            "enforcement_level": level,
            "remediation_steps": rule.remediation,
        }
        if rule.is_stack_rule:
            policies.append(StackValidationPolicy(validate=_stack_validation(rule, today), **common))
        else:
            policies.append(ResourceValidationPolicy(validate=_resource_validation(rule, today), **common))
    policies += [
        StackValidationPolicy(
            name=f"constraint-{constraint.id}",
            description=f"{constraint.title} ({constraint.source.title}).",
            enforcement_level=EnforcementLevel.MANDATORY,
            remediation_steps=constraint.remediation,
            validate=_constraint_validation(constraint),
        )
        for constraint in CONSTRAINTS
    ]
    return policies
