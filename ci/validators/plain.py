"""Files with no schema of their own: plain YAML, notebooks, shell scripts and Python.

A module of its own because each of these is judged by its language's standard tool
(a YAML parser, nbformat, `bash -n`, ruff) rather than by a platform's schema.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat

from ci.validators.common import first_line, read_yaml, relative


def validate_yaml(path: Path, root: Path) -> list[str]:
    _, problem = read_yaml(path, root)
    return [problem] if problem else []


def validate_notebook(path: Path, root: Path) -> list[str]:
    """A valid nbformat 4 notebook, stored without outputs (the pre-commit stripper's promise)."""
    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises JSON, validation and reader errors
        return [f"{relative(path, root)}: not a valid notebook: {first_line(error)}"]
    if any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"):
        return [f"{relative(path, root)}: stored with outputs; strip them (nbstripout)"]
    return []


def validate_shell(path: Path, root: Path) -> list[str]:
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
    return [] if result.returncode == 0 else [f"{relative(path, root)}: bash -n: {first_line(result.stderr)}"]


def validate_python(project: Path) -> list[str]:
    """ruff check and ruff format --check over the whole generated repository, with its own config."""
    problems = []
    for arguments in (["check", "--output-format", "concise", "."], ["format", "--check", "."]):
        result = subprocess.run([sys.executable, "-m", "ruff", *arguments], cwd=project, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            problems += [
                f"ruff {arguments[0]}: {line}" for line in result.stdout.splitlines() if line.strip() and ("/" in line or ".py" in line)
            ]
            if not problems:
                problems.append(f"ruff {arguments[0]}: {first_line(result.stdout + result.stderr)}")
    return problems
