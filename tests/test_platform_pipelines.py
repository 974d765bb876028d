"""The platform pipelines in ci/: what they must guarantee, read from the files themselves
(schema validation of every YAML under ci/ is a separate check)."""

from __future__ import annotations

import os

import yaml

from conftest import REPO_ROOT

ADO = REPO_ROOT / "ci" / "azure-devops" / "platform-requests.yml"
GITHUB = REPO_ROOT / "ci" / "github" / "platform-requests.yml"


def load(path):
    # PyYAML reads GitHub's `on:` as the boolean True.
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_no_step_may_fail_silently_and_no_secret_is_used():
    for path in (ADO, GITHUB):
        text = path.read_text(encoding="utf-8")
        assert "continueOnError" not in text and "continue-on-error" not in text
        assert "client-secret" not in text.lower() and "CLIENT_SECRET" not in text
    for script in ("plan-requests.sh", "deploy-stacks.sh"):
        path = REPO_ROOT / "ci" / "platform" / script
        assert os.access(path, os.X_OK), path
        assert "set -euo pipefail" in path.read_text(encoding="utf-8")


def test_azure_devops_plans_pull_requests_and_deploys_dev_staging_prod_with_oidc():
    pipeline = load(ADO)
    assert pipeline["pr"]["paths"]["include"] == ["infra/projects"]
    stages = {stage["stage"]: stage for stage in pipeline["stages"]}
    assert list(stages) == ["PlanRequests", "DeployDev", "DeployStaging", "DeployProd"]
    assert stages["DeployStaging"]["dependsOn"] == "DeployDev" and stages["DeployProd"]["dependsOn"] == "DeployStaging"
    plan_steps = stages["PlanRequests"]["jobs"][0]["steps"]
    assert any("plan-requests.sh" in step.get("script", "") for step in plan_steps)
    assert any("pullRequests" in step.get("script", "") for step in plan_steps), "the summary is posted on the pull request"
    for name, environment in (("DeployDev", "dev"), ("DeployStaging", "staging"), ("DeployProd", "prod")):
        (job,) = stages[name]["jobs"]
        assert job["environment"] == f"platform-{environment}"
        (azure_cli,) = [step for step in job["strategy"]["runOnce"]["deploy"]["steps"] if step.get("task") == "AzureCLI@2"]
        inputs = azure_cli["inputs"]
        assert inputs["addSpnToEnvironment"] is True and "ARM_USE_OIDC=true" in inputs["inlineScript"]
        assert 'ARM_OIDC_TOKEN="$idToken"' in inputs["inlineScript"]
        assert f"deploy-stacks.sh {environment}" in inputs["inlineScript"]


def test_github_plans_pull_requests_and_deploys_with_oidc_behind_a_protected_prod():
    workflow = load(GITHUB)
    triggers = workflow[True]
    assert triggers["pull_request"]["paths"] == ["infra/projects/**"]
    jobs = workflow["jobs"]
    assert jobs["plan"]["permissions"]["pull-requests"] == "write"
    assert any("gh pr comment" in step.get("run", "") for step in jobs["plan"]["steps"])
    assert jobs["deploy-staging"]["needs"] == "deploy-dev" and jobs["deploy-prod"]["needs"] == "deploy-staging"
    for environment in ("dev", "staging", "prod"):
        job = jobs[f"deploy-{environment}"]
        assert job["environment"] == f"platform-{environment}"
        assert job["permissions"]["id-token"] == "write" and job["env"]["ARM_USE_OIDC"] == "true"
        assert any(step.get("uses", "").startswith("azure/login@") for step in job["steps"])
        assert any(f"deploy-stacks.sh {environment}" in step.get("run", "") for step in job["steps"])


def test_deployments_preview_with_the_policy_pack_before_up():
    script = (REPO_ROOT / "ci" / "platform" / "deploy-stacks.sh").read_text(encoding="utf-8")
    preview = script.index('pulumi preview --stack "$stack" --policy-pack policy')
    up = script.index('pulumi up --stack "$stack" --policy-pack policy')
    assert preview < up and "request stacks" in script


ADO_EXPIRY = REPO_ROOT / "ci" / "azure-devops" / "platform-expiry.yml"
GITHUB_EXPIRY = REPO_ROOT / "ci" / "github" / "platform-expiry.yml"
EXPIRY_SCRIPT = REPO_ROOT / "ci" / "platform" / "expire-explorations.sh"


def test_the_expiry_pipelines_run_on_a_schedule_with_oidc_and_never_fail_silently():
    for path in (ADO_EXPIRY, GITHUB_EXPIRY):
        text = path.read_text(encoding="utf-8")
        assert "continueOnError" not in text and "continue-on-error" not in text
        assert "client-secret" not in text.lower() and "CLIENT_SECRET" not in text
        assert "ci/platform/expire-explorations.sh" in text
    assert os.access(EXPIRY_SCRIPT, os.X_OK) and "set -euo pipefail" in EXPIRY_SCRIPT.read_text(encoding="utf-8")
    ado = load(ADO_EXPIRY)
    assert ado["trigger"] == "none" and ado["pr"] == "none" and ado["schedules"][0]["cron"]
    (stage,) = ado["stages"]
    (job,) = stage["jobs"]
    assert job["environment"] == "platform-dev"
    (azure_cli,) = [step for step in job["strategy"]["runOnce"]["deploy"]["steps"] if step.get("task") == "AzureCLI@2"]
    assert azure_cli["inputs"]["addSpnToEnvironment"] is True and "ARM_USE_OIDC=true" in azure_cli["inputs"]["inlineScript"]
    github = load(GITHUB_EXPIRY)
    assert github[True]["schedule"][0]["cron"]
    job = github["jobs"]["expire"]
    assert job["permissions"]["id-token"] == "write" and job["env"]["ARM_USE_OIDC"] == "true"
    assert any(step.get("uses", "").startswith("azure/login@") for step in job["steps"])


def test_the_teardown_destroys_only_the_stacks_dsplatform_lists_as_expired():
    script = EXPIRY_SCRIPT.read_text(encoding="utf-8")
    listing = script.index("expiry infra/projects --stacks")
    destroy = script.index('pulumi destroy --stack "$stack" --yes --non-interactive')
    assert listing < destroy and 'for stack in "${expired[@]}"' in script


def test_the_expiry_pipelines_pass_the_same_validators_as_every_pipeline_and_a_broken_one_fails(tmp_path):
    """The Azure Pipelines schema and actionlint (ci/validators/ci_schemas.py), both ways: the committed
    files pass, and a schedule with a boolean `always` (the schema wants a string) fails."""
    import shutil

    from ci.validators import validate_own_pipelines

    for folder in ("azure-devops", "github"):
        (tmp_path / "ci" / folder).mkdir(parents=True)
    shutil.copy(ADO_EXPIRY, tmp_path / "ci" / "azure-devops" / ADO_EXPIRY.name)
    shutil.copy(GITHUB_EXPIRY, tmp_path / "ci" / "github" / GITHUB_EXPIRY.name)
    assert validate_own_pipelines(tmp_path) == []
    broken = tmp_path / "ci" / "azure-devops" / ADO_EXPIRY.name
    broken.write_text(broken.read_text(encoding="utf-8").replace('always: "true"', "always: true"), encoding="utf-8")
    problems = validate_own_pipelines(tmp_path)
    assert problems and problems[0].startswith("ci/azure-devops/platform-expiry.yml: vendor.azure-pipelines")
