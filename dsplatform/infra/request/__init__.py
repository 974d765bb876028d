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

This package's own module holds what every command shares: reading a request
(`validate_request`, `environments_of`) and the one error type they all raise
(`RequestError`). Each command's own concern lives in a module of its own, so a change to
the pull-request comment cannot touch how stack files are written:

- `summary`: the plan of every environment and the pull-request comment built from it;
- `stacks`: the Pulumi stack files `request stacks` owns;
- `scaffold`: the team's repository, from the template and the request's answers;
- `cli`: the `dsplatform request` sub-commands, their messages and exit codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dsplatform.infra.config.load import load_located
from dsplatform.infra.config.problems import ProjectFileError
from dsplatform.infra.config.schema import ProjectFile
from dsplatform.safe_yaml import Document
from dsplatform.vocabulary import ENVIRONMENTS


class RequestError(Exception):
    """A problem the user can fix; `lines` are printed as they are, one per problem."""

    def __init__(self, lines: Sequence[str]):
        self.lines = list(lines)
        super().__init__("\n".join(self.lines))


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


# The command modules' public names stay importable from the package. They import the
# names above, so they come after them.
from dsplatform.infra.request.cli import SCHEMA_PATH, add_request_commands, run_request_command, write_schema  # noqa: E402
from dsplatform.infra.request.scaffold import TEMPLATE_DIRECTORY, scaffold, scaffold_answers, template_answer_problems  # noqa: E402
from dsplatform.infra.request.stacks import StackFileChange, plan_stack_files, stack_config, write_stack_files  # noqa: E402
from dsplatform.infra.request.summary import (  # noqa: E402
    plan_request,
    summary_markdown,
    terminal_summary,
    verdict_line,
    waivers_table,
)

__all__ = [
    "SCHEMA_PATH",
    "TEMPLATE_DIRECTORY",
    "RequestError",
    "StackFileChange",
    "add_request_commands",
    "environments_of",
    "plan_request",
    "plan_stack_files",
    "run_request_command",
    "scaffold",
    "scaffold_answers",
    "stack_config",
    "summary_markdown",
    "template_answer_problems",
    "terminal_summary",
    "validate_request",
    "verdict_line",
    "waivers_table",
    "write_schema",
    "write_stack_files",
]
