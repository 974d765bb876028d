"""Time every pipeline step of a generated project at a given size, and scoring against a bare Delta copy.

Run it with the generated project's own interpreter, for example:

    build/demo/predictive-maintenance/.venv/bin/python ci/benchmarks/reference_run.py \
        --project build/demo/predictive-maintenance --size reference

It prints a markdown table for docs/performance.md. The bare baseline reads the same
telemetry rows that scoring reads and writes them to a new Delta table, in the same
Spark session, so the ratio shows what the model and features cost on top of I/O.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import sys
import time
import tomllib
from datetime import timedelta
from pathlib import Path

# Databricks times the public reference states for its 1,000-machine year (minutes).
REFERENCE_MINUTES = {"ingest": "8-10", "train": "4-6", "score": "2-3"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True, help="a generated project, set up with `make setup`")
    parser.add_argument("--size", default="reference")
    parser.add_argument("--workdir", type=Path, help="where the benchmark's lake goes (default: <project>/.local/bench-<size>)")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the lake of an earlier run and time only train, validate, score and monitor"
    )
    parser.add_argument("--num-trees", type=int, help="override the size's number of trees")
    parser.add_argument("--max-depth", type=int, help="override the size's tree depth")
    arguments = parser.parse_args()

    project = arguments.project.resolve()
    slug = tomllib.loads((project / "pyproject.toml").read_text())["project"]["name"]
    package = slug.replace("-", "_")
    os.chdir(project)
    sys.path.insert(0, str(project / "code"))
    modules = {
        name: importlib.import_module(f"{package}.{name}")
        for name in ("settings", "spark", "data_product", "ingest", "features", "train", "validate", "score", "lake", "monitor")
    }

    workdir = (arguments.workdir or project / ".local" / f"bench-{arguments.size}").resolve()
    if not arguments.reuse:
        shutil.rmtree(workdir, ignore_errors=True)
    settings = modules["settings"].load_settings(size=arguments.size, data_root=str(workdir / "lake"), state_dir=workdir / "state")
    overrides = {key: value for key, value in (("num_trees", arguments.num_trees), ("max_depth", arguments.max_depth)) if value}
    if overrides:
        model = settings.config.model
        size_overrides = {**model.size_overrides, arguments.size: {**model.size_overrides.get(arguments.size, {}), **overrides}}
        settings = settings.with_config(model=model.model_copy(update={"size_overrides": size_overrides}))
    ranges = settings.ranges()
    spark = modules["spark"].get_spark("benchmark", state_dir=settings.state_dir)
    lake = modules["lake"].Lake(settings.data_root)

    timings: list[tuple[str, float, int, str]] = []

    def timed(name: str, step, rows_of) -> object:
        started = time.perf_counter()
        result = step()
        seconds = time.perf_counter() - started
        rows = rows_of(result)
        timings.append((name, seconds, rows, REFERENCE_MINUTES.get(name, "")))
        print(f"{name:<10} {seconds:8.1f} s  {rows:>12,} rows  {rows / seconds:>12,.0f} rows/s", flush=True)
        return result

    if not arguments.reuse:
        timed("generate", lambda: modules["data_product"].generate(spark, settings), lambda counts: counts["telemetry"])
        timed("ingest", lambda: modules["ingest"].ingest(spark, settings, ranges["ingest"]), lambda counts: counts["telemetry"].read)
        timed("features", lambda: modules["features"].write_features(spark, settings, ranges["data"]), lambda rows: rows)
    timed("train", lambda: modules["train"].train(spark, settings, ranges["train"]), lambda result: result.training_rows)
    timed(
        "validate", lambda: modules["validate"].validate(spark, settings, ranges["holdout"]), lambda report: int(report.candidate["rows"])
    )

    score_range = ranges["score"]
    lookback = timedelta(hours=settings.config.features.max_lookback_hours)
    telemetry_rows = (
        lake.read(spark, "telemetry")
        .where(modules["settings"].DateRange(score_range.start - lookback, score_range.end).sql_predicate("datetime"))
        .count()
    )
    timed("score", lambda: modules["score"].score(spark, settings, score_range), lambda _: telemetry_rows)

    def bare_copy() -> int:
        window = modules["settings"].DateRange(score_range.start - lookback, score_range.end)
        lake.read(spark, "telemetry").where(window.sql_predicate("datetime")).write.format("delta").mode("overwrite").save(
            str(workdir / "bare-copy")
        )
        return telemetry_rows

    timed("bare copy", bare_copy, lambda rows: rows)
    scored_windows = lake.count_where(spark, "predictions", score_range.sql_predicate("window_start"))
    monitored = timed("monitor", lambda: modules["monitor"].monitor(spark, settings, score_range), lambda _: scored_windows)

    by_name = {name: (seconds, rows) for name, seconds, rows, _ in timings}
    ratio = (by_name["score"][1] / by_name["score"][0]) / (by_name["bare copy"][1] / by_name["bare copy"][0])
    spec = settings.size_spec
    print()
    print(
        f"Size '{arguments.size}': {spec.machines:,} machines, {spec.start:%Y-%m-%d} to {spec.end:%Y-%m-%d %H:%M}, "
        f"{os.cpu_count()} cores, Spark {spark.version}, model {settings.model_params()}"
    )
    print()
    print("| step | wall time | rows | rows/s | reference on Databricks |")
    print("|---|---:|---:|---:|---|")
    for name, seconds, rows, reference in timings:
        print(f"| {name} | {seconds:,.1f} s | {rows:,} | {rows / seconds:,.0f} | {reference + ' min' if reference else ''} |")
    print()
    print(f"Scoring throughput / bare Delta scan-and-write of the same telemetry rows: {ratio:.0%}")
    print()
    print(monitored.summary())


if __name__ == "__main__":
    main()
