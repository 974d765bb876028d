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

from dsplatform.config import (
    ProjectFile,
    ProjectFileError,
    ProjectFileLoader,
    StackSettings,
    parse_project,
    read_yaml,
    request_json_schema,
    resolve_environment,
)
from dsplatform.vocabulary import ENVIRONMENTS, EXIT_INVALID, EXIT_OK, EXIT_POLICY_VIOLATION

INFRA_DIRECTORY = Path(__file__).resolve().parents[1]
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


# ----------------------------------------------------------------------------- reading with positions

Position = tuple[int, int]  # 1-based line and column


@dataclass
class LoadedRequest:
    path: Path
    data: Any
    positions: dict[tuple[Any, ...], Position]

    def position_of(self, location: Sequence[Any]) -> Position:
        """The closest node that exists in the file: a missing key points at its parent."""
        location = tuple(location)
        while location and location not in self.positions:
            location = location[:-1]
        return self.positions.get(location, (1, 1))


def _positions(node: yaml.Node, path: tuple[Any, ...], positions: dict, duplicates: list[tuple[tuple, Position]]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            where = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in seen:
                duplicates.append(((*path, key), where))
            seen.add(key)
            positions[(*path, key)] = where
            _positions(value_node, (*path, key), positions, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            positions[(*path, index)] = (item.start_mark.line + 1, item.start_mark.column + 1)
            _positions(item, (*path, index), positions, duplicates)


def load_request(path: str | Path) -> LoadedRequest:
    """Read a request file keeping each key's line and column. YAML errors and duplicate
    keys (which plain YAML loading silently resolves to the last one) are problems too."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        raise RequestError([f"{path}:1:1: (file): cannot be read ({reason})"]) from None
    try:
        node = yaml.compose(text, Loader=ProjectFileLoader)
        data = read_yaml(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise RequestError([f"{path}:{line}:{column}: (file): is not valid YAML ({reason}); fix the syntax at this position"]) from None
    positions: dict[tuple[Any, ...], Position] = {(): (1, 1)}
    duplicates: list[tuple[tuple, Position]] = []
    if node is not None:
        _positions(node, (), positions, duplicates)
    if duplicates:
        raise RequestError(
            [
                f"{path}:{line}:{column}: {'.'.join(str(part) for part in location)}: appears twice; keep one (YAML would silently use the last)"
                for location, (line, column) in duplicates
            ]
        )
    return LoadedRequest(path, data, positions)


def _one_line(text: str) -> str:
    """Values quoted from the file may hold line breaks or control characters; escape them
    so each problem stays one `file:line:column:` line."""
    return "".join(character if character.isprintable() else repr(character)[1:-1] for character in str(text))


def validate_request(path: str | Path) -> tuple[LoadedRequest, ProjectFile]:
    """Every problem of a request file at once, each as `file:line:column: field: message`."""
    loaded = load_request(path)
    try:
        project_file = parse_project(loaded.data, str(loaded.path))
    except ProjectFileError as error:
        located = sorted(
            (loaded.position_of(getattr(problem, "location", ())), index, problem) for index, problem in enumerate(error.problems)
        )
        raise RequestError([f"{loaded.path}:{line}:{column}: {_one_line(problem)}" for (line, column), _, problem in located]) from None
    return loaded, project_file


def environments_of(project_file: ProjectFile) -> list[str]:
    return [environment for environment in ENVIRONMENTS if environment in project_file.environments]


# ----------------------------------------------------------------------------- plan


def plan_request(project_file: ProjectFile, source: str, today: date | None = None) -> list:
    from dsplatform.plan import run_plan

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


def summary_markdown(project_file: ProjectFile, plans: list, source: str) -> str:
    """The pull-request comment: verdict, counts by type per environment, role
    assignments, guardrail findings and waivers, and what differs between environments."""
    from dsplatform.plan import _table

    environments = [plan.settings.environment for plan in plans]
    request = project_file.request
    passed = all(plan.policy.passed for plan in plans)
    title = request.display_name if request else project_file.project
    lines = [
        f"## Platform request: {title} (`{project_file.project}`)",
        "",
        f"**Guardrails {'passed' if passed else 'FAILED'}** for {', '.join(environments)} "
        f"(offline plan of `{source}`; nothing was sent to Azure).",
        "",
        f"- Owner: {project_file.tags.owner}" + (f" ({request.contact_email})" if request else ""),
        f"- Cost center: {project_file.tags.cost_center}; data classification: {project_file.tags.data_classification}",
        f"- Location: {project_file.location}",
    ]
    if request:
        lines.append(f"- Accountable: {', '.join(request.owners)}; repository CI/CD: {request.cicd}")
    lines += ["", "### Per environment", ""]
    lines += _table(
        ["environment", "stack", "resources", "role assignments", "human write roles", "mandatory", "advisory", "waived"],
        [
            [
                plan.settings.environment,
                f"`{plan.settings.stack_name}`",
                str(len(plan.resources)),
                str(len(plan.role_assignments)),
                str(len(plan.human_write_assignments)),
                str(plan.policy.mandatory_count),
                str(plan.policy.advisory_count),
                str(len(plan.policy.waived)),
            ]
            for plan in plans
        ],
        markdown=True,
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
        rows.append([f"`{kind}`{marker}", *(str(count) for count in values)])
    lines += _table(["type", *environments], rows, markdown=True)

    lines += ["", "### Guardrail findings and waivers", ""]
    finding_rows = []
    for plan in plans:
        for finding in plan.policy.findings:
            violation = finding.violation
            status = finding.status
            if finding.waiver is not None:
                status += f", approved by {finding.waiver.approver}: {finding.waiver.reason}"
            finding_rows.append([plan.settings.environment, violation.severity, f"`{violation.rule}`", violation.resource_name, violation.message, status])
    lines += _table(["environment", "severity", "rule", "resource", "problem", "status"], finding_rows, markdown=True) if finding_rows else [
        "None: every resource meets every rule."
    ]

    lines += ["", "### Settings that differ between environments", ""]
    flat = {plan.settings.environment: _flatten(plan.settings.settings.model_dump()) for plan in plans}
    keys = sorted({key for values in flat.values() for key in values})
    different = [key for key in keys if len({json.dumps(flat[environment].get(key), sort_keys=True) for environment in environments}) > 1]
    lines += _table(["setting", *environments], [[f"`{key}`", *(_cell(flat[env].get(key)) for env in environments)] for key in different], markdown=True) if different else [
        "None."
    ]

    lines += ["", "### Role assignments (principal -> role -> scope)", ""]
    for plan in plans:
        lines += [f"<details><summary>{plan.settings.environment}: {len(plan.role_assignments)} assignments, "
                  f"{len(plan.human_write_assignments)} human write</summary>", ""]
        lines += _table(
            ["principal", "type", "role", "scope", "access"],
            [[row.principal, row.principal_type, row.role, f"{row.scope} ({row.scope_type})", "write" if row.writes else "read"] for row in plan.role_assignments],
            markdown=True,
        )
        lines += ["", "</details>", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


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
                loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except (yaml.YAMLError, OSError, UnicodeDecodeError) as error:
                loaded = None
                if not force:
                    refusals.append(f"{path}: cannot be read ({str(error).splitlines()[0]}); fix it, or pass --force to replace it")
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
            [f"{source}: request: is required to scaffold (expected display_name, contact_email, owners, and optionally description, cicd, python_version, sample)"]
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
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            generated = Path(cookiecutter(str(template), no_input=True, extra_context=answers, output_dir=str(staging)))
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
            from dsplatform.plan import to_json

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
        sys.stdout.write(summary)
        blocked = [plan.settings.stack_name for plan in plans if not plan.policy.passed]
        if blocked:
            _print([f"error: mandatory guardrail violations in {', '.join(blocked)}; fix them or declare waivers in {path}"])
            return EXIT_POLICY_VIOLATION
        return EXIT_OK
    if arguments.action == "stacks":
        stacks_directory = Path(arguments.stacks_dir) if arguments.stacks_dir else path.resolve().parent.parent
        if not (stacks_directory / "Pulumi.yaml").is_file():
            raise RequestError([f"error: {stacks_directory} has no Pulumi.yaml; pass --stacks-dir with the folder of the Pulumi project (infra/)"])
        changes = plan_stack_files(project_file, path, stacks_directory, force=arguments.force)
        write_stack_files(changes)
        for change in changes:
            print(f"{change.path}: {change.action}")
        return EXIT_OK
    if arguments.action == "scaffold":
        answers = scaffold_answers(project_file, arguments.env, str(path))
        target = scaffold(answers, Path(arguments.output), str(path))
        print(f"Generated {target} from {path} (project {answers['project']}, compute {answers['compute']}, CI/CD {answers['cicd']}).")
        print(f"Next: cd {target} && make setup test")
        return EXIT_OK
    raise RequestError([f"error: unknown request action {arguments.action}"])
