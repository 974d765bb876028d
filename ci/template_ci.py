"""Template CI: render every option combination and hold each to the ecosystem's own validators.

    python -m ci.template_ci [--keep DIR] [--skip-project-tests]

It also validates this repository's own pipelines under ci/ with the same validators, and runs
checkov and detect-secrets once over all combinations together (ci/scanners.py).

For every combination of the answers that change which files exist (every answer with
entries in OPTIONAL_PATHS, plus python_version), it checks: the exact file set, that no
template syntax is left, ruff, every YAML file with its official validator (ci/validators/)
and that the notebooks are valid. It then runs the generated repository's own fast tests
(`pytest -m "not slow"`) in one shared virtualenv: each sample's whole fast suite once, and for
every other (cicd x compute) pair the tests of its deployment files, the only files a pair
changes. It proves that running the slow Spark suite once is enough: `code/` and
`tests/` are byte-identical across every combination (tests/test_generated_project.py
runs that suite for the default and the unusual answers).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from ci.scanners import scan
from ci.validators import repository_files, validate_own_pipelines, validate_repository
from dsplatform.template import CHOICES, COMPUTE_PARTS, OPTIONAL_PATHS, SAMPLE_PARTS

REPO_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS = json.loads((REPO_ROOT / "cookiecutter.json").read_text(encoding="utf-8"))
# The answers that change which files exist, each with every allowed value. A new answer
# with entries in OPTIONAL_PATHS joins the matrix without an edit here.
MATRIX_ANSWERS = (*OPTIONAL_PATHS, "python_version")
OPTION_MATRIX = [
    dict(zip(MATRIX_ANSWERS, values, strict=True)) for values in itertools.product(*(CHOICES[answer] for answer in MATRIX_ANSWERS))
]
# The answers whose combinations each run the generated repository's own tests; the
# others (python_version, ...) must not change code/ or tests/ within a pair.
PAIR_ANSWERS = ("cicd", "compute", "python_version")
PROJECT_TEST_VENV = REPO_ROOT / "build" / "generated-venv"

PACKAGE = "predictive_maintenance"
# Kept whatever the sample: the entry point that finds the samples, and what they stand on.
PACKAGE_FILES = [
    "__init__.py", "__main__.py",
    *(f"core/{name}" for name in ("__init__.py", "cli.py", "lake.py", "progress.py", "settings.py", "spark.py", "tracking.py")),
]  # fmt: skip
BATCH_SCORING_PACKAGE_FILES = [
    "__init__.py", "__main__.py", "cli.py", "data_product.py", "feature_store.py", "features.py", "ingest.py", "lake.py", "metrics.py",
    "online_scoring.py", "pipeline.py", "pipeline.yml", "score.py", "settings.py", "targets.mk", "train.py", "validate.py",
    *(f"monitoring/{name}.py" for name in ("__init__", "histograms", "report", "statistics", "step")),
]  # fmt: skip
BATCH_SCORING_TEST_FILES = [
    "__init__.py", "conftest.py", "test_cli.py", "test_data_product.py", "test_deployment_files.py",
    "test_end_to_end.py", "test_feature_tables.py", "test_features.py", "test_ingest.py", "test_metrics.py", "test_monitor.py", "test_notebooks.py",
    "notebook_shell.py", "test_on_a_cluster.py", "test_settings.py",
]  # fmt: skip
# One Azure ML command component per CLI step (plus the scoring pipeline component).
BATCH_SCORING_COMPONENTS = ("ingest", "features", "refresh-features", "train", "validate", "promote", "score", "monitor", "score_pipeline")
MANY_MODELS_COMPONENTS = ("generate", "train", "promote", "score")
MANY_MODELS_PACKAGE_FILES = [
    "__init__.py", "__main__.py", "bundle.py", "cli.py", "data_product.py", "features.py", "manifest.py", "many_models.yml", "promote.py",
    "register.py", "score.py", "serve.py", "settings.py", "targets.mk", "train.py",
    "locustfile.py", "rollout.py", "serving_commands.py", "sizing.py", "stress.py",
]  # fmt: skip
MANY_MODELS_TEST_FILES = [
    "__init__.py", "conftest.py", "test_bundle_and_promotion.py", "test_deployment_files.py", "test_on_a_cluster.py", "test_pipeline.py",
    "test_serving.py", "test_serving_readiness.py",
]  # fmt: skip
COMMON_FILES = {
    ".cruft.json", ".gitignore", ".pre-commit-config.yaml", "Makefile", "README.md", "pyproject.toml",
    ".cloud/README.md", "pipelines/README.md",
    "docs/index.md", "docs/local.md", "docs/deployment.md",
    "notebooks/README.md", "notebooks/data.science/.gitkeep",
    "tests/conftest.py", "tests/test_job_definitions.py", "tests/core/__init__.py", "tests/core/test_cli.py", "tests/core/test_progress.py", "tests/core/test_tracking.py",
    *(f"code/{PACKAGE}/{name}" for name in PACKAGE_FILES),
}  # fmt: skip
# Files that exist when every condition holds. A condition is (answer, option); for
# compute and sample, an option holds when the answer includes it ("both" includes both).
CONDITIONAL_FILES: dict[frozenset[tuple[str, str]], set[str]] = {
    frozenset({("cicd", "azure_devops")}): {".ado/pr.yml"},
    frozenset({("cicd", "github")}): {".github/CODEOWNERS", ".github/workflows/pr.yml"},
    frozenset({("compute", "azureml")}): {
        ".cloud/azureml/README.md", ".cloud/azureml/environment.yml", ".cloud/azureml/conda.yml",
        ".cloud/azureml/compute/cpu-cluster.yml", ".cloud/azureml/compute/aks-scoring.yml",
    },
    frozenset({("compute", "databricks")}): {
        "databricks.yml", ".cloud/databricks/README.md", "pipelines/databricks/run_step.py", "pipelines/databricks/integration_test.sh",
    },
    frozenset({("cicd", "azure_devops"), ("compute", "databricks")}): {".ado/databricks-cli.yml", ".ado/databricks.yml"},
    frozenset({("cicd", "github"), ("compute", "databricks")}): {".github/workflows/databricks.yml"},
    frozenset({("sample", "batch_scoring")}): {
        "docs/data-contracts.md", "docs/feature-tables.md", "docs/monitoring.md", "docs/steps-on-databricks-and-azureml.md",
        "notebooks/examples/01_load_data_product.ipynb", "notebooks/examples/02_log_to_mlflow.ipynb",
        *(f"code/{PACKAGE}/batch_scoring/{name}" for name in BATCH_SCORING_PACKAGE_FILES),
        *(f"tests/batch_scoring/{name}" for name in BATCH_SCORING_TEST_FILES),
    },
    frozenset({("sample", "batch_scoring"), ("compute", "databricks")}): {
        "pipelines/databricks/training.yml", "pipelines/databricks/batch_scoring.yml", "pipelines/databricks/monitoring.yml",
        "pipelines/databricks/feature_refresh.yml",
        f"code/{PACKAGE}/batch_scoring/feature_store_databricks.py", "tests/batch_scoring/test_feature_store_databricks.py",
    },
    frozenset({("sample", "batch_scoring"), ("compute", "azureml")}): {
        f"code/{PACKAGE}/batch_scoring/azureml_job.py", "tests/batch_scoring/test_azureml_job.py",
        "notebooks/examples/03_submit_training_job.ipynb",
        *(f".cloud/azureml/components/batch_scoring/{step}.yml" for step in BATCH_SCORING_COMPONENTS),
        ".cloud/azureml/endpoints/batch/endpoint.yml", ".cloud/azureml/endpoints/batch/deployment.yml",
        ".cloud/azureml/endpoints/online/managed/endpoint.yml", ".cloud/azureml/endpoints/online/managed/deployment.yml",
        ".cloud/azureml/endpoints/online/kubernetes/endpoint.yml", ".cloud/azureml/endpoints/online/kubernetes/deployment.yml",
        ".cloud/azureml/endpoints/online/sample-request.json",
        ".cloud/datafactory/README.md", ".cloud/datafactory/pipeline/batch-scoring.json",
        ".cloud/datafactory/trigger/landing-data.json", ".cloud/datafactory/trigger/daily.json",
        "pipelines/azureml/training.yml", "pipelines/azureml/deploy.sh",
        "pipelines/azureml/monitoring.yml", "pipelines/azureml/monitoring-schedule.yml",
        "pipelines/azureml/feature-refresh.yml", "pipelines/azureml/feature-refresh-schedule.yml",
    },
    frozenset({("sample", "batch_scoring"), ("cicd", "azure_devops"), ("compute", "azureml")}): {
        ".ado/azureml.yml", ".ado/azureml-deploy.yml",
    },
    frozenset({("sample", "batch_scoring"), ("cicd", "github"), ("compute", "azureml")}): {".github/workflows/azureml.yml"},
    frozenset({("sample", "many_models")}): {
        "docs/many-models.md", "benchmarks/many_models.py",
        ".cloud/docker/many-models.Dockerfile", ".cloud/kubernetes/many-models-serving.yml",
        ".cloud/kubernetes/many-models-canary.yml", ".cloud/serving-profile.json", "docs/serving.md",
        *(f"code/{PACKAGE}/many_models/{name}" for name in MANY_MODELS_PACKAGE_FILES),
        *(f"tests/many_models/{name}" for name in MANY_MODELS_TEST_FILES),
    },
    frozenset({("sample", "many_models"), ("cicd", "github")}): {".github/workflows/serving.yml"},
    frozenset({("sample", "many_models"), ("cicd", "azure_devops")}): {".ado/serving.yml"},
    frozenset({("sample", "many_models"), ("cicd", "github"), ("compute", "azureml")}): {".github/workflows/serving-azureml.yml"},
    frozenset({("sample", "many_models"), ("cicd", "azure_devops"), ("compute", "azureml")}): {".ado/serving-azureml.yml"},
    frozenset({("sample", "many_models"), ("compute", "databricks")}): {"pipelines/databricks/many_models.yml"},
    frozenset({("sample", "many_models"), ("compute", "azureml")}): {
        ".cloud/azureml/endpoints/many-models/endpoint.yml", ".cloud/azureml/endpoints/many-models/deployment.yml",
        "pipelines/azureml/many_models.yml",
        *(f".cloud/azureml/components/many_models/{step}.yml" for step in MANY_MODELS_COMPONENTS),
    },
}  # fmt: skip


def _holds(condition: tuple[str, str], answers: Mapping[str, str]) -> bool:
    answer, option = condition
    if answer == "compute":
        return option in COMPUTE_PARTS[answers["compute"]]
    if answer == "sample":
        return option in SAMPLE_PARTS[answers.get("sample", DEFAULTS["sample"])]
    return answers.get(answer, DEFAULTS.get(answer)) == option


def expected_files(answers: Mapping[str, str]) -> set[str]:
    files = set(COMMON_FILES)
    for conditions, paths in CONDITIONAL_FILES.items():
        if all(_holds(condition, answers) for condition in conditions):
            files |= paths
    return files


def generated_files(project: Path) -> set[str]:
    return {path.relative_to(project).as_posix() for path in repository_files(project)}


def run_cookiecutter(output_dir: Path, **answers: str) -> subprocess.CompletedProcess:
    """The cookiecutter CLI, non-interactively, as CI and users run it."""
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(output_dir), str(REPO_ROOT)]
    command += [f"{key}={value}" for key, value in answers.items()]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def generate(output_dir: Path, **answers: str) -> Path:
    output_dir.mkdir(parents=True, exist_ok=True)
    result = run_cookiecutter(output_dir, **answers)
    if result.returncode != 0:
        raise RuntimeError(f"cookiecutter failed for {answers}:\n{result.stdout}{result.stderr}")
    (project,) = [path for path in output_dir.iterdir() if path.is_dir()]
    return project


def combination_name(answers: Mapping[str, str]) -> str:
    return "-".join(answers.values())


def check_combination(project: Path, answers: Mapping[str, str]) -> list[str]:
    """Every problem of one rendered combination, each line naming its file."""
    problems = []
    found, expected = generated_files(project), expected_files(answers)
    problems += [f"{path}: generated but not expected (add it to ci/template_ci.py or prune it)" for path in sorted(found - expected)]
    problems += [f"{path}: expected but not generated" for path in sorted(expected - found)]
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    if f'requires-python = ">={answers["python_version"]}"' not in pyproject:
        problems.append(f"pyproject.toml: requires-python is not >={answers['python_version']}")
    problems += validate_repository(project)
    return problems


def digest(project: Path, folders: Iterable[str] = ("code", "tests")) -> dict[str, str]:
    """Hashes of every file under the given folders, to prove them identical across combinations."""
    return {
        path.relative_to(project).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in folders
        for path in sorted((project / folder).rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def ensure_project_test_venv(project: Path) -> Path:
    """One virtualenv with the generated projects' pinned dependencies, shared by every pair.

    The pins are the same in every combination (checked by the digest of pyproject's
    dependency lists), so one install serves them all; uv's cache makes a re-install fast.
    """
    python = PROJECT_TEST_VENV / "bin" / "python"
    stamp = PROJECT_TEST_VENV / ".pins"
    pins = _dependency_pins(project)
    if python.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == pins:
        return python
    uv = Path(sys.executable).parent / "uv"
    subprocess.run([str(uv), "venv", "--quiet", "--allow-existing", "--python", "3.11", str(PROJECT_TEST_VENV)], check=True)
    subprocess.run(
        [str(uv), "pip", "install", "--quiet", "--python", str(python), "-r", str(project / "pyproject.toml"), "--all-extras"], check=True
    )
    stamp.write_text(pins, encoding="utf-8")
    return python


def _dependency_pins(project: Path) -> str:
    import tomllib

    metadata = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return json.dumps([metadata["dependencies"], metadata["optional-dependencies"]], sort_keys=True)


# The generated tests that read deployment files, the only files that differ within a sample.
DEPLOYMENT_TESTS = ("tests/test_job_definitions.py", "tests/*/test_deployment_files.py", "tests/*/test_azureml_job.py")


def run_fast_project_tests(project: Path, python: Path, *, deployment_only: bool = False) -> list[str]:
    """The generated repository's own fast tests (no Spark), with its code on the path; with
    `deployment_only`, just the tests of its deployment files."""
    environment = dict(os.environ, PYTHONPATH=str(project / "code"), PYTHONDONTWRITEBYTECODE="1")
    paths = (
        sorted(str(path.relative_to(project)) for pattern in DEPLOYMENT_TESTS for path in project.glob(pattern)) if deployment_only else []
    )
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-m", "not slow", "-p", "no:cacheprovider", *paths],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode == 0 and " passed" in result.stdout:
        return []
    return [f"{project.name}: its fast tests failed:\n{(result.stdout + result.stderr)[-4000:]}"]


def pair_representatives(matrix: list[dict[str, str]]) -> list[dict[str, str]]:
    """One combination per (cicd x compute) pair and sample (the samples' tests differ): the first in matrix order."""
    chosen: dict[tuple[str, ...], dict[str, str]] = {}
    for answers in matrix:
        chosen.setdefault((answers["cicd"], answers["compute"], answers.get("sample", DEFAULTS["sample"])), answers)
    return list(chosen.values())


def run(output_root: Path, *, project_tests: bool = True, matrix: list[dict[str, str]] | None = None) -> list[str]:
    matrix = matrix or OPTION_MATRIX
    # This repository's own pipelines (ci/azure-devops, ci/github) answer to the same validators.
    problems: list[str] = [f"[this repository] {problem}" for problem in validate_own_pipelines()]
    digests: dict[str, dict[str, str]] = {}
    projects: dict[str, Path] = {}
    started = time.perf_counter()

    def render_and_check(answers: Mapping[str, str]) -> tuple[Path, list[str]]:
        project = generate(output_root / combination_name(answers), **answers)
        return project, check_combination(project, answers)

    # Rendering and checking are mostly subprocesses (cookiecutter, check-jsonschema, actionlint,
    # ruff) that use one core each, so two combinations at a time keep both cores busy.
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for answers, (project, found) in zip(matrix, pool.map(render_and_check, matrix), strict=True):
            name = combination_name(answers)
            problems += [f"[{name}] {problem}" for problem in found]
            digests[name], projects[name] = digest(project), project
            print(f"{name}: {'ok' if not found else f'{len(found)} problem(s)'} ({time.perf_counter() - started:.0f} s)", flush=True)

    # The pairs differ only in deployment files: within each group of the other answers,
    # code/ and tests/ must be byte-identical, or the slow suite would have to run per pair.
    # The one exception is what a pair answer prunes whole (the Azure ML job builder and its
    # test without Azure ML): the slow suite runs the default project, which keeps them.
    pruned_by_pairs = tuple(
        path.format(package=PACKAGE) for answer in PAIR_ANSWERS for paths in OPTIONAL_PATHS.get(answer, {}).values() for path in paths
    )
    groups: dict[tuple, str] = {}
    for answers in matrix:
        name = combination_name(answers)
        key = tuple(sorted((answer, value) for answer, value in answers.items() if answer not in PAIR_ANSWERS))
        reference = groups.setdefault(key, name)
        differing = {path for path, _ in set(digests[name].items()) ^ set(digests[reference].items())}
        changed = {path for path in differing if path in digests[name] and path in digests[reference]}
        unexplained = {path for path in differing - changed if not path.startswith(pruned_by_pairs)}
        if changed or unexplained:
            problems.append(f"[{name}] code/ or tests/ differ from {reference}: {sorted(changed | unexplained)}")
    reference_name = next(iter(digests))

    # checkov and detect-secrets, each once over every combination (ci/scanners.py).
    scan_started = time.perf_counter()
    results, files = scan(projects.items(), output_root / "_security-scan")
    for result in results:
        problems += [f"[{result.scanner}] {problem}" for problem in result.problems]
        print(
            f"{result.scanner}: {'0 failures' if not result.problems else f'{len(result.problems)} failure(s)'}, "
            f"{result.passed} passed, {result.skipped} skipped inline ({result.seconds:.0f} s)",
            flush=True,
        )
    print(f"security scan of {len(projects)} combinations ({files} distinct files): {time.perf_counter() - scan_started:.0f} s", flush=True)

    if project_tests:
        python = ensure_project_test_venv(projects[reference_name])
        # code/ and tests/ are the same within a sample (checked above), so each sample's whole
        # fast suite runs once, where the pair prunes nothing (compute=both); every other pair
        # runs the tests of the deployment files, the only files it changes. The runs are
        # separate processes without Spark, so they share the machine's cores.
        deployment_only: dict[str, bool] = {}
        whole_suite_done: set[str] = set()
        for answers in sorted(pair_representatives(matrix), key=lambda answers: answers["compute"] != "both"):
            sample = answers.get("sample", DEFAULTS["sample"])
            deployment_only[combination_name(answers)] = sample in whole_suite_done
            whole_suite_done.add(sample)
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            futures = {
                pool.submit(run_fast_project_tests, projects[name], python, deployment_only=only): name
                for name, only in deployment_only.items()
            }
            for future in concurrent.futures.as_completed(futures):
                name, found = futures[future], future.result()
                kind = "deployment-file tests" if deployment_only[name] else "fast tests"
                problems += [f"[{name}] {problem}" for problem in found]
                print(
                    f"{name}: generated repository's {kind} {'passed' if not found else 'FAILED'} ({time.perf_counter() - started:.0f} s)"
                )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ci.template_ci", description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="render into this folder and keep it (default: a temporary folder)")
    parser.add_argument("--skip-project-tests", action="store_true", help="skip the generated repositories' own fast tests")
    arguments = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="template-ci-") as temporary:
        output_root = arguments.keep or Path(temporary)
        problems = run(output_root, project_tests=not arguments.skip_project_tests)
    elapsed = time.perf_counter() - started
    if problems:
        print(f"\nTemplate CI found {len(problems)} problem(s) in {len(OPTION_MATRIX)} combinations ({elapsed:.0f} s):", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    tested = "skipped" if arguments.skip_project_tests else "green for every (cicd x compute) pair"
    print(f"\nTemplate CI: {len(OPTION_MATRIX)} combinations valid, generated repositories' own fast tests {tested} ({elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
