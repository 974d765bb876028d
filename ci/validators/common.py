"""What every validator of this package shares: where the repository is, and how a
problem is written.

Every problem is one line that starts with the file's path relative to the repository
it belongs to, and a tool's many-line output is folded into that one line; reading YAML
reports a broken file as such a line instead of raising. One copy of those rules keeps
every validator's messages alike.
"""

from __future__ import annotations

from pathlib import Path

import yaml

# This file is ci/validators/common.py: the repository root is three folders up.
REPO_ROOT = Path(__file__).resolve().parents[2]


def relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def first_line(text: str, limit: int = 400) -> str:
    """A tool's many-line output folded into one line, so every problem stays one line."""
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return " | ".join(lines)[:limit] or "failed without a message"


def read_yaml(path: Path, root: Path) -> tuple[object, str | None]:
    """The document, or the one-line problem that the file is not YAML: reported, never raised."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")), None
    except yaml.YAMLError as error:
        return None, f"{relative(path, root)}: not valid YAML: {first_line(error)}"
