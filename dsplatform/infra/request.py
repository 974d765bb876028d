"""`dsplatform request ...`: the project file as a self-service request.

A team opens a pull request adding `infra/projects/<project>.yaml`; CI runs
`request validate` (every problem at once, as `file:line:column`), `request plan` (the
offline plan and guardrail report of every environment, plus a markdown summary for the
pull-request comment); after merge the platform pipeline writes the stack settings
(`request stacks`) and runs `pulumi preview --policy-pack` and `pulumi up`. The team gets
its repository from `request scaffold`, generated with answers taken from the same file
so both sides agree on names.

Every command fails with one line per problem and a non-zero exit code, never a
traceback, and never leaves a half-written output behind.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from dsplatform.infra import PULUMI_PROJECT_DIRECTORY
from dsplatform.infra.config.json_schema import request_json_schema
from dsplatform.infra.config.load import load_located, resolve_environment
from dsplatform.infra.config.problems import Problem, ProjectFileError, one_line
from dsplatform.infra.config.schema import ProjectFile, StackSettings
from dsplatform.infra.plan_view import budget_summary
from dsplatform.safe_yaml import Document, DocumentError, load_document
from dsplatform.vocabulary import (
    ENVIRONMENTS,
    EXIT_CONSTRAINT_VIOLATION,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_POLICY_VIOLATION,
    markdown_text,
    next_step,
)

INFRA_DIRECTORY = PULUMI_PROJECT_DIRECTORY
TEMPLATE_DIRECTORY = INFRA_DIRECTORY.parent
SCHEMA_PATH = INFRA_DIRECTORY / "projects" / "request.schema.json"
# Stack settings keys this tool owns; anything else in a stack file is left alone.
CONFIG_NAMESPACE = "dsplatform"
DIGEST_KEY = f"{CONFIG_NAMESPACE}:managedDigest"


class RequestError(Exception):
    """A problem the user can fix; `lines` are printed as they are, one per problem."""

    def __init__(self, lines: Sequence[str]):
        self.lines = list(lines)
        super().__init__("\n".join(self.lines))


# ----------------------------------------------------------------------------- reading


def validate_request(path: str | Path) -> tuple[Document, ProjectFile]:
    """Every problem of a request file at once, each as `file:line:column: field: message`.
    Reading goes through the same bounded loader as every other command
    (dsplatform.safe_yaml via config.load_located)."""
    try:
        return load_located(path)
    except ProjectFileError as error:
        raise RequestError(error.lines) from None


def environments_of(project_file: ProjectFile) -> list[str]:
    return [environment for environment in ENVIRONMENTS if environment in project_file.environments]


# ----------------------------------------------------------------------------- plan


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


# ----------------------------------------------------------------------------- stack settings


def _digest(managed: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(managed, sort_keys=True).encode()).hexdigest()[:16]


def stack_config(settings: StackSettings, project_file_path: str) -> dict[str, Any]:
    """The keys `infra/__main__.py` reads (namespace `dsplatform`) plus the provider's
    default location. Everything else stays in the project file, the one source."""
    return {
        "azure-native:location": settings.location,
        f"{CONFIG_NAMESPACE}:environment": settings.environment,
        f"{CONFIG_NAMESPACE}:projectFile": project_file_path,
    }


@dataclass
class StackFileChange:
    path: Path
    action: str  # created, updated, unchanged
    content: str | None = None


def plan_stack_files(project_file: ProjectFile, request_path: Path, stacks_directory: Path, force: bool = False) -> list[StackFileChange]:
    """Decide every stack file first, so that one refusal writes nothing at all."""
    relative = Path(os.path.relpath(request_path.resolve(), stacks_directory.resolve())).as_posix()
    changes, refusals = [], []
    for environment in environments_of(project_file):
        settings = resolve_environment(project_file, environment, str(request_path))
        path = stacks_directory / f"Pulumi.{settings.stack_name}.yaml"
        managed = stack_config(settings, relative)
        document: dict[str, Any] = {"config": {}}
        if path.exists():
            try:
                loaded = load_document(path).data or {}
            except DocumentError as error:  # the same bounded loader as for requests
                loaded = None
                if not force:
                    refusals.append(f"{error.lines[0]}; fix it, or pass --force to replace it")
                    continue
            if isinstance(loaded, dict):
                document = loaded
                document.setdefault("config", {})
            config = document.get("config") if isinstance(document.get("config"), dict) else {}
            recorded = config.get(DIGEST_KEY)
            current = {key: config.get(key) for key in managed}
            if not force and recorded is None:
                refusals.append(
                    f"{path}: was not written by `dsplatform request stacks` (no {DIGEST_KEY}); move it aside, "
                    "or pass --force to take it over (other keys are kept)"
                )
                continue
            if not force and recorded != _digest(current):
                edited = [key for key in managed if config.get(key) != managed[key]]
                refusals.append(
                    f"{path}: was edited by hand since it was written ({', '.join(edited) or 'managed keys'} changed); "
                    "put the change in the project file instead, or pass --force to overwrite the managed keys"
                )
                continue
            if current == managed and recorded == _digest(managed):
                changes.append(StackFileChange(path, "unchanged"))
                continue
            action = "updated"
        else:
            action = "created"
        config = document["config"] if isinstance(document.get("config"), dict) else {}
        config = {key: item for key, item in config.items() if key not in managed and key != DIGEST_KEY}
        config |= managed | {DIGEST_KEY: _digest(managed)}
        document["config"] = dict(sorted(config.items()))
        header = (
            f"# Written by `dsplatform request stacks {relative}`: stack {settings.stack_name}.\n"
            "# Change the project file, not the keys below; other keys you add are kept.\n"
        )
        changes.append(StackFileChange(path, action, header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)))
    if refusals:
        raise RequestError([f"error: {line}" for line in refusals] + ["Nothing was written."])
    return changes


def write_stack_files(changes: list[StackFileChange]) -> None:
    for change in changes:
        if change.content is None:
            continue
        temporary = change.path.with_name(f".{change.path.name}.tmp")
        temporary.write_text(change.content, encoding="utf-8")
        temporary.replace(change.path)  # atomic: never a half-written stack file


# ----------------------------------------------------------------------------- scaffold


def scaffold_answers(project_file: ProjectFile, environment: str | None = None, source: str = "request") -> dict[str, str]:
    """The cookiecutter answers a request implies, so that the repository's names, tags and
    services agree with the platform's."""
    from dsplatform.template import person_folder

    request = project_file.request
    if request is None:
        raise RequestError(
            [
                f"{source}: request: is required to scaffold (expected display_name, contact_email, owners, and optionally description, cicd, python_version, sample)"
            ]
        )
    features = resolve_environment(project_file, environment, source).features if environment else project_file.features
    if features.databricks and features.azureml:
        compute = "both"
    elif features.databricks or features.azureml:
        compute = "databricks" if features.databricks else "azureml"
    else:
        raise RequestError([f"{source}: features: turn on databricks or azureml (or both); the repository needs a compute target"])
    authors = list(dict.fromkeys(person_folder(owner) for owner in request.owners))
    return {
        "project_name": request.display_name,
        "project": project_file.project,
        "description": request.description or f"{request.display_name} on the data-science platform.",
        "owner": project_file.tags.owner,
        "owner_email": request.contact_email,
        "cost_center": project_file.tags.cost_center,
        "data_classification": project_file.tags.data_classification,
        "cicd": request.cicd,
        "compute": compute,
        "python_version": request.python_version,
        "sample": request.sample,
        "azure_location": project_file.location,
        "notebook_authors": ", ".join(authors),
    }


