"""`dsplatform` command line: the offline plan with its guardrails, and the self-service
request flow (`dsplatform request ...`).

Exit codes: 0 success; 2 invalid input (one line per problem naming the field and the
expected form, never a traceback: it would bury the one line that matters); 3 the
guardrails found a mandatory violation that no valid waiver covers.
"""

from __future__ import annotations

import argparse
import sys
import time

from dsplatform.vocabulary import ENVIRONMENTS, EXIT_INVALID, EXIT_OK, EXIT_POLICY_VIOLATION

FORMATS = ("table", "json", "markdown", "mermaid")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dsplatform", description="Platform tooling for data-science projects on Azure.")
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser(
        "plan",
        help="show what a project environment would create, offline (never touches Azure)",
        description="Run the Pulumi program under Pulumi's mock runtime and print what it would create. "
        "Never touches Azure: no credentials, no Pulumi CLI, no network.",
    )
    plan.add_argument("project_file", help="path to a project file, e.g. infra/projects/example.yaml")
    plan.add_argument("--env", required=True, choices=ENVIRONMENTS, help="environment to plan")
    plan.add_argument("--format", default="table", choices=FORMATS, help="output format (default: table)")
    plan.add_argument("--timing", action="store_true", help="print the plan's duration to stderr")
    plan.add_argument(
        "--diagram",
        metavar="FILE",
        help="also draw the architecture (Azure icons, Graphviz) to FILE, .svg or .png",
    )
    from dsplatform.request import add_request_commands

    add_request_commands(commands)
    _add_project_commands(commands)
    return parser


def _add_project_commands(commands) -> None:
    project = commands.add_parser("project", help="maintain repositories generated from the template")
    project_commands = project.add_subparsers(dest="project_command", required=True)
    update = project_commands.add_parser(
        "update",
        help="merge template changes since the recorded commit into a generated repository",
        description="Three-way merge of the template's changes (recorded commit -> REF) into a generated repository's "
        "working tree. Exit 0: updated or up to date; 1: conflicts left as <<<<<<< markers (or, with --check, an "
        "update is available); 2: refused (dirty working tree, no .cruft.json, unknown ref).",
    )
    update.add_argument("repo", help="path to the generated repository")
    update.add_argument("--template-ref", default="HEAD", help="template branch, tag or commit to update to (default: HEAD)")
    update.add_argument("--template", help="template location, when it moved since generation (default: the recorded one)")
    update.add_argument("--check", action="store_true", help="only report whether an update is available")


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    if arguments.command == "request":
        from dsplatform.request import run_request_command

        return run_request_command(arguments)
    if arguments.command == "project":
        from dsplatform.template_update import main as update_main

        return update_main(arguments.repo, template_ref=arguments.template_ref, template=arguments.template, check=arguments.check)
    from dsplatform.config import ProjectFileError, load_stack_settings

    try:
        settings = load_stack_settings(arguments.project_file, arguments.env)
    except ProjectFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    if arguments.diagram:
        from dsplatform.diagram import DiagramError, check_target

        try:
            check_target(arguments.diagram)
        except DiagramError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_INVALID
    from dsplatform.plan import RENDERERS, run_plan

    started = time.perf_counter()
    plan = run_plan(settings)
    elapsed = time.perf_counter() - started
    sys.stdout.write(RENDERERS[arguments.format](plan))
    if arguments.diagram:
        from dsplatform.diagram import render

        print(f"wrote {render(plan, arguments.diagram)}", file=sys.stderr)
    if arguments.timing:
        print(f"planned {settings.stack_name} in {elapsed:.3f} s", file=sys.stderr)
    if not plan.policy.passed:
        print(
            f"error: {settings.stack_name} breaks {plan.policy.mandatory_count} mandatory guardrail(s); "
            "fix them (see the Policy section) or declare a waiver in the project file",
            file=sys.stderr,
        )
        return EXIT_POLICY_VIOLATION
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
