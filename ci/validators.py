"""The official validator of every kind of file a generated repository holds, one function per kind.

Why one module: the template CI command, the tests and the corruption test must agree on
which validator judges which file. Files are found by location and by their `$schema`
line, so new job files (monitoring, many-models) are covered without edits here. Every
problem is one line that starts with the file's path, so a failure says where to look.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import nbformat
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
# The Databricks CLI's published bundle schema (databricks/cli bundle/schema/jsonschema.json,
# commit 7bbe2852, 2026-08-21), kept here so validation works offline.
BUNDLE_SCHEMA = REPO_ROOT / "ci" / "schemas" / "databricks-bundle.schema.json"
ACTIONLINT = REPO_ROOT / "build" / "bin" / "actionlint"
# Cookiecutter syntax that must never survive rendering. `${{ ... }}` is Azure ML's and
# GitHub Actions' expression syntax and `{{job.parameters.x}}` (and the like) Databricks'
# dynamic value references, so those are allowed; any other `{{` is left over.
DATABRICKS_REFERENCE = r"(?:job|task|tasks|workspace|run|backfill)\."
LEFTOVER_JINJA = re.compile(r"(?<!\$)\{\{(?!" + DATABRICKS_REFERENCE + r")|\{%|%\}|\{#|cookiecutter\.")

# Azure ML v2 `$schema` file name -> the azure-ai-ml loader that validates it.
AZUREML_LOADERS = {
    "commandComponent": "load_component",
    "pipelineComponent": "load_component",
    "pipelineJob": "load_job",
    "commandJob": "load_job",
    "sweepJob": "load_job",
    "environment": "load_environment",
    "amlCompute": "load_compute",
    "kubernetesCompute": "load_compute",
    "computeInstance": "load_compute",
    "managedOnlineEndpoint": "load_online_endpoint",
    "kubernetesOnlineEndpoint": "load_online_endpoint",
    "managedOnlineDeployment": "load_online_deployment",
    "kubernetesOnlineDeployment": "load_online_deployment",
    "batchEndpoint": "load_batch_endpoint",
    "batchDeployment": "load_batch_deployment",
    "modelBatchDeployment": "load_model_batch_deployment",
    "pipelineComponentBatchDeployment": "load_pipeline_component_batch_deployment",
    "model": "load_model",
    "data": "load_data",
    "schedule": "load_schedule",
}
AZUREML_SCHEMA_URL = re.compile(r"azuremlschemas\.azureedge\.net/(?:latest|[\w.]+)/(\w+)\.schema\.json")
# Files under the Azure ML folders that are not Azure ML objects themselves.
AZUREML_PLAIN_FILES = re.compile(r"conda[\w-]*\.ya?ml$")


def relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _first_line(text: str, limit: int = 400) -> str:
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return " | ".join(lines)[:limit] or "failed without a message"


# --------------------------------------------------------------------------------------
# Databricks Asset Bundles: the CLI's published JSON schema
# --------------------------------------------------------------------------------------


def _unicode_classes(pattern: str) -> str:
    """The schema's patterns use `\\p{L}` and `\\p{N}`, which Python's `re` lacks; these are equivalents.

    Inside a character class `[\\p{L}\\p{N}]` is "letter or digit", `[^\\W_]` in `re`.
    """
    pattern = pattern.replace(r"[\p{L}\p{N}]", r"[^\W_]")
    return pattern.replace(r"\p{L}", r"[^\W\d_]").replace(r"\p{N}", r"\d")


@functools.cache
def _bundle_validator():
    import jsonschema
    from jsonschema import validators

    schema = json.loads(BUNDLE_SCHEMA.read_text(encoding="utf-8"))

    def pattern(validator, expected, instance, _schema):
        if validator.is_type(instance, "string") and not re.search(_unicode_classes(expected), instance):
            yield jsonschema.ValidationError(f"{instance!r} does not match {expected!r}")

    base = validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return validators.extend(base, {"pattern": pattern})(schema)


def _best_errors(errors: Iterable) -> list:
    """`oneOf` errors (a value or a `${var.x}` reference) nest the real cause; report the deepest."""
    from jsonschema.exceptions import best_match

    found = list(errors)
    return [best_match([error]) for error in found]


def validate_bundle(path: Path, root: Path) -> list[str]:
    """A bundle file (databricks.yml or an included resource file) against the bundle schema."""
    document, problem = _yaml(path, root)
    if problem:
        return [problem]
    problems = []
    for error in sorted(_best_errors(_bundle_validator().iter_errors(document)), key=lambda error: list(error.path)):
        where = ".".join(str(part) for part in error.absolute_path) or "(root)"
        problems.append(f"{relative(path, root)}: bundle schema: {where}: {error.message[:300]}")
    return problems


# --------------------------------------------------------------------------------------
# Azure ML v2: azure-ai-ml's own loaders, chosen by `$schema`
# --------------------------------------------------------------------------------------


def azureml_loader_name(path: Path) -> str | None:
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    match = AZUREML_SCHEMA_URL.search(str(document.get("$schema", ""))) if isinstance(document, dict) else None
    return AZUREML_LOADERS.get(match.group(1)) if match else None


def validate_azureml(path: Path, root: Path) -> list[str]:
    """An Azure ML v2 YAML file through the loader its `$schema` names (offline; no workspace)."""
    document, problem = _yaml(path, root)
    if problem:
        return [problem]
    schema = str(document.get("$schema", "")) if isinstance(document, dict) else ""
    match = AZUREML_SCHEMA_URL.search(schema)
    if not match:
        return [f"{relative(path, root)}: no Azure ML `$schema:` line; every Azure ML file starts with its schema URL"]
    loader_name = AZUREML_LOADERS.get(match.group(1))
    if loader_name is None:
        return [f"{relative(path, root)}: `$schema` {match.group(1)} has no known azure-ai-ml loader; add it to ci/validators.py"]
    # Some loaders (pipeline-component batch deployments) are not re-exported by azure.ai.ml.
    from azure.ai.ml.entities import _load_functions

    loader: Callable = getattr(_load_functions, loader_name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = loader(source=str(path))
        if loader_name == "load_job" and hasattr(loaded, "_validate"):
            result = loaded._validate()
            if not result.passed:
                return [f"{relative(path, root)}: {loader_name}: {_first_line(result.error_messages)}"]
    except Exception as error:  # the loaders raise several exception types; each names the field
        return [f"{relative(path, root)}: {loader_name}: {_first_line(error)}"]
    return []


# --------------------------------------------------------------------------------------
# CI systems: Azure Pipelines' schema, actionlint for GitHub Actions
# --------------------------------------------------------------------------------------


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
            problems.append(f"{relative(path, root)}: {builtin}: {_first_line(output[output.find(mentions[0]) :], 600)}")
    return problems or [f"{', '.join(relative(path, root) for path in paths)}: {builtin}: {_first_line(output)}"]


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
    return problems or [f"{', '.join(relative(path, root) for path in paths)}: actionlint: {_first_line(result.stdout + result.stderr)}"]


# --------------------------------------------------------------------------------------
# CI supply chain and credentials: actions pinned to commits, no cloud login on an
# unreviewed pull request
# --------------------------------------------------------------------------------------

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
    document, problem = _yaml(path, root)
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
        document, problem = _yaml(path, root)
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


# --------------------------------------------------------------------------------------
# Everything else: plain YAML, notebooks, shell scripts, Python, leftover template syntax
# --------------------------------------------------------------------------------------


def _yaml(path: Path, root: Path) -> tuple[object, str | None]:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")), None
    except yaml.YAMLError as error:
        return None, f"{relative(path, root)}: not valid YAML: {_first_line(error)}"


def validate_yaml(path: Path, root: Path) -> list[str]:
    _, problem = _yaml(path, root)
    return [problem] if problem else []


# The generated serving manifest names no image: `many_models manifest --image` replaces this
# placeholder with a digest-pinned reference at deploy time (code/<package>/many_models/manifest.py).
KUBERNETES_IMAGE_PLACEHOLDER = "FORECAST_IMAGE_SET_AT_DEPLOY"
IMAGE_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def validate_kubernetes(path: Path, root: Path) -> list[str]:
    """Every document of a manifest is a named Kubernetes object, and every workload pins
    its image (by digest, or through the deploy step's placeholder) and limits its resources.

    No official schema is reachable offline (kubeconform fetches them from GitHub), so this
    checks what `kubectl apply` would reject first and what a cluster policy would.
    """
    where = relative(path, root)
    try:
        documents = [document for document in yaml.safe_load_all(path.read_text(encoding="utf-8")) if document is not None]
    except yaml.YAMLError as error:
        return [f"{where}: not valid YAML: {_first_line(error)}"]
    problems = []
    for number, document in enumerate(documents, start=1):
        if not isinstance(document, dict) or not all(document.get(key) for key in ("apiVersion", "kind", "metadata")):
            problems.append(f"{where}: document {number} is not a Kubernetes object (apiVersion, kind and metadata are required)")
            continue
        if not (document["metadata"] or {}).get("name"):
            problems.append(f"{where}: {document['kind']} (document {number}) has no metadata.name")
        template = (document.get("spec") or {}).get("template")
        for container in ((template or {}).get("spec") or {}).get("containers", []) if template else []:
            name = f"{document['kind']}/{document['metadata'].get('name')} container {container.get('name')}"
            image = str(container.get("image") or "")
            if not image:
                problems.append(f"{where}: {name} has no image")
            elif image != KUBERNETES_IMAGE_PLACEHOLDER and not IMAGE_DIGEST.search(image):
                problems.append(
                    f"{where}: {name} image '{image}' is not pinned; name it {KUBERNETES_IMAGE_PLACEHOLDER} (the deploy step pins a digest) or @sha256:<digest>"
                )
            if not (container.get("resources") or {}).get("limits"):
                problems.append(f"{where}: {name} sets no resources.limits")
    if not documents:
        problems.append(f"{where}: no Kubernetes objects")
    return problems


def validate_notebook(path: Path, root: Path) -> list[str]:
    """A valid nbformat 4 notebook, stored without outputs (the pre-commit stripper's promise)."""
    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises JSON, validation and reader errors
        return [f"{relative(path, root)}: not a valid notebook: {_first_line(error)}"]
    if any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"):
        return [f"{relative(path, root)}: stored with outputs; strip them (nbstripout)"]
    return []


def validate_shell(path: Path, root: Path) -> list[str]:
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
    return [] if result.returncode == 0 else [f"{relative(path, root)}: bash -n: {_first_line(result.stderr)}"]


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
                problems.append(f"ruff {arguments[0]}: {_first_line(result.stdout + result.stderr)}")
    return problems


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


# --------------------------------------------------------------------------------------
# Data Factory definitions: the official SDK models, strictly
# --------------------------------------------------------------------------------------

# Data Factory's Git layout: the folder names the resource type (one JSON resource per file).
DATAFACTORY_RESOURCES = {"pipeline": "PipelineResource", "trigger": "TriggerResource", "linkedService": "LinkedServiceResource"}


@functools.cache
def _datafactory_models():
    from azure.mgmt.datafactory import models

    return models


def _subclasses(cls: type) -> Iterable[type]:
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


def _concrete(cls: type, data: dict) -> tuple[type, str | None]:
    """The model class a polymorphic object names with its discriminator (`type`).

    azure-mgmt-datafactory 10's own `_deserialize` resolves one level only (Activity ->
    ExecutionActivity, never -> WebActivity), so every subclass's mapping is searched."""
    discriminator = cls._get_discriminator([]) if hasattr(cls, "__mapping__") else None
    if discriminator is None:
        return cls, None
    wanted = data.get(discriminator._rest_name)
    for candidate in (cls, *_subclasses(cls)):
        mapping = candidate.__dict__.get("__mapping__") or {}
        if wanted in mapping:
            return mapping[wanted], None
    known = sorted({key for candidate in (cls, *_subclasses(cls)) for key in (candidate.__dict__.get("__mapping__") or {})})
    return cls, f"{discriminator._rest_name} {wanted!r} is not a known {cls.__name__} type (known: {', '.join(known[:12])}, ...)"


def _field_types(cls: type) -> dict[str, tuple[str, object, bool]]:
    """rest name -> (attribute, annotation, required) for one model class."""
    import typing

    from azure.mgmt.datafactory._utils.model_base import _UNSET

    models = _datafactory_models()
    hints: dict[str, object] = {}
    for klass in reversed(cls.__mro__):
        if "__annotations__" in klass.__dict__ and klass.__module__.startswith("azure.mgmt.datafactory"):
            # Enum annotations read "_models.X" though the enums live in the package, not _models.
            namespace = {**vars(sys.modules[klass.__module__]), "_models": models, "_enums": models}
            hints.update(typing.get_type_hints(klass, globalns=namespace, localns=namespace))
    fields = {}
    for attribute, field in cls._attr_to_rest_field.items():
        annotation = hints.get(attribute, object)
        optional = type(None) in typing.get_args(annotation)
        read_only = list(field._visibility or []) == ["read"]
        has_default = field._default is not _UNSET and field._default is not None
        fields[field._rest_name] = (attribute, annotation, not optional and not read_only and not has_default)
    return fields


def _model_in(annotation: object) -> tuple[str, type] | None:
    """("one" | "list" | "map", model class) when the annotation holds SDK models."""
    import typing

    from azure.mgmt.datafactory._utils.model_base import Model

    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return "one", annotation
    if origin is typing.Union:
        for argument in arguments:
            found = _model_in(argument)
            if found:
                return found
    if origin in (list, typing.List) and arguments:  # noqa: UP006
        found = _model_in(arguments[0])
        return ("list", found[1]) if found and found[0] == "one" else None
    if origin in (dict, typing.Dict) and len(arguments) == 2:  # noqa: UP006
        found = _model_in(arguments[1])
        return ("map", found[1]) if found and found[0] == "one" else None
    return None


def datafactory_problems(data: object, cls: type, where: str) -> list[str]:
    """Every key the SDK model does not know, every required key missing and every unknown
    `type`, walking nested models; the SDK alone would keep unknown keys silently."""
    if not isinstance(data, dict):
        return [f"{where}: expected an object for {cls.__name__}, got {type(data).__name__}"]
    cls, unknown_type = _concrete(cls, data)
    if unknown_type:
        return [f"{where}: {unknown_type}"]
    try:
        cls._deserialize(data, [])  # computes the class's fields, and raises on what it cannot read
    except Exception as error:  # the SDK's own deserializer refusing a value
        return [f"{where}: {cls.__name__} cannot be read ({type(error).__name__}: {_first_line(str(error) or repr(error.__cause__))})"]
    fields = _field_types(cls)
    problems = [f"{where}.{key}: not a {cls.__name__} property" for key in data if key not in fields]
    problems += [f"{where}.{key}: required by {cls.__name__}" for key, (_, _, required) in fields.items() if required and key not in data]
    for key, (_, annotation, _) in fields.items():
        if key not in data or data[key] is None:
            continue
        nested = _model_in(annotation)
        if nested is None:
            continue
        shape, model = nested
        value = data[key]
        if shape == "one":
            problems += datafactory_problems(value, model, f"{where}.{key}")
        elif shape == "list" and isinstance(value, list):
            for index, item in enumerate(value):
                problems += datafactory_problems(item, model, f"{where}.{key}[{index}]")
        elif shape == "map" and isinstance(value, dict):
            for name, item in value.items():
                problems += datafactory_problems(item, model, f"{where}.{key}.{name}")
        else:
            problems.append(f"{where}.{key}: expected a {'list' if shape == 'list' else 'mapping'} of {model.__name__}")
    return problems


def validate_datafactory(path: Path, root: Path) -> list[str]:
    """A Data Factory definition (pipeline/, trigger/ or linkedService/) against the
    official azure-mgmt-datafactory models, offline."""
    name = relative(path, root)
    folder = path.parent.name
    if folder not in DATAFACTORY_RESOURCES:
        return [f"{name}: a Data Factory definition belongs in one of {', '.join(DATAFACTORY_RESOURCES)}/"]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        return [f"{name}:{error.lineno}: not JSON: {error.msg}"]
    model = getattr(_datafactory_models(), DATAFACTORY_RESOURCES[folder])
    return [f"{name}: {problem}" for problem in datafactory_problems(data, model, "$")]


# --------------------------------------------------------------------------------------
# Discovery: which validator judges which file
# --------------------------------------------------------------------------------------


def repository_files(project: Path) -> list[Path]:
    """Every file of a repository, hidden folders included (pathlib matches hidden folders; glob.glob("**") would skip .ado/ and .cloud/)."""
    return sorted(path for path in project.rglob("*") if path.is_file() and ".git" not in path.relative_to(project).parts)


def yaml_kind(path: Path, project: Path) -> str:
    """bundle, azureml, azure-pipelines, github-workflow or yaml, by location and `$schema`."""
    parts = path.relative_to(project).parts
    name = path.relative_to(project).as_posix()
    if name == "databricks.yml" or (parts[:2] == ("pipelines", "databricks")):
        return "bundle"
    if parts[0] == ".ado":
        return "azure-pipelines"
    if parts[:2] == (".github", "workflows"):
        return "github-workflow"
    if parts[:2] == (".cloud", "kubernetes"):
        return "kubernetes"
    in_azureml_folder = parts[:2] in ((".cloud", "azureml"), ("pipelines", "azureml"))
    if in_azureml_folder and not AZUREML_PLAIN_FILES.search(path.name):
        return "azureml"
    try:
        if azureml_loader_name(path):
            return "azureml"
    except yaml.YAMLError:
        pass
    return "yaml"


KINDS = ("bundle", "azureml", "azure-pipelines", "github-workflow", "kubernetes", "yaml", "notebook", "shell", "python", "datafactory", "other")


def file_kind(path: Path, project: Path) -> str:
    if path.suffix == ".json" and path.relative_to(project).parts[:2] == (".cloud", "datafactory"):
        return "datafactory"
    if path.suffix in (".yml", ".yaml"):
        return yaml_kind(path, project)
    return {".ipynb": "notebook", ".sh": "shell", ".py": "python"}.get(path.suffix, "other")


def classify(project: Path, paths: Iterable[Path] | None = None) -> dict[str, list[Path]]:
    kinds: dict[str, list[Path]] = {kind: [] for kind in KINDS}
    for path in repository_files(project) if paths is None else paths:
        kinds[file_kind(path, project)].append(path)
    return kinds


def validate_files(project: Path, paths: Iterable[Path]) -> list[str]:
    """The problems of some files of a repository, each judged by the validator of its kind."""
    paths = list(paths)
    kinds = classify(project, paths)
    problems: list[str] = []
    for path in paths:
        problems += leftover_jinja(path, project)
    for path in kinds["bundle"]:
        problems += validate_bundle(path, project)
    for path in kinds["azureml"]:
        problems += validate_azureml(path, project)
    problems += validate_azure_pipelines(kinds["azure-pipelines"], project)
    problems += validate_ado_pull_request_logins(kinds["azure-pipelines"], project)
    problems += validate_github_workflows(kinds["github-workflow"], project)
    for path in kinds["github-workflow"]:
        problems += validate_action_pins(path, project) + validate_github_pull_request_logins(path, project)
    for path in kinds["kubernetes"]:
        problems += validate_kubernetes(path, project)
    for path in kinds["yaml"]:
        problems += validate_yaml(path, project)
    for path in kinds["notebook"]:
        problems += validate_notebook(path, project)
    for path in kinds["datafactory"]:
        problems += validate_datafactory(path, project)
    for path in kinds["shell"]:
        problems += validate_shell(path, project)
    if kinds["python"] or kinds["notebook"]:
        problems += validate_python(project)
    return problems


def validate_repository(project: Path) -> list[str]:
    """Every problem of a generated repository, each line naming its file."""
    return validate_files(project, repository_files(project))


def validate_own_pipelines(root: Path = REPO_ROOT) -> list[str]:
    """This repository's own CI definitions under ci/: the same validators as generated ones."""
    azure = sorted((root / "ci" / "azure-devops").glob("*.yml"))
    github = sorted((root / "ci" / "github").glob("*.yml"))
    problems = validate_azure_pipelines(azure, root) + validate_ado_pull_request_logins(azure, root)
    problems += validate_github_workflows(github, root)
    for path in github:
        problems += validate_action_pins(path, root) + validate_github_pull_request_logins(path, root)
    return problems
