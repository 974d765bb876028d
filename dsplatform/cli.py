"""`dsplatform` command line: the offline plan with its guardrails, and the self-service
request flow (`dsplatform request ...`).

Exit codes: 0 success; 2 invalid input (one line per problem naming the field and the
expected form, never a traceback: it would bury the one line that matters); 3 the
guardrails found a mandatory violation that no valid waiver covers; 4 a documented Azure
constraint is broken (dsplatform.infra.constraints; nothing can waive it).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time

from dsplatform.vocabulary import ENVIRONMENTS, EXIT_CONSTRAINT_VIOLATION, EXIT_INVALID, EXIT_OK, EXIT_POLICY_VIOLATION, next_step

FORMATS = ("table", "json", "markdown", "mermaid")
HELP_WIDTH = 79

# What each command does and one line to copy, shown by `--help` (`dsplatform <command> --help`).
# Kept here for every command, the request subcommands included, so `--help` reads the same
# everywhere; a subcommand's own description (set where it is defined) wins over this one.
SIGNPOSTS: dict[tuple[str, ...], tuple[str, list[str]]] = {
    (): (
        "Platform tooling for data-science projects on Azure: plan a project's environments offline, handle "
        "self-service requests, keep generated repositories up to date.",
        [
            "dsplatform plan infra/projects/example.yaml --env prod",
            "dsplatform request validate infra/projects/example.yaml",
            "dsplatform project update ../my-project --check",
        ],
    ),
    ("plan",): (
        "",
        [
            "dsplatform plan infra/projects/example.yaml --env prod",
            "dsplatform plan infra/projects/example.yaml --env dev --format json > build/example-dev.json",
            "dsplatform plan infra/projects/example.yaml --env prod --diagram build/plan-prod.svg",
        ],
    ),
    ("request",): (
        "A project file under infra/projects/ is a team's request for its environments: validate it, plan it, "
        "write its Pulumi stack settings, scaffold the team's repository (docs/self-service.md).",
        ["dsplatform request validate infra/projects/example.yaml"],
    ),
    ("request", "validate"): (
        "Check a request against its schema and the template's answer rules, and report every problem at once "
        "as file:line:column: field: message. Exit 0 when valid, 2 otherwise; nothing is written.",
        ["dsplatform request validate infra/projects/example.yaml"],
    ),
    ("request", "schema"): (
        "Print the request's JSON Schema, which editors with the YAML language server use to validate and "
        "complete project files as you type.",
        ["dsplatform request schema --output infra/projects/request.schema.json"],
    ),
    ("request", "plan"): (
        "Plan every environment of a request offline (Pulumi mocks, no Azure) and judge it by the guardrails; "
        "with --output, write each stack's plan and policy report and the pull-request summary.",
        ["dsplatform request plan infra/projects/example.yaml --output build/requests/example"],
    ),
    ("request", "stacks"): (
        "Write or update each environment's Pulumi.<project>-<env>.yaml from the request. Idempotent; "
        "refuses to overwrite keys edited by hand unless --force.",
        ["dsplatform request stacks infra/projects/example.yaml"],
    ),
    ("request", "scaffold"): (
        "Generate the team's repository from the template, with answers taken from the request. Never "
        "overwrites an existing folder; leaves nothing behind on failure.",
        ["dsplatform request scaffold infra/projects/example.yaml --output ~/src"],
    ),
    ("expiry",): (
        "",
        ["dsplatform expiry infra/projects", "dsplatform expiry infra/projects --stacks --today 2027-03-01"],
    ),
    ("project",): (
        "Maintain repositories generated from the template (docs/template.md).",
        ["dsplatform project update ../my-project --check"],
    ),
    ("project", "update"): (
        "",
        ["dsplatform project update ../my-project", "dsplatform project update ../my-project --template-ref v1.2.0"],
    ),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dsplatform")
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
    from dsplatform.infra.request.cli import add_request_commands

    add_request_commands(commands)
    _add_project_commands(commands)
    from dsplatform.infra.expiry import add_expiry_command

    add_expiry_command(commands)
    _add_signposts(parser, ())
    return parser


def _add_signposts(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
    """Give `parser` and its subcommands their description and examples from SIGNPOSTS."""
    description, examples = SIGNPOSTS.get(path, ("", []))
    parser.description = parser.description or description
    if examples:
        # Raw, so examples keep their lines; descriptions are wrapped here instead.
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.epilog = "examples:\n" + "\n".join(f"  {example}" for example in examples)
    if parser.description:
        paragraphs = parser.description.split("\n\n")
        parser.description = "\n\n".join(textwrap.fill(" ".join(text.split()), HELP_WIDTH) for text in paragraphs)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                _add_signposts(subparser, (*path, name))


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
        from dsplatform.infra.request.cli import run_request_command

        return run_request_command(arguments)
    if arguments.command == "expiry":
        from dsplatform.infra.expiry import run_expiry_command

        return run_expiry_command(arguments)
    if arguments.command == "project":
        from dsplatform.template.update import main as update_main

        return update_main(arguments.repo, template_ref=arguments.template_ref, template=arguments.template, check=arguments.check)
    from dsplatform.infra.config.load import load_stack_settings
    from dsplatform.infra.config.problems import ProjectFileError

    try:
        settings = load_stack_settings(arguments.project_file, arguments.env)
    except ProjectFileError as error:
        for line in error.lines:
            print(line, file=sys.stderr)
        return EXIT_INVALID
    if arguments.diagram:
        from dsplatform.infra.diagram import DiagramError, check_target

        try:
            check_target(arguments.diagram)
        except DiagramError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_INVALID
    from dsplatform.infra.plan import RENDERERS, run_plan

    started = time.perf_counter()
    plan = run_plan(settings)
    elapsed = time.perf_counter() - started
    sys.stdout.write(RENDERERS[arguments.format](plan))
    if arguments.diagram:
        from dsplatform.infra.diagram import render

        print(f"wrote {render(plan, arguments.diagram)}", file=sys.stderr)
    if arguments.timing:
        print(f"planned {settings.stack_name} in {elapsed:.3f} s", file=sys.stderr)
    if plan.constraints is not None and not plan.constraints.passed:
        print(
            f"error: {settings.stack_name} breaks {len(plan.constraints.violations)} Azure constraint(s); Azure would refuse the "
            "deployment or deploy one that cannot work (see the Azure constraints section; no waiver covers them)",
            file=sys.stderr,
        )
        return EXIT_CONSTRAINT_VIOLATION
    if plan.policy.passed:
        # On stderr: standard output stays the plan alone, for pipes and files.
        if arguments.diagram:
            step = next_step(
                f"dsplatform request plan {arguments.project_file} --output build/requests/{settings.project}",
                "every environment, and the pull-request summary",
            )
        else:
            step = next_step(
                f"dsplatform plan {arguments.project_file} --env {settings.environment} --diagram {settings.stack_name}.svg",
                "the architecture picture",
            )
        print(step, file=sys.stderr)
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
