"""CI systems' own checkers: the Azure Pipelines schema (check-jsonschema) and
actionlint for GitHub Actions workflows.

A module of its own because both run an external tool over several files at once and map
its output back to one line per file; the same checks judge generated pipelines and this
repository's own (ci/azure-devops, ci/github).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from ci.validators.common import REPO_ROOT, first_line, relative

ACTIONLINT = REPO_ROOT / "build" / "bin" / "actionlint"


def _check_jsonschema(builtin: str, paths: list[Path], root: Path) -> list[str]:
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", builtin, "--regex-variant", "python", "-o", "text"]
    result = subprocess.run([*command, *map(str, paths)], capture_output=True, text=True, check=False, cwd=root)
    if result.returncode == 0:
        return []
    output = result.stdout + result.stderr
    problems = []
    for path in paths:
        mentions = [line.strip() for line in output.splitlines() if str(path) in line or relative(path, root) in line]
        if mentions:
            problems.append(f"{relative(path, root)}: {builtin}: {first_line(output[output.find(mentions[0]) :], 600)}")
    return problems or [f"{', '.join(relative(path, root) for path in paths)}: {builtin}: {first_line(output)}"]


def validate_azure_pipelines(paths: list[Path], root: Path) -> list[str]:
    """Azure DevOps pipeline and template files against the Azure Pipelines schema."""
    return _check_jsonschema("vendor.azure-pipelines", paths, root) if paths else []


def actionlint_binary() -> str | None:
    if ACTIONLINT.is_file():
        return str(ACTIONLINT)
    return shutil.which("actionlint")


def validate_github_workflows(paths: list[Path], root: Path) -> list[str]:
    """GitHub Actions workflows with actionlint; its JSON schema only when actionlint is missing."""
    if not paths:
        return []
    binary = actionlint_binary()
    if binary is None:
        print("warning: actionlint not found (make build/bin/actionlint); falling back to the workflow JSON schema", file=sys.stderr)
        return _check_jsonschema("vendor.github-workflows", paths, root)
    # -shellcheck= and -pyflakes= : lint the workflow itself, not tools this machine may lack.
    result = subprocess.run(
        [binary, "-no-color", "-shellcheck=", "-pyflakes=", *map(str, paths)], capture_output=True, text=True, check=False, cwd=root
    )
    if result.returncode == 0:
        return []
    problems = []
    for line in (result.stdout + result.stderr).splitlines():
        if ":" in line and not line.startswith(" "):
            file_part = line.split(":", 1)[0]
            problems.append(f"{relative(Path(file_part) if Path(file_part).is_absolute() else root / file_part, root)}: actionlint: {line}")
    return problems or [f"{', '.join(relative(path, root) for path in paths)}: actionlint: {first_line(result.stdout + result.stderr)}"]
