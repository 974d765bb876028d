"""ci/platform/plan-requests.sh, the step both platform pipelines run on a pull request:
the comment it writes starts with our marker and, per request, either our verdict first
or the request's problems inside a code block; a file name that is not a slug cannot
inject Markdown (a backtick or `<!--` in a name is refused and shown in a code block)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import EXAMPLE, INFRA

SCRIPT = INFRA.parent / "ci" / "platform" / "plan-requests.sh"


def git(folder: Path, *arguments: str) -> None:
    subprocess.run(["git", *arguments], cwd=folder, check=True, capture_output=True)


@pytest.fixture
def repository(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("needs git")
    (tmp_path / "infra" / "projects").mkdir(parents=True)
    (tmp_path / "infra" / ".venv").symlink_to(INFRA / ".venv")
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "--allow-empty", "-m", "base")
    return tmp_path


def run(repository: Path, files: dict[str, str]) -> tuple[int, str, str]:
    for name, text in files.items():
        (repository / "infra" / "projects" / name).write_text(text)
    git(repository, "add", "--all")
    git(repository, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "request")
    result = subprocess.run(
        ["bash", str(SCRIPT), "HEAD~1", "out"], cwd=repository, capture_output=True, text=True, timeout=300, check=False,
        env=dict(os.environ, GIT_CONFIG_NOSYSTEM="1"),
    )  # fmt: skip
    return result.returncode, (repository / "out" / "comment.md").read_text(), result.stderr


def test_a_valid_request_gets_our_verdict_first_and_an_invalid_one_its_problems_in_a_code_block(repository):
    bad = yaml.safe_load(EXAMPLE.read_text())
    bad["request"]["display_name"] = "Churn <!--"
    bad["location"] = "west <!-- europe"
    code, comment, stderr = run(repository, {"churn.yaml": EXAMPLE.read_text(), "zz-bad.yaml": yaml.safe_dump(bad)})
    assert code == 2, stderr
    lines = comment.splitlines()
    assert lines[0] == "<!-- dsplatform-request-summary -->"
    assert lines[1].startswith("**Guardrails passed** for dev, staging, prod")
    assert "Traceback" not in comment + stderr
    # The invalid request's problems sit inside a fence that only our lines open and close.
    start = lines.index("## `infra/projects/zz-bad.yaml` is invalid")
    end = lines.index("```", start + 3)
    assert lines[start + 2] == "```" and not any(lines[end + 1 :]), lines[start:]
    assert end > start + 3 and all(line.startswith("infra/projects/zz-bad.yaml:") for line in lines[start + 3 : end])
    assert "<!--" not in "\n".join(lines[1:start])


def test_a_file_name_that_is_not_a_slug_is_refused_inside_a_code_block(repository):
    code, comment, stderr = run(repository, {"a`<!--.yaml": EXAMPLE.read_text()})
    assert code == 2
    lines = comment.splitlines()
    assert lines[1] == "## A request file has a name that is not a project slug"
    assert lines[3] == "```" and lines[5] == "```" and "<!--" in lines[4]
    assert "must be infra/projects/<project>.yaml" in stderr
