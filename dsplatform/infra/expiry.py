"""`dsplatform expiry`: which explorations are past (or near) their end date.

Why it reads the raw files and not the full schema: a request that no longer validates (a
platform rule changed since it merged) must still be found and torn down when it expires.
Only `project`, `kind`, `end_date` and `environments` are read, through the same bounded
loader as every other command. The scheduled platform pipeline (ci/platform/
expire-explorations.sh) prints the report and runs `pulumi destroy` on the expired stacks.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from dsplatform.safe_yaml import DocumentError, load_document
from dsplatform.vocabulary import ENVIRONMENTS, EXIT_INVALID, EXIT_OK

DEFAULT_WARNING_DAYS = 14


@dataclass(frozen=True)
class Exploration:
    path: Path
    project: str
    end_date: date
    stacks: tuple[str, ...]

    def status(self, today: date, warning_days: int) -> str | None:
        if self.end_date < today:
            return "expired"
        if self.end_date <= today + timedelta(days=warning_days):
            return "ending"
        return None


def read_explorations(directory: Path) -> tuple[list[Exploration], list[str]]:
    """Every exploration under `directory`, and one problem line per file that could not be read."""
    explorations, problems = [], []
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = load_document(path).data
        except DocumentError as error:
            problems += error.lines
            continue
        if not isinstance(data, dict) or data.get("kind") != "exploration":
            continue
        end = data.get("end_date")
        try:
            ending = end if isinstance(end, date) else date.fromisoformat(str(end))
        except ValueError:
            problems.append(f"{path}: end_date: '{end}' is not a date; give YYYY-MM-DD")
            continue
        environments = data.get("environments") if isinstance(data.get("environments"), dict) else {}
        project = str(data.get("project"))
        stacks = tuple(f"{project}-{environment}" for environment in ENVIRONMENTS if environment in environments)
        explorations.append(Exploration(path, project, ending, stacks))
    return explorations, problems


def report(directory: Path, today: date, warning_days: int = DEFAULT_WARNING_DAYS) -> list[tuple[str, Exploration]]:
    explorations, _ = read_explorations(directory)
    found = [(exploration.status(today, warning_days), exploration) for exploration in explorations]
    return [(status, exploration) for status, exploration in found if status is not None]


def add_expiry_command(commands) -> None:
    expiry = commands.add_parser(
        "expiry",
        help="list explorations past or near their end date (the scheduled teardown reads it)",
        description="List the exploration requests under a directory whose end_date has passed (expired: the "
        "scheduled pipeline tears their stacks down) or comes within --warning-days (ending). Reads only kind, "
        "project, end_date and environments, so a request that no longer validates is still found.",
    )
    expiry.add_argument("directory", help="the requests directory, e.g. infra/projects")
    expiry.add_argument("--today", type=date.fromisoformat, help="the date to judge by, YYYY-MM-DD (default: today)")
    expiry.add_argument("--warning-days", type=int, default=DEFAULT_WARNING_DAYS, help="report explorations ending within this many days")
    expiry.add_argument("--stacks", action="store_true", help="print only the expired stacks, one per line (for pulumi destroy)")


def run_expiry_command(arguments) -> int:
    directory = Path(arguments.directory)
    if not directory.is_dir():
        print(f"error: {directory}: not a directory; give the requests directory, e.g. infra/projects", file=sys.stderr)
        return EXIT_INVALID
    if arguments.warning_days < 0:
        print("error: --warning-days: must be 0 or more", file=sys.stderr)
        return EXIT_INVALID
    today = arguments.today or date.today()
    explorations, problems = read_explorations(directory)
    for line in problems:
        print(line, file=sys.stderr)
    found = [(exploration.status(today, arguments.warning_days), exploration) for exploration in explorations]
    if arguments.stacks:
        for status, exploration in found:
            if status == "expired":
                print("\n".join(exploration.stacks))
        return EXIT_INVALID if problems else EXIT_OK
    shown = [(status, exploration) for status, exploration in found if status]
    for status, exploration in shown:
        days = (exploration.end_date - today).days
        when = f"ended {-days} day(s) ago" if days < 0 else f"ends in {days} day(s)"
        print(
            f"{status}\t{exploration.project}\t{exploration.end_date.isoformat()}\t{when}\t{exploration.path}\tstacks: {', '.join(exploration.stacks)}"
        )
    if not shown:
        print(f"No exploration under {directory} has ended or ends within {arguments.warning_days} day(s) of {today.isoformat()}.")
    return EXIT_INVALID if problems else EXIT_OK
