"""CI supply chain and credentials: actions pinned to commits, and no cloud login in a
job a pull request can start outside a protected environment.

A module of its own because these are security rules, not format checks: a pipeline can
be valid for its schema and still hand a cloud identity to an unreviewed pull request.
The rules read GitHub Actions and Azure Pipelines files alike, including the templates
an Azure pipeline includes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import yaml

from ci.validators.common import read_yaml, relative

# `uses: owner/repo[/path]@<40 hex> # v1.2.3`. A tag or branch can be moved to other code by
# whoever controls the action's repository; a full commit SHA cannot. GitHub's guidance:
# https://docs.github.com/en/actions/security-for-github-actions/security-guides/security-hardening-for-github-actions#using-third-party-actions
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*['\"]?(?P<action>[^\s'\"#]+)['\"]?\s*(?:#\s*(?P<comment>.*))?$")
PINNED_REF = re.compile(r"@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^v?\d+(?:\.\d+)*\S*$")
# The environment through which a pull request may reach a cloud identity; the generated
# docs/deployment.md (step 3) has it created with required reviewers (GitHub) or an approval
# check (Azure DevOps, named <project>-pr-validation).
PR_VALIDATION_ENVIRONMENT = "pr-validation"
PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
CLI_LOGIN = re.compile(r"\baz\s+login\b|\bConnect-AzAccount\b|\bazd\s+auth\s+login\b")
# Azure DevOps tasks that sign in with a service connection.
ADO_LOGIN_TASK = re.compile(
    r"^(?:AzureCLI|AzurePowerShell|AzureKeyVault|AzureResourceManagerTemplateDeployment|AzureWebApp|AzureFunctionApp|Kubernetes|Docker)@",
    re.I,
)
ADO_CONNECTION_INPUTS = {"azuresubscription", "connectedservicenamearm", "azureresourcemanagerconnection", "connectedservicename"}


def validate_action_pins(path: Path, root: Path) -> list[str]:
    """Every `uses:` of a workflow pins a full commit SHA and names its version in a trailing comment."""
    problems = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = USES_LINE.match(line)
        if not match:
            continue
        action, comment = match.group("action"), (match.group("comment") or "").strip()
        if action.startswith("./") or (action.startswith("docker://") and "@sha256:" in action):
            continue
        if not PINNED_REF.search(action):
            problems.append(
                f"{relative(path, root)}:{number}: `uses: {action}` is not pinned to a full commit SHA; write `uses: {action.split('@')[0]}@<40-hex commit> # <version>`"
            )
        elif not VERSION_COMMENT.match(comment):
            problems.append(f"{relative(path, root)}:{number}: `uses: {action}` has no version comment; add `# v<version>` after the SHA")
    return problems


def _strip_expression(condition: object) -> str:
    text = str(condition or "").strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    return text.strip()


def _github_if_excludes(condition: object, event: str) -> bool:
    """Whether a job's `if:` can never be true for this pull-request event (conservative: only
    plain `&&` chains of event-name and ref tests are understood; anything else may run)."""
    text = _strip_expression(condition)
    if not text or "||" in text or "!" in text.replace("!=", ""):
        return False
    for conjunct in (part.strip().strip("()").strip() for part in text.split("&&")):
        match = re.fullmatch(r"github\.event_name\s*(==|!=)\s*'([^']+)'", conjunct)
        if match and ((match.group(1) == "==" and match.group(2) != event) or (match.group(1) == "!=" and match.group(2) == event)):
            return True
        # A pull_request run's github.ref is refs/pull/<n>/merge; pull_request_target's is the base branch.
        if event == "pull_request" and re.fullmatch(r"github\.ref\s*==\s*'refs/(?:heads|tags)/[^']*'", conjunct):
            return True
        if re.fullmatch(r"startsWith\(\s*github\.ref\s*,\s*'refs/tags/[^']*'\s*\)", conjunct):
            return True
    return False


def _github_login(job: dict, workflow_permissions: object) -> str | None:
    """What gives a job a cloud identity: azure/login, a CLI login, or an OIDC token permission."""
    for step in job.get("steps") or []:
        if not isinstance(step, dict):
            continue
        if str(step.get("uses", "")).lower().startswith("azure/login@"):
            return "runs azure/login"
        if CLI_LOGIN.search(str(step.get("run", ""))):
            return "runs az login"
    permissions = job.get("permissions", workflow_permissions)
    if permissions == "write-all" or (isinstance(permissions, dict) and permissions.get("id-token") == "write"):
        return "may request an OIDC token (id-token: write)"
    return None


def _github_jobs_excluded(jobs: dict, event: str) -> dict[str, bool]:
    """Per job, whether it never runs for this event: its own `if:`, or a needed job that never
    runs (a job whose needs are skipped is skipped too, unless its `if:` says always())."""
    excluded: dict[str, bool] = {}

    def visit(name: str, seen: frozenset) -> bool:
        if name not in excluded:
            job = jobs.get(name) if isinstance(jobs.get(name), dict) else {}
            needs = job.get("needs") or []
            needs = [needs] if isinstance(needs, str) else needs
            skipped_with_needs = "always()" not in str(job.get("if", "")) and any(
                need not in seen and visit(need, seen | {name}) for need in needs
            )
            excluded[name] = _github_if_excludes(job.get("if"), event) or skipped_with_needs
        return excluded[name]

    for name in jobs:
        visit(name, frozenset())
    return excluded


def validate_github_pull_request_logins(path: Path, root: Path) -> list[str]:
    """No job that a pull request can start logs in to a cloud, unless it runs in the protected
    `pr-validation` environment (required reviewers approve before it gets a token)."""
    document, problem = read_yaml(path, root)
    if problem or not isinstance(document, dict):
        return [problem] if problem else []
    triggers = document.get("on", document.get(True))  # YAML 1.1 reads a bare `on` key as True
    names = [triggers] if isinstance(triggers, str) else list(triggers or [])
    events = [event for event in PULL_REQUEST_EVENTS if event in names]
    jobs = document.get("jobs") or {}
    problems = []
    for event in events:
        excluded = _github_jobs_excluded(jobs, event)
        for name, job in jobs.items():
            if not isinstance(job, dict) or excluded[name]:
                continue
            login = _github_login(job, document.get("permissions"))
            environment = job.get("environment")
            environment_name = environment.get("name") if isinstance(environment, dict) else environment
            if login and environment_name != PR_VALIDATION_ENVIRONMENT:
                problems.append(
                    f"{relative(path, root)}: job '{name}' {login} on {event} outside a protected environment; "
                    f"give it `environment: {PR_VALIDATION_ENVIRONMENT}` (required reviewers) or `if: github.event_name != '{event}'`"
                )
    return problems


def _ado_condition_excludes_pull_requests(condition: object) -> bool:
    """Whether an Azure Pipelines condition is false for every pull-request build (conservative:
    only `and(...)` chains of Build.Reason and Build.SourceBranch tests are understood)."""
    text = str(condition or "")
    if not text or re.search(r"\b(?:or|not|xor)\(", text):
        return False
    reason = r"variables(?:\['Build\.Reason'\]|\.Build\.Reason|\['build\.reason'\])"
    branch = r"variables(?:\['Build\.SourceBranch'\]|\.Build\.SourceBranch)"
    patterns = (
        rf"ne\(\s*{reason}\s*,\s*'PullRequest'\s*\)",
        rf"eq\(\s*{reason}\s*,\s*'(?!PullRequest')[^']+'\s*\)",
        # A pull-request build's Build.SourceBranch is refs/pull/<n>/merge.
        rf"eq\(\s*{branch}\s*,\s*'refs/(?:heads|tags)/[^']*'\s*\)",
        rf"startsWith\(\s*{branch}\s*,\s*'refs/(?:heads|tags)/[^']*'\s*\)",
    )
    return any(re.search(pattern, text, re.I) for pattern in patterns)


def _ado_steps(node: object) -> list:
    """Every `steps:` list under a job, a deployment strategy's phases included."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "steps" and isinstance(value, list):
                found += value
            elif isinstance(value, dict | list):
                found += _ado_steps(value)
    elif isinstance(node, list):
        for item in node:
            found += _ado_steps(item)
    return found