# Which request field each template answer comes from, so the template's own rules can
# report at the request's line and column.
ANSWER_FIELDS: dict[str, tuple[str, ...]] = {
    "project_name": ("request", "display_name"),
    "project": ("project",),
    "description": ("request", "description"),
    "owner": ("tags", "owner"),
    "owner_email": ("request", "contact_email"),
    "cost_center": ("tags", "cost_center"),
    "data_classification": ("tags", "data_classification"),
    "cicd": ("request", "cicd"),
    "compute": ("features",),
    "python_version": ("request", "python_version"),
    "sample": ("request", "sample"),
    "azure_location": ("location",),
    "notebook_authors": ("request", "owners"),
}


def template_answer_problems(project_file: ProjectFile) -> list:
    """The template's answer rules (dsplatform.template.answer_problems) applied to the
    answers this request implies, reported at the request's own fields. `request validate`
    runs them, so a request it accepts is never refused later by `request scaffold`,
    whatever the template decides to allow."""
    from dsplatform.template import answer_problems

    if project_file.request is None:
        return []
    try:
        answers = scaffold_answers(project_file)
    except RequestError:
        return []  # no compute target: scaffold says so itself; the infrastructure is still valid
    problems = []
    for problem in answer_problems(answers):
        answer, _, message = problem.partition(": ")
        location = ANSWER_FIELDS.get(answer, ("request",))
        field = ".".join(location)
        problems.append(Problem(f"{field}: {message} (the repository's {answer} answer)", location))
    return problems


