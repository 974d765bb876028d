"""The `dsplatform request` sub-commands: validate, schema, plan, stacks, scaffold.

A module of its own because it is the only part that talks to the terminal: it parses
the arguments, calls the other modules of this package, prints their results, and turns
every `RequestError` into its lines on standard error and exit code 2 (the exit codes
live in dsplatform.vocabulary), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from dsplatform.infra import PULUMI_PROJECT_DIRECTORY
from dsplatform.infra.config.json_schema import request_json_schema
from dsplatform.infra.request import RequestError, environments_of, validate_request
from dsplatform.infra.request.scaffold import scaffold, scaffold_answers
from dsplatform.infra.request.stacks import plan_stack_files, write_stack_files
from dsplatform.infra.request.summary import plan_request, summary_markdown, terminal_summary
from dsplatform.vocabulary import (
    ENVIRONMENTS,
    EXIT_CONSTRAINT_VIOLATION,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_POLICY_VIOLATION,
    next_step,
)

# The committed schema editors read (`request validate --schema-out` regenerates it).
SCHEMA_PATH = PULUMI_PROJECT_DIRECTORY / "projects" / "request.schema.json"


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