def _ado_login(steps: list, base: Path, seen: frozenset = frozenset()) -> str | None:
    """What signs a job in: a task with a service connection or an `az login`, templates followed."""
    for step in steps:
        if not isinstance(step, dict):
            continue
        task = str(step.get("task", ""))
        inputs = step.get("inputs") or {}
        if ADO_LOGIN_TASK.match(task) or (isinstance(inputs, dict) and ADO_CONNECTION_INPUTS & {str(key).lower() for key in inputs}):
            return f"runs {task or 'a task'} with a service connection"
        scripts = [step.get(key) for key in ("script", "bash", "pwsh", "powershell")] + [
            inputs.get("inlineScript") if isinstance(inputs, dict) else None
        ]
        if any(CLI_LOGIN.search(str(script or "")) for script in scripts):
            return "runs az login"
        template = step.get("template")
        if isinstance(template, str) and "@" not in template:
            included = (base / template).resolve()
            if included.is_file() and included not in seen:
                document = yaml.safe_load(included.read_text(encoding="utf-8")) or {}
                login = _ado_login(_ado_steps(document), included.parent, seen | {included})
                if login:
                    return f"{login} (template {template})"
    return None


def ado_templates(paths: Iterable[Path]) -> set[Path]:
    """The files other pipelines include with `template:`: they run only inside their includer."""
    included = set()
    for path in paths:
        for match in re.finditer(r"^\s*-?\s*template:\s*['\"]?([^'\"\s@#]+)", path.read_text(encoding="utf-8"), re.M):
            included.add((path.parent / match.group(1)).resolve())
    return included


