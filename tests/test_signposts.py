"""Signposts: `make help` lists every target a README or doc tells people to run, and the
docs name only files that exist (or, on a short explicit list, files commands create)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from conftest import REPO_ROOT, generate

# `make demo`, `make -C infra setup`; not file targets such as `make build/venv/.installed`.
MAKE_MENTION = re.compile(r"\bmake\s+(?:-C\s+(\S+)\s+)?([a-z][a-z0-9-]*)(?![\w./-])")
RULE = re.compile(r"^([a-zA-Z][a-zA-Z0-9_-]*):(?!=)", re.M)
DOC_EXTENSIONS = (".md", ".py", ".yaml", ".yml", ".json", ".toml", ".sh", ".txt", ".cfg", ".png", ".svg", ".ipynb")
# Paths the docs may name that no checkout holds, each for a stated reason.
CREATED_BY_COMMANDS = ("build/", "infra/.venv", ".venv/")  # make setup, make demo, request plan --output, plan --diagram
NOT_IN_THIS_REPOSITORY = {
    ".cruft.json": "written into each generated repository by the post-generation hook",
    "summary.md": "written by `dsplatform request plan --output DIR` into DIR",
    "plan-prod.svg": "written by `dsplatform plan --diagram plan-prod.svg` (README.md)",
    "my-request.yaml": "docs/self-service.md's example of a request with five mistakes",
    "projects/bad.yaml": "docs/infra.md's example of an invalid project file",
    "Microsoft.Databricks/workspaces": "an Azure resource type, not a path",
    "../x": "docs/template.md: an answer refused for escaping the project",
    "a/b": "docs/template.md: an answer refused for holding a path separator",
    "path/to/project": "a placeholder",
    "!!python/object/apply": "docs/security.md and docs/self-service.md: a YAML tag the request loader refuses",
    "!!python/object/apply:os.system": "docs/security.md: the same tag with its payload",
    "..": "docs/security.md: a path-like answer (`../`) that is refused",
    "validate/plan/stacks/scaffold": "docs/security.md: four `request` subcommands, not a path",
    "!!python": "docs/self-service.md: a YAML tag the loader refuses",
    "checkov.io/skipN": "docs/template.md: a Kubernetes annotation key, not a path",
    "notebooks/max.muller": "docs/template.md: the folder a generated project gets for the author 'Max Müller'",
    "../escape": "docs/security.md: a replayed slug that is refused",
    "azure/login": "docs/security.md: a GitHub action's name, not a path",
    "cookiecutter-answers.yaml": "written by cookiecutter's pre-generation hook when typed answers are refused",
}


def make_help(directory: Path) -> list[str]:
    result = subprocess.run(["make", "-s", "help"], cwd=directory, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return [line.split()[0] for line in result.stdout.splitlines()[1:] if line.startswith("  ")]


def code(text: str) -> list[str]:
    """The fenced blocks and inline code spans of a Markdown text: where commands are."""
    block = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
    return block.findall(text) + re.findall(r"`([^`\n]+)`", block.sub("", text))


def mentioned_targets(text: str, directory: str | None) -> set[str]:
    """Targets a text tells people to run in `directory` (None: the folder of the Makefile itself)."""
    return {target for span in code(text) for folder, target in MAKE_MENTION.findall(span) if (folder or None) == directory}


@pytest.mark.parametrize(("makefile_dir", "mention_dir"), [(".", None), ("infra", "infra")])
def test_make_help_lists_every_target_and_every_mentioned_one(makefile_dir, mention_dir):
    directory = REPO_ROOT / makefile_dir
    listed = make_help(directory)
    defined = set(RULE.findall((directory / "Makefile").read_text(encoding="utf-8")))
    assert set(listed) == defined, "every target has a ## line above it, and help lists only real targets"
    docs = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
    mentioned = set().union(*(mentioned_targets(doc.read_text(encoding="utf-8"), mention_dir) for doc in docs))
    assert mentioned, "the docs name no target here: the check would pass vacuously"
    assert mentioned <= set(listed), mentioned - set(listed)


@pytest.mark.parametrize("sample", ["both", "many_models"])
def test_the_generated_project_has_make_help_for_every_readme_target(tmp_path, sample):
    # A generated project: its Makefile includes each present sample's targets.mk, and its
    # README and docs are assembled from the fragments the answers kept.
    project = generate(tmp_path, sample=sample)
    listed = make_help(project)
    makefiles = [project / "Makefile", *sorted((project / "code").glob("*/*/targets.mk"))]
    assert set(listed) == set().union(*(RULE.findall(path.read_text(encoding="utf-8")) for path in makefiles))
    texts = [project / "README.md", *sorted((project / "docs").glob("*.md"))]
    mentioned = set().union(*(mentioned_targets(text.read_text(encoding="utf-8"), None) for text in texts))
    assert {"setup", "test", "many-models"} <= mentioned
    assert ("pipeline" in mentioned) == (sample == "both")
    assert mentioned <= set(listed), mentioned - set(listed)


def tracked_paths() -> set[str]:
    files = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.split("\n")
    known = set()
    for path in filter(None, files):
        parts = path.split("/")
        known.update("/".join(parts[:index]) for index in range(1, len(parts) + 1))
    return known


def path_mentions(text: str) -> set[str]:
    """Tokens in code spans, fenced blocks and links that look like repository paths."""
    links = re.findall(r"\]\(([^)\s#]+)", re.sub(r"^```[^\n]*\n(.*?)^```", "", text, flags=re.S | re.M))
    spans = code(text) + links
    found = set()
    for span in spans:
        for word in span.split():
            token = word.strip(",;:()'\"").rstrip(".")
            if "://" in token or token.startswith(("-", "$", "/", "~")) or any(char in token for char in "<*={}[]|@"):
                continue
            if re.fullmatch(r"[\d.]+/\d+", token) or token in DOC_EXTENSIONS:
                continue  # an address range, or an extension named on its own
            if "/" in token or token.endswith(DOC_EXTENSIONS):
                found.add(token)
    return found


def test_every_path_the_docs_name_exists():
    known = tracked_paths()

    def exists(token: str) -> bool:
        path = token.split("::")[0].removeprefix("./").rstrip("/")  # a test's node id names its file
        # Docs name paths from the root, from their own folder, or inside a folder the
        # sentence is about (`components/access.py` in dsplatform): a tracked path
        # ending in the token is enough; a misspelt or vanished file is not.
        return path in known or any(candidate.endswith("/" + path) for candidate in known)

    docs = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
    checked, missing = 0, []
    for doc in docs:
        for token in sorted(path_mentions(doc.read_text(encoding="utf-8"))):
            if token.startswith(CREATED_BY_COMMANDS) or token.rstrip("/") in NOT_IN_THIS_REPOSITORY:
                continue
            checked += 1
            if not exists(token):
                missing.append(f"{doc.relative_to(REPO_ROOT)}: {token}")
    assert checked > 100, "too few paths found: the extraction is broken"
    assert not missing, missing


def test_the_path_check_catches_a_missing_file():
    mentions = path_mentions("Run `dsplatform request validate infra/projects/churn.yaml` and see [infra](infra.md).")
    assert mentions == {"infra/projects/churn.yaml", "infra.md"}
    known = tracked_paths()
    assert "infra/projects/churn.yaml" not in known and "infra/projects/example.yaml" in known


def test_the_docs_images_are_small_and_linked():
    images = sorted((REPO_ROOT / "docs" / "images").glob("*.png"))
    assert images
    for image in images:
        assert image.stat().st_size < 300_000, image
    docs = "".join(path.read_text(encoding="utf-8") for path in (REPO_ROOT / "docs").glob("*.md"))
    assert {f"images/{image.name}" for image in images} <= set(re.findall(r"\]\((images/[^)]+)\)", docs))