def scaffold(answers: dict[str, str], output: Path, source: str = "request", template: Path = TEMPLATE_DIRECTORY) -> Path:
    """Render the template into a temporary folder next to the target and move it into
    place only when complete: a failure leaves nothing behind (mlops-v2 #106)."""
    from dsplatform.template import answer_problems

    problems = answer_problems(answers)
    if problems:
        raise RequestError([f"{source}: template answer {problem}" for problem in problems] + ["Nothing was written."])
    if not (template / "cookiecutter.json").is_file():
        raise RequestError([f"error: no cookiecutter template at {template} (cookiecutter.json is missing)"])
    target = output / answers["project"]
    if target.exists():
        raise RequestError([f"error: {target} already exists; choose another --output or remove it"])
    # The topmost folder this call creates: on failure it goes, with everything below it.
    created = next((folder for folder in reversed([output, *output.parents]) if not folder.exists()), None)
    try:
        output.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".scaffold-", dir=output))
    except OSError as error:
        raise RequestError([f"error: cannot write to {output} ({error.strerror})"]) from None
    try:
        from cookiecutter.main import cookiecutter

        captured = io.StringIO()
        # The hooks run as processes of their own, past redirect_stdout; this one line tells
        # them the summary and the next step are ours to print.
        previous = os.environ.get("DSPLATFORM_CALLER_REPORTS")
        os.environ["DSPLATFORM_CALLER_REPORTS"] = "1"
        try:
            with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
                generated = Path(cookiecutter(str(template), no_input=True, extra_context=answers, output_dir=str(staging)))
        finally:
            if previous is None:
                os.environ.pop("DSPLATFORM_CALLER_REPORTS", None)
            else:
                os.environ["DSPLATFORM_CALLER_REPORTS"] = previous
        generated.rename(target)
    except (Exception, SystemExit) as error:  # cookiecutter raises many types; none may become a traceback
        detail = captured.getvalue().strip().splitlines() if "captured" in locals() else []
        reason = detail[-1] if detail else f"{type(error).__name__}: {error}"
        shutil.rmtree(staging, ignore_errors=True)
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise RequestError([f"error: generating the repository failed ({reason}); nothing was written"]) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


# ----------------------------------------------------------------------------- command line


def add_request_commands(commands: argparse._SubParsersAction) -> None:
    request = commands.add_parser(
        "request",
        help="self-service requests: validate, plan, write stack settings, scaffold a repository",
        description="A project file under infra/projects/ is a team's request for its environments.",
    )
    actions = request.add_subparsers(dest="action", required=True)
    validate = actions.add_parser("validate", help="report every problem of a request at once, as file:line:column")
    validate.add_argument("request_file")
    validate.add_argument("--schema-out", metavar="PATH", help="also write the request's JSON Schema (for editors) to PATH")
    schema = actions.add_parser("schema", help="print (or write) the request's JSON Schema, for editors")
    schema.add_argument("--output", metavar="PATH", help="write to PATH instead of standard output")
    plan = actions.add_parser("plan", help="offline plan and guardrail report of every environment, and a PR-comment summary")
    plan.add_argument("request_file")
    plan.add_argument("--output", metavar="DIR", help="write <stack>.plan.json, <stack>.policy.json and summary.md to DIR")
    plan.add_argument("--markdown", action="store_true", help="print the pull-request comment (Markdown) instead of the terminal summary")
    stacks = actions.add_parser("stacks", help="write or update each environment's Pulumi.<stack>.yaml (idempotent)")
    stacks.add_argument("request_file")
    stacks.add_argument("--stacks-dir", metavar="DIR", help="folder holding Pulumi.yaml (default: the request's ../)")
    stacks.add_argument("--force", action="store_true", help="overwrite managed keys even if they were edited by hand")
    scaffold_parser = actions.add_parser("scaffold", help="generate the team's repository from the template")
    scaffold_parser.add_argument("request_file")
    scaffold_parser.add_argument("--output", required=True, metavar="DIR", help="folder to create the repository in")
    scaffold_parser.add_argument("--env", choices=ENVIRONMENTS, help="take the compute switches from this environment")


