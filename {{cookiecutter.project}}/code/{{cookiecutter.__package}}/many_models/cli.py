"""`python -m {{ cookiecutter.__package }}.many_models <step>`: the many-models sample's steps, one entry point.

Jobs, components and people call the same commands. Exit codes are the shared ones
(`..core.cli`): 2 = invalid input a person can fix, 3 = the bundle failed the promotion rule.
"""

from __future__ import annotations

import argparse
import os
import warnings
from collections.abc import Sequence
from datetime import date

from ..core.cli import EXIT_INVALID_INPUT, EXIT_VALIDATION_FAILED, quiet_libraries, run_step
from ..core.progress import StepTimer
from ..core.settings import SettingsError, parse_timestamp
from .settings import ManyModelsSettings, load_many_models_settings


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="settings file (default: the packaged many_models.yml)")
    common.add_argument("--size", help="data size defined in the settings: tiny, small, full")
    common.add_argument("--data-root", help="storage root: a folder, or abfss://container@account.dfs.core.windows.net/path")
    parser = argparse.ArgumentParser(prog="python -m {{ cookiecutter.__package }}.many_models", description=__doc__.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True, metavar="step")
    steps.add_parser("generate", parents=[common], help="write the simulated weekly sales table")
    steps.add_parser("train", parents=[common], help="train every series, log one run, register one bundle version as challenger")
    promote = steps.add_parser("promote", parents=[common], help="apply the per-series rule; move champion on a pass")
    promote.add_argument("--version", help="bundle version to promote (default: the challenger)")
    score = steps.add_parser("score", parents=[common], help="forecast a week range with the champion into Delta")
    score.add_argument("--start", help="first week to score (YYYY-MM-DD); default: the holdout start")
    score.add_argument("--end", help="end of the range, exclusive; default: after the last week")
    serve = steps.add_parser("serve", parents=[common], help="serve the champion over HTTP with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    run_all = steps.add_parser("run-all", parents=[common], help="generate, train, promote and score, then a summary")
    run_all.add_argument("--regenerate", action="store_true", help="regenerate the sales table even if it exists")
    steps.add_parser("summary", parents=[common], help="series, accuracy, the champion and where the results are")
    manifest = steps.add_parser("manifest", help="print the serving manifest with the image pinned (pipe it to kubectl apply -f -)")
    manifest.add_argument("--image", required=True, help="<registry>/<repository>@sha256:<digest> (or an explicit version tag)")
    manifest.add_argument("--manifest", help="the manifest to pin (default: .cloud/kubernetes/many-models-serving.yml)")
    stress = steps.add_parser(
        "stress-test", parents=[common], help="profile the service under each CPU/memory setting; print and write the profile"
    )
    stress.add_argument("--bundle", help="a bundle folder to serve (default: the settings' size simulated and fitted in process)")
    stress.add_argument("--out", default=".local/stress", help="folder for profile.json and profile.md (default: .local/stress)")
    size = steps.add_parser("size-deployment", help="write a profile's recommendation into the Kubernetes and Azure ML deployment files")
    size.add_argument("--profile", default=".local/stress/profile.json", help="the measured profile (default: .local/stress/profile.json)")
    gate = steps.add_parser(
        "stress-gate", parents=[common], help="the SLO gate: the target load against a deployed service; fails with the figures"
    )
    gate.add_argument("--url", required=True, help="the service's base URL, e.g. http://forecast.test.internal")
    gate.add_argument("--path", default="/predict", help="the scoring path (an Azure ML endpoint's is /score)")
    gate.add_argument("--seconds", type=int, default=60, help="how long to hold the target load (default 60)")
    for name, what in (("rollout-azureml", "Azure ML endpoint"), ("rollout-aks", "AKS canary")):
        rollout = steps.add_parser(name, parents=[common], help=f"controlled rollout on the {what}, rolled back on the thresholds")
        rollout.add_argument("--image", required=True, help="<registry>/<repository>@sha256:<digest>")
        rollout.add_argument("--steps", default="10,50,100", help="traffic percentages, increasing to 100 (default 10,50,100)")
        rollout.add_argument("--max-error-rate", type=float, default=0.01)
        rollout.add_argument("--max-p99-ms", type=float, help="default: the SLO's p99 (stress.slo.p99_ms)")
        rollout.add_argument("--pause-seconds", type=float, default=30.0, help="between probes of a stage")
    rollouts = {name: parser for name, parser in steps.choices.items() if name.startswith("rollout-")}
    rollouts["rollout-azureml"].add_argument("--name", required=True, help="the new deployment's name, e.g. green")
    for option in ("--subscription-id", "--resource-group", "--workspace"):
        rollouts["rollout-azureml"].add_argument(option, required=True, help="the Azure ML workspace holding the endpoint")
    rollouts["rollout-azureml"].add_argument(
        "--mirror-percent", type=int, default=10, help="live traffic mirrored before any is shifted (0-50)"
    )
    rollouts["rollout-aks"].add_argument("--namespace", default="scoring")
    rollouts["rollout-aks"].add_argument("--replicas", type=int, default=4, help="replicas across stable and canary")
    rollouts["rollout-aks"].add_argument("--url", required=True, help="the Service's base URL the probe calls")
    return parser


def _week(text: str | None, field: str) -> date | None:
    return parse_timestamp(text, field).date() if text else None


def summary(spark, settings: ManyModelsSettings) -> str:
    from mlflow.tracking import MlflowClient

    from ..core.tracking import CHALLENGER, CHAMPION, configure_tracking, version_by_alias
    from .data_product import MANY_MODELS_TABLES, ManyModelsLake

    lake = ManyModelsLake(settings.data_root)
    lines = [f"Many models: data root {settings.data_root} (size '{settings.size}')", "Tables (Delta):"]
    for name in MANY_MODELS_TABLES:
        if lake.exists(spark, name):
            lines.append(
                f"  {name:<16} {lake.read(spark, name).count():>12,} rows  version {lake.version(spark, name)}  {lake.table(name)}"
            )
    uri = configure_tracking(settings)
    client = MlflowClient()
    lines.append(f"Model registry: {uri}")
    for alias in (CHALLENGER, CHAMPION):
        version = version_by_alias(client, settings.model_name, alias)
        if version is None:
            lines.append(f"  {settings.model_name}@{alias}: none")
            continue
        run = client.get_run(version.run_id) if version.run_id else None
        metrics = run.data.metrics if run else {}
        lines.append(
            f"  {settings.model_name}@{alias} = version {version.version}: {version.tags.get('series_count', '?')} series "
            f"keyed by {version.tags.get('partition_columns', '?')}, weeks {version.tags.get('data_start')} .. {version.tags.get('data_end')}"
            + (f", mean accuracy {metrics['mean_accuracy']:.3f}" if "mean_accuracy" in metrics else "")
            + (f", composed at promotion from versions {version.tags['composed_from']}" if "composed_from" in version.tags else "")
        )
    return "\n".join(lines)


def run(arguments: argparse.Namespace) -> int:
    if arguments.step == "manifest":
        from pathlib import Path

        from .manifest import pinned_manifest

        print(pinned_manifest(arguments.image, Path(arguments.manifest) if arguments.manifest else None), end="")
        return 0
    if arguments.step == "size-deployment":
        from pathlib import Path

        from .stress import ROOT, size_deployment

        for path in size_deployment(Path(arguments.profile)):
            print(f"sized {path.relative_to(ROOT)}")
        return 0
    settings = load_many_models_settings(arguments.config, size=arguments.size, data_root=arguments.data_root)
    if arguments.step in ("stress-test", "smoke-test", "stress-gate", "rollout-azureml", "rollout-aks"):
        from .serving_commands import run_serving_command

        return run_serving_command(arguments, settings)
    if arguments.step == "serve":
        import uvicorn

        os.environ.setdefault("MANY_MODELS_SIZE", settings.size)
        os.environ.setdefault("DATA_ROOT", settings.data_root)
        # One argument a line (trailing comma): the line's length must not depend on the package name's.
        uvicorn.run(
            "{{ cookiecutter.__package }}.many_models.serve:app_from_environment",
            factory=True,
            host=arguments.host,
            port=arguments.port,
        )
        return 0
    if arguments.step == "promote":
        from .promote import promote

        print(promote(settings, arguments.version).text())
        return 0

    from ..core.lake import MissingTableError
    from ..core.spark import get_spark
    from . import data_product, promote, score, train

    spark = get_spark(state_dir=settings.state_dir)
    try:
        if arguments.step == "generate":
            print(f"sales rows written: {data_product.generate(spark, settings):,} ({settings.series_count:,} series)")
        elif arguments.step == "train":
            result = train.train(spark, settings)
            print(_training_line(result))
        elif arguments.step == "score":
            result = score.score(spark, settings, _week(arguments.start, "start"), _week(arguments.end, "end"))
            print(
                f"scored {result.rows:,} series-weeks [{result.start}, {result.end}) with version {result.model_version} into {result.table}"
            )
        elif arguments.step == "run-all":
            lake = data_product.ManyModelsLake(settings.data_root)
            timer = StepTimer()
            if arguments.regenerate or not lake.exists(spark, "sales"):
                timer.run("generate", lambda: data_product.generate(spark, settings))
            print(_training_line(timer.run("train", lambda: train.train(spark, settings))))
            print(timer.run("promote", lambda: promote.promote(settings)).text())
            scored = timer.run("score", lambda: score.score(spark, settings))
            print(f"scored {scored.rows:,} series-weeks with version {scored.model_version}")
            print("\n" + summary(spark, settings))
            print(timer.line())
        elif arguments.step == "summary":
            print(summary(spark, settings))
    except MissingTableError as error:
        raise SettingsError(str(error)) from None
    return 0


def _training_line(result) -> str:
    from .promote import percent

    return (
        f"trained {result.series_trained:,} series ({result.series_skipped:,} too short) in {result.training_seconds:.1f} s: "
        f"mean accuracy {result.mean_accuracy:.3f}, {percent(result.passing_fraction)} above the rule; "
        f"registered {result.model_name} version {result.model_version} in {result.registration_seconds:.1f} s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    quiet_libraries()
    # A functools.partial has no type hints to read; Spark's guess is the right one.
    warnings.filterwarnings("ignore", message="Cannot infer the eval type", category=UserWarning)
    warnings.filterwarnings("ignore", message="Passing a Python object as `python_model`", category=UserWarning)
    warnings.filterwarnings("ignore", message=".*An input example was not provided", category=UserWarning)
    from .promote import PromotionRefused
    from .rollout import RolloutFailed
    from .sizing import GateFailed, ProfileError

    refusals = {PromotionRefused: ("promotion refused", EXIT_VALIDATION_FAILED), ProfileError: ("error", EXIT_INVALID_INPUT),
                GateFailed: ("stress gate failed", EXIT_VALIDATION_FAILED), RolloutFailed: ("rollout failed", EXIT_VALIDATION_FAILED)}  # fmt: skip
    return run_step(lambda: run(arguments), refusals)
