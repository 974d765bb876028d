"""Template syntax that survived rendering, in any file of a generated repository.

A module of its own because it judges every file whatever its kind: a leftover `{{` is a
template bug, not a problem of the file's format, and it must be told apart from the
expression syntax Azure ML, GitHub Actions and Databricks put in their own files.
"""

from __future__ import annotations

import re
from pathlib import Path

from ci.validators.common import relative

# Cookiecutter syntax that must never survive rendering. `${{ ... }}` is Azure ML's and
# GitHub Actions' expression syntax and `{{job.parameters.x}}` (and the like) Databricks'
# dynamic value references, so those are allowed; any other `{{` is left over.
DATABRICKS_REFERENCE = r"(?:job|task|tasks|workspace|run|backfill)\."
LEFTOVER_JINJA = re.compile(r"(?<!\$)\{\{(?!" + DATABRICKS_REFERENCE + r")|\{%|%\}|\{#|cookiecutter\.")


def leftover_jinja(path: Path, root: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return []
    match = LEFTOVER_JINJA.search(text)
    if match is None:
        return []
    line = text.count("\n", 0, match.start()) + 1
    return [f"{relative(path, root)}:{line}: unrendered template syntax {match.group(0)!r}"]