def _print(lines: Sequence[str], stream=None) -> None:
    stream = stream or sys.stderr
    for line in lines:
        print(line, file=stream)


def write_schema(path: str | Path | None) -> None:
    text = json.dumps(request_json_schema(), indent=2, sort_keys=True) + "\n"
    if path is None:
        sys.stdout.write(text)
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as error:
        raise RequestError([f"error: cannot write {path} ({error.strerror})"]) from None


def run_request_command(arguments: argparse.Namespace) -> int:
    try:
        return _run(arguments)
    except RequestError as error:
        _print(error.lines)
        return EXIT_INVALID


def _run(arguments: argparse.Namespace) -> int:
    if arguments.action == "schema":
        write_schema(arguments.output)
        return EXIT_OK
    loaded, project_file = validate_request(arguments.request_file)
    path = loaded.path
    if arguments.action == "validate":
        if arguments.schema_out:
            write_schema(arguments.schema_out)
        print(
            f"{path}: valid request for '{project_file.project}' (environments {', '.join(environments_of(project_file))}; "
            f"{len(project_file.waivers)} waiver(s))"
        )
        return EXIT_OK
    if arguments.action == "plan":
        plans = plan_request(project_file, str(path))
        summary = summary_markdown(project_file, plans, str(path))
        if arguments.output:
            from dsplatform.infra.plan import to_json

            output = Path(arguments.output)
            try:
                output.mkdir(parents=True, exist_ok=True)
                for plan in plans:
                    (output / f"{plan.settings.stack_name}.plan.json").write_text(to_json(plan), encoding="utf-8")
                    (output / f"{plan.settings.stack_name}.policy.json").write_text(
                        json.dumps(plan.policy.as_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8"
                    )
                (output / "summary.md").write_text(summary, encoding="utf-8")
            except OSError as error:
                raise RequestError([f"error: cannot write to {output} ({error.strerror})"]) from None
        written = []
        if arguments.output:
            written = [output / f"{plan.settings.stack_name}.{kind}.json" for plan in plans for kind in ("plan", "policy")]
            written.append(output / "summary.md")
        sys.stdout.write(summary if arguments.markdown else terminal_summary(project_file, plans, written))
        broken = [plan.settings.stack_name for plan in plans if plan.constraints is not None and not plan.constraints.passed]
        if broken:
            from dsplatform.infra.plan import constraint_lines

            _print([line for plan in plans for line in constraint_lines(plan.constraints) if line.startswith("- ")])
            _print([f"error: Azure constraint violations in {', '.join(broken)} (not waivable); fix the program or the project file"])
            return EXIT_CONSTRAINT_VIOLATION
        blocked = [plan.settings.stack_name for plan in plans if not plan.policy.passed]
        if blocked:
            _print([f"error: mandatory guardrail violations in {', '.join(blocked)}; fix them or declare waivers in {path}"])
            return EXIT_POLICY_VIOLATION
        return EXIT_OK
    if arguments.action == "stacks":
        stacks_directory = Path(arguments.stacks_dir) if arguments.stacks_dir else path.resolve().parent.parent
        if not (stacks_directory / "Pulumi.yaml").is_file():
            raise RequestError(
                [f"error: {stacks_directory} has no Pulumi.yaml; pass --stacks-dir with the folder of the Pulumi project (infra/)"]
            )
        changes = plan_stack_files(project_file, path, stacks_directory, force=arguments.force)
        write_stack_files(changes)
        for change in changes:
            print(f"{change.path}: {change.action}")
        return EXIT_OK
    if arguments.action == "scaffold":
        answers = scaffold_answers(project_file, arguments.env, str(path))
        target = scaffold(answers, Path(arguments.output), str(path))
        print(f"Generated {target} from {path} (project {answers['project']}, compute {answers['compute']}, CI/CD {answers['cicd']}).")
        print(next_step(f"cd {target} && make setup test"))
        return EXIT_OK
    raise RequestError([f"error: unknown request action {arguments.action}"])
