"""Security scanners over every generated combination at once: checkov and detect-secrets.

Why once: each scanner takes seconds to start (checkov loads ~1,000 checks), so template CI
gathers every combination's files into one folder and runs each scanner one time over it.
Files identical in path and content across combinations are gathered once (hard links, so
nothing is copied): a scanner's findings depend only on a file's path and content, so the
deduplicated folder yields every finding the full set would, at a fraction of the cost.

Both must end with 0 failures. A check that does not apply is skipped inline in the file that
triggers it, with a reason (`checkov.io/skipN` annotations in Kubernetes manifests,
`# checkov:skip=CKV_X:reason` comments elsewhere, `# pragma: allowlist secret` for
detect-secrets); no check is skipped globally. The scanners live in their own virtualenvs
(build/checkov, build/detect-secrets; the root Makefile installs them) because checkov pins
versions of packaging and python-dateutil that clash with build/venv, and ships its own fork
of detect-secrets under the same module name.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CHECKOV = REPO_ROOT / "build" / "checkov" / "bin" / "checkov"
DETECT_SECRETS = REPO_ROOT / "build" / "detect-secrets" / "bin" / "detect-secrets"
CHECKOV_FRAMEWORKS = ("kubernetes", "dockerfile", "github_actions", "secrets")
# Checkov recognises Azure Pipelines files only by the name *azure-pipelines*.yml, so the
# generated .ado/*.yml are not in its azure_pipelines framework (docs/template.md).
SKIP_GIT = r"(^|/)\.git/"
# Caches the checks themselves leave in a rendered repository (ruff, pytest, Python): not
# generated files, and ruff's CACHEDIR.TAG holds a hex signature detect-secrets reads as a secret.
TOOL_CACHES = {".git", ".ruff_cache", ".pytest_cache", "__pycache__"}
# cruft records the template's commit in .cruft.json ("commit" and the context's "_commit"):
# a 40-hex git SHA, which detect-secrets' entropy plugin reads as a secret. JSON has no
# comments for an inline pragma, so exactly these lines are excluded, and nothing else.
CRUFT_COMMIT_LINE = r'^\s*"_?commit": "[0-9a-f]{40}",?$'


@dataclass
class ScanResult:
    scanner: str
    problems: list[str] = field(default_factory=list)
    passed: int = 0
    skipped: int = 0
    files: int = 0
    seconds: float = 0.0


def gather(projects: Iterable[tuple[str, Path]], target: Path) -> int:
    """Hard-link every file of the projects into target/<name>/..., once per (path, content)."""
    seen: set[tuple[str, str]] = set()
    count = 0
    for name, project in projects:
        for path in sorted(project.rglob("*")):
            relative = path.relative_to(project)
            if not path.is_file() or TOOL_CACHES & set(relative.parts):
                continue
            key = (relative.as_posix(), hashlib.sha256(path.read_bytes()).hexdigest())
            if key in seen:
                continue
            seen.add(key)
            destination = target / name / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, destination)
            except OSError:
                shutil.copy2(path, destination)
            count += 1
    return count


def _missing(binary: Path, target: str) -> list[str]:
    return [] if binary.is_file() else [f"{binary.relative_to(REPO_ROOT)} is missing; run `make {target}`"]


def _run_for_json(result: ScanResult, command: list[str], **options) -> tuple[dict | list | None, subprocess.CompletedProcess]:
    """Run a scanner, time it into `result`, and parse its JSON report (None, with the
    problem recorded, when it printed none)."""
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False, **options)
    result.seconds = time.perf_counter() - started
    try:
        return json.loads(completed.stdout), completed
    except json.JSONDecodeError:
        result.problems.append(
            f"{result.scanner}: no JSON report (exit {completed.returncode}): {(completed.stderr or completed.stdout)[-600:]}"
        )
        return None, completed


def run_checkov(folder: Path) -> ScanResult:
    """checkov over the folder, hidden folders included, with its four frameworks; no network."""
    result = ScanResult("checkov", problems=_missing(CHECKOV, "build/checkov/.installed"))
    if result.problems:
        return result
    command = [str(CHECKOV), "--directory", str(folder), "--framework", *CHECKOV_FRAMEWORKS, "--skip-path", SKIP_GIT]
    # --enable-secret-scan-all-files: without it the secrets framework reads only IaC file types
    # (YAML, JSON, Dockerfiles...), never Python, shell or Markdown.
    command += ["--enable-secret-scan-all-files", "--skip-download", "--output", "json", "--compact"]
    environment = dict(os.environ, CKV_IGNORE_HIDDEN_DIRECTORIES="false", PYTHONWARNINGS="ignore")
    reports, completed = _run_for_json(result, command, env=environment)
    if reports is None:
        return result
    # One framework with findings gives an object, several a list; none at all a bare summary.
    reports = reports if isinstance(reports, list) else [reports]
    for report in reports:
        if "results" not in report:
            continue
        summary = report.get("summary", {})
        result.passed += summary.get("passed", 0)
        result.skipped += summary.get("skipped", 0)
        if summary.get("parsing_errors"):
            result.problems.append(f"checkov {report.get('check_type')}: {summary['parsing_errors']} file(s) could not be parsed")
        for failed in report["results"].get("failed_checks", []):
            result.problems.append(
                f"{failed['file_path'].lstrip('/')}: checkov {failed['check_id']} {failed['check_name']} ({failed.get('resource', '')})"
            )
    if completed.returncode not in (0, 1):
        result.problems.append(f"checkov exited {completed.returncode}: {completed.stderr[-600:]}")
    elif completed.returncode == 1 and not result.problems:
        result.problems.append("checkov exited 1 without a failed check in its report")
    return result


def run_detect_secrets(folder: Path) -> ScanResult:
    """detect-secrets over every file of the folder (not only files git tracks), all plugins."""
    result = ScanResult("detect-secrets", problems=_missing(DETECT_SECRETS, "build/detect-secrets/.installed"))
    if result.problems:
        return result
    command = [str(DETECT_SECRETS), "scan", "--all-files", "--exclude-files", SKIP_GIT, "--exclude-lines", CRUFT_COMMIT_LINE, "."]
    baseline, _ = _run_for_json(result, command, cwd=folder)
    if baseline is None:
        return result
    result.files = sum(1 for path in folder.rglob("*") if path.is_file())
    for path, secrets in sorted(baseline.get("results", {}).items()):
        for secret in secrets:
            result.problems.append(
                f"{path}:{secret['line_number']}: detect-secrets: {secret['type']} "
                "(remove it, or mark a false positive with `# pragma: allowlist secret` and say why)"
            )
    result.passed = result.files - len(baseline.get("results", {}))
    return result


def scan(projects: Iterable[tuple[str, Path]], work: Path) -> tuple[list[ScanResult], int]:
    """Gather the projects into work/ and run both scanners once over it."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    files = gather(projects, work)
    return [run_checkov(work), run_detect_secrets(work)], files
