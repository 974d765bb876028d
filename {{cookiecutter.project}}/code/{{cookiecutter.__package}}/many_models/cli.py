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

from ..core.cli import EXIT_VALIDATION_FAILED, quiet_libraries, run_step
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
    settings = load_many_models_settings(arguments.config, size=arguments.size, data_root=arguments.data_root)
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

    return run_step(lambda: run(arguments), {PromotionRefused: ("promotion refused", EXIT_VALIDATION_FAILED)})
