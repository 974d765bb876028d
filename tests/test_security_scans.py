"""The security gates of template CI really fail: checkov, detect-secrets, the action-pin check
and the pull-request login check each pass a generated repository and refuse a mutated copy.

Each scanner runs once per test module over a folder holding the pristine repository and its
mutations side by side, the same way template CI runs it once over every combination.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from ci.scanners import gather, run_checkov, run_detect_secrets
from ci.validators import validate_action_pins, validate_ado_pull_request_logins, validate_github_pull_request_logins

from conftest import generate

MANIFEST = ".cloud/kubernetes/many-models-serving.yml"
CRUFT_COMMIT = "0f9e8d7c6b5a49382716a5b4c3d2e1f0a9b8c7d6"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> dict[str, Path]:
    """One repository per CI system with every compute and both samples."""
    return {cicd: generate(tmp_path_factory.mktemp(cicd), cicd=cicd, compute="both", sample="both") for cicd in ("azure_devops", "github")}


def _copy(project: Path, target: Path) -> Path:
    shutil.copytree(project, target, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    return target


def _replace(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


# --------------------------------------------------------------------------------------
# checkov and detect-secrets: one run each over pristine and mutated copies
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scanned(pristine, tmp_path_factory):
    folder = tmp_path_factory.mktemp("scan")
    projects = {name: _copy(pristine["github"], folder / "sources" / name) for name in ("pristine", "writable-root", "planted-secret")}
    _replace(projects["writable-root"] / MANIFEST, "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")
    settings = projects["planted-secret"] / "code" / "predictive_maintenance" / "core" / "settings.py"
    settings.write_text(
        settings.read_text(encoding="utf-8") + '\nAZURE_STORAGE_KEY = "Zx8Qw2Er4Ty6Ui8Op0As2Df4Gh6Jk8Lz1Xc3Vb5NmQ="\n', encoding="utf-8"
    )
    # cruft records the template's commit: a 40-hex SHA that must not count as a secret.
    for project in projects.values():
        cruft = project / ".cruft.json"
        recorded = json.loads(cruft.read_text(encoding="utf-8"))
        recorded["commit"] = recorded["context"]["cookiecutter"]["_commit"] = CRUFT_COMMIT
        cruft.write_text(json.dumps(recorded, indent=2) + "\n", encoding="utf-8")
    target = folder / "gathered"
    gather(projects.items(), target)
    return run_checkov(target), run_detect_secrets(target)


def test_checkov_passes_the_generated_repository_and_fails_a_writable_root_filesystem_and_a_planted_key(scanned):
    checkov, _ = scanned
    assert checkov.passed > 100, "checkov ran its kubernetes, dockerfile and github_actions checks"
    assert checkov.skipped >= 2, "the image-pin checks are skipped inline, with their reason, on the placeholder"
    assert not [problem for problem in checkov.problems if "pristine/" in problem], checkov.problems
    assert [problem for problem in checkov.problems if problem.startswith(f"writable-root/{MANIFEST}: checkov CKV_K8S_22")], (
        checkov.problems
    )
    assert [
        problem
        for problem in checkov.problems
        if problem.startswith("planted-secret/code/predictive_maintenance/core/settings.py: checkov CKV_SECRET")
    ]
    assert all(problem.startswith(("writable-root/", "planted-secret/")) for problem in checkov.problems), checkov.problems
    assert not any(".cruft.json" in problem for problem in checkov.problems)


def test_detect_secrets_finds_a_planted_key_but_not_cruft_commit(scanned):
    _, secrets = scanned
    flagged = {problem.split(":")[0] for problem in secrets.problems}
    assert flagged == {"planted-secret/code/predictive_maintenance/core/settings.py"}, secrets.problems
    assert not any(".cruft.json" in problem for problem in secrets.problems)


def test_a_missing_scanner_is_a_failure_not_a_pass(monkeypatch, tmp_path):
    import ci.scanners

    monkeypatch.setattr(ci.scanners, "CHECKOV", tmp_path / "no-checkov")
    monkeypatch.setattr(ci.scanners, "DETECT_SECRETS", tmp_path / "no-detect-secrets")
    monkeypatch.setattr(ci.scanners, "REPO_ROOT", tmp_path)
    assert "no-checkov is missing" in run_checkov(tmp_path).problems[0]
    assert "no-detect-secrets is missing" in run_detect_secrets(tmp_path).problems[0]


# --------------------------------------------------------------------------------------
# Actions pinned to commit SHAs
# --------------------------------------------------------------------------------------


def test_every_generated_action_is_pinned_to_a_commit_with_its_version(pristine):
    project = pristine["github"]
    workflows = sorted((project / ".github" / "workflows").glob("*.yml"))
    assert workflows
    for workflow in workflows:
        assert validate_action_pins(workflow, project) == []
        assert re.search(r"uses: [\w/-]+@[0-9a-f]{40} # v\d", workflow.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("replacement", "message"),
    [
        ("uses: actions/checkout@v4", "is not pinned to a full commit SHA"),
        ("uses: actions/checkout@main", "is not pinned to a full commit SHA"),
        ("uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262", "has no version comment"),
    ],
)
def test_an_action_pinned_to_a_tag_or_without_its_version_fails(pristine, tmp_path, replacement, message):
    project = _copy(pristine["github"], tmp_path / "project")
    workflow = project / ".github" / "workflows" / "pr.yml"
    text = workflow.read_text(encoding="utf-8")
    text = re.sub(r"uses: actions/checkout@[0-9a-f]{40} # v[\d.]+", replacement, text, count=1)
    workflow.write_text(text, encoding="utf-8")
    (problem,) = validate_action_pins(workflow, project)
    assert problem.startswith(".github/workflows/pr.yml:") and message in problem


# --------------------------------------------------------------------------------------
# No cloud login on an unreviewed pull request
# --------------------------------------------------------------------------------------


def test_generated_pull_request_jobs_log_in_only_through_the_protected_environment(pristine):
    github = pristine["github"]
    for workflow in sorted((github / ".github" / "workflows").glob("*.yml")):
        assert validate_github_pull_request_logins(workflow, github) == []
    azure = pristine["azure_devops"]
    assert validate_ado_pull_request_logins(sorted((azure / ".ado").glob("*.yml")), azure) == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # The pull-request job without its protected environment.
        ("    environment: pr-validation\n", ""),
        # The same job in the unprotected dev environment.
        ("    environment: pr-validation\n", "    environment: dev\n"),
        # The push-only job opened to pull requests.
        ("    if: github.event_name != 'pull_request'\n", ""),
    ],
    ids=["no environment", "unprotected environment", "push job runs on pull requests"],
)
def test_a_github_pull_request_job_with_azure_login_outside_the_protected_environment_fails(pristine, tmp_path, old, new):
    project = _copy(pristine["github"], tmp_path / "project")
    workflow = project / ".github" / "workflows" / "databricks.yml"
    _replace(workflow, old, new)
    problems = validate_github_pull_request_logins(workflow, project)
    assert problems and all("on pull_request outside a protected environment" in problem for problem in problems), problems
    assert "runs azure/login" in problems[0]


def test_an_oidc_token_permission_on_a_pull_request_job_fails(pristine, tmp_path):
    project = _copy(pristine["github"], tmp_path / "project")
    workflow = project / ".github" / "workflows" / "pr.yml"
    _replace(workflow, "permissions:\n  contents: read\n", "permissions:\n  contents: read\n  id-token: write\n")
    (problem,) = validate_github_pull_request_logins(workflow, project)
    assert "job 'test' may request an OIDC token (id-token: write) on pull_request" in problem


def test_an_azure_devops_pull_request_job_with_a_service_connection_fails(pristine, tmp_path):
    project = _copy(pristine["azure_devops"], tmp_path / "project")
    pipeline = project / ".ado" / "databricks.yml"
    _replace(pipeline, "        condition: ne(variables['Build.Reason'], 'PullRequest')\n", "")
    (problem,) = validate_ado_pull_request_logins(sorted((project / ".ado").glob("*.yml")), project)
    assert problem.startswith(".ado/databricks.yml: job 'validate' runs AzureCLI@2 with a service connection in a pull-request build")


def test_an_azure_devops_login_through_a_steps_template_is_followed(pristine, tmp_path):
    """azureml.yml logs in only through azureml-deploy.yml; opened to pull requests, it fails."""
    project = _copy(pristine["azure_devops"], tmp_path / "project")
    pipeline = project / ".ado" / "azureml.yml"
    _replace(pipeline, "pr: none\n", "pr:\n  branches:\n    include: [main]\n")
    _replace(pipeline, "    condition: eq(variables['Build.SourceBranch'], 'refs/heads/main')\n", "")
    problems = validate_ado_pull_request_logins(sorted((project / ".ado").glob("*.yml")), project)
    assert problems and "(template azureml-deploy.yml)" in problems[0] and "job 'staging'" in problems[0], problems


def test_gather_keeps_each_distinct_file_once_and_leaves_tool_caches_out(tmp_path):
    """Two combinations sharing a file gather it once; a differing one is kept per combination."""
    for name, version in (("a", "3.11"), ("b", "3.12")):
        project = tmp_path / name
        (project / ".ruff_cache").mkdir(parents=True)
        (project / ".ruff_cache" / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
        (project / "README.md").write_text("same\n")
        (project / "pyproject.toml").write_text(f'requires-python = ">={version}"\n')
    target = tmp_path / "gathered"
    assert gather([("a", tmp_path / "a"), ("b", tmp_path / "b")], target) == 3
    assert sorted(path.relative_to(target).as_posix() for path in target.rglob("*") if path.is_file()) == [
        "a/README.md",
        "a/pyproject.toml",
        "b/pyproject.toml",
    ]