def validate_ado_pull_request_logins(paths: list[Path], root: Path) -> list[str]:
    """No job a pull-request build can run signs in to Azure, unless it is a deployment job in
    the `<project>-pr-validation` environment (an approval check gates it)."""
    templates = ado_templates(paths)
    problems = []
    for path in paths:
        if path.resolve() in templates:
            continue
        document, problem = read_yaml(path, root)
        if problem or not isinstance(document, dict):
            problems += [problem] if problem else []
            continue
        pr = document.get("pr", "default")
        if pr in ("none", False) or (isinstance(pr, list) and not pr):
            continue
        stages = document.get("stages") or [{"jobs": document.get("jobs") or [{"job": "(root)", "steps": document.get("steps") or []}]}]
        excluded_stages: set[str] = set()
        for stage in stages:
            if not isinstance(stage, dict):
                continue
            depends = stage.get("dependsOn") or []
            depends = [depends] if isinstance(depends, str) else depends
            condition = stage.get("condition")
            stage_excluded = _ado_condition_excludes_pull_requests(condition) or (
                (condition is None or "succeeded()" in str(condition)) and any(name in excluded_stages for name in depends)
            )
            if stage_excluded:
                excluded_stages.add(str(stage.get("stage")))
                continue
            for job in stage.get("jobs") or []:
                if not isinstance(job, dict) or _ado_condition_excludes_pull_requests(job.get("condition")):
                    continue
                login = _ado_login(_ado_steps(job), path.parent)
                environment = job.get("environment")
                environment_name = str((environment.get("name") if isinstance(environment, dict) else environment) or "")
                protected = "deployment" in job and environment_name.split(".")[0].endswith(PR_VALIDATION_ENVIRONMENT)
                if login and not protected:
                    name = job.get("deployment") or job.get("job") or "(unnamed)"
                    problems.append(
                        f"{relative(path, root)}: job '{name}' {login} in a pull-request build outside a protected environment; "
                        f"make it a deployment job in `<project>-{PR_VALIDATION_ENVIRONMENT}` (approval check) "
                        "or give it `condition: ne(variables['Build.Reason'], 'PullRequest')`"
                    )
    return problems
