"""Many-models benchmarks: prints the figures docs/performance.md records. Not a test.

    .venv/bin/python benchmarks/many_models.py [--size full] [--series-for-registry 1000] [--skip full,loop,registry,serving]

1. full run: generate, train (applyInPandas), register one bundle, promote, batch-score;
2. local Spark against a one-process loop doing identical per-series work, in one run;
3. one bundle version against one registered model per series: registration plus lookup;
4. serving latency p50/p99 for cold and warm series, through uvicorn on loopback.
Each part uses its own state folder under .local/benchmarks, so nothing else is touched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / ".local" / "benchmarks" / "many_models"


def _settings(size: str, name: str):
    from {{ cookiecutter.__package }}.many_models.settings import load_many_models_settings

    folder = STATE / name
    shutil.rmtree(folder, ignore_errors=True)
    return load_many_models_settings(size=size, state_dir=folder, data_root=str(folder / "lake"))


def full_run(size: str) -> dict[str, float]:
    from {{ cookiecutter.__package }}.core.spark import get_spark
    from {{ cookiecutter.__package }}.many_models import data_product, promote, score, train

    settings = _settings(size, "full")
    started = time.perf_counter()
    spark = get_spark("benchmark", state_dir=settings.state_dir)
    figures = {"spark_start_s": time.perf_counter() - started}
    started = time.perf_counter()
    rows = data_product.generate(spark, settings)
    figures["generate_s"] = time.perf_counter() - started
    started = time.perf_counter()
    result = train.train(spark, settings)
    figures["train_and_register_s"] = time.perf_counter() - started
    figures["training_s"], figures["registration_s"] = result.training_seconds, result.registration_seconds
    started = time.perf_counter()
    report = promote.promote(settings)
    figures["promote_s"] = time.perf_counter() - started
    started = time.perf_counter()
    scored = score.score(spark, settings)
    figures["score_s"] = time.perf_counter() - started
    figures["total_train_register_promote_score_s"] = figures["train_and_register_s"] + figures["promote_s"] + figures["score_s"]
    print(f"full run, size {size}: {rows:,} rows, {result.series_trained:,} series, mean accuracy {result.mean_accuracy:.3f}, "
          f"{report.passing:,} pass the rule, champion v{report.champion_version}, {scored.rows:,} forecasts")  # fmt: skip
    return figures


def spark_against_loop(size: str) -> dict[str, float]:
    """Identical per-series work: the same fit function over the same series, in Spark and in one process."""
    from {{ cookiecutter.__package }}.core.spark import get_spark
    from {{ cookiecutter.__package }}.many_models import data_product
    from {{ cookiecutter.__package }}.many_models.data_product import ManyModelsLake, simulate_sales
    from {{ cookiecutter.__package }}.many_models.train import fit_in_process, train_all_series

    settings = _settings(size, "loop")
    spark = get_spark("benchmark", state_dir=settings.state_dir)
    data_product.generate(spark, settings)
    sales = ManyModelsLake(settings.data_root).read(spark, "sales")
    frame = simulate_sales(settings)
    started = time.perf_counter()
    loop_fits = fit_in_process(frame, settings)
    loop_seconds = time.perf_counter() - started
    figures: dict[str, float] = {"series": settings.series_count, "loop_s": loop_seconds}
    for grouping in ("series", "buckets"):
        grouped = settings.with_config(training=settings.config.training.model_copy(update={"grouping": grouping}))
        train_all_series(spark, sales.where("Store <= 20"), grouped)  # start the Python workers before timing
        started = time.perf_counter()
        spark_fits = train_all_series(spark, sales, grouped)
        figures[f"spark_{grouping}_s"] = time.perf_counter() - started
        figures[f"speed_up_{grouping}"] = loop_seconds / figures[f"spark_{grouping}_s"]
        assert len(spark_fits) == len(loop_fits) == settings.series_count
        merged = spark_fits.merge(loop_fits, on=["Store", "Brand"], suffixes=("_spark", "_loop"))
        assert np.allclose(merged["accuracy_spark"], merged["accuracy_loop"]), "both paths fit the same models"
    parallelism = spark.sparkContext.defaultParallelism
    print(
        f"{settings.series_count:,} series, identical fits: one-process loop {loop_seconds:.1f} s (in-memory frame); Spark local[{parallelism}] "
        f"(Delta read, shuffle, fits, collect) grouped by series {figures['spark_series_s']:.1f} s, by buckets {figures['spark_buckets_s']:.1f} s"
    )
    return figures


def registry_comparison(series: int) -> dict[str, float]:
    import mlflow

    from {{ cookiecutter.__package }}.core.tracking import configure_tracking
    from {{ cookiecutter.__package }}.many_models.bundle import BundleReader, write_bundle
    from {{ cookiecutter.__package }}.many_models.data_product import simulate_sales
    from {{ cookiecutter.__package }}.many_models.register import bundle_folder, find_per_series, register_bundle, register_per_series
    from {{ cookiecutter.__package }}.many_models.train import bundle_metadata, bundle_records, fit_in_process

    settings = _settings("full", "registry")
    stores = -(-series // len(settings.config.data.brands))
    fits = fit_in_process(simulate_sales(settings, stores=stores), settings).head(series)
    keys = [(int(row.Store), str(row.Brand)) for row in fits.itertuples()]
    configure_tracking(settings)
    mlflow.set_experiment("benchmark")
    with mlflow.start_run() as run, tempfile.TemporaryDirectory() as scratch:
        mlflow.log_metric("warm_up", 1)  # the database's first writes are not what we compare
        started = time.perf_counter()
        folder = Path(scratch) / "bundle"
        weeks = settings.weeks()
        write_bundle(folder, bundle_records(fits), bundle_metadata(settings, run.info.run_id, weeks[0], weeks[-1]))
        version = register_bundle(settings, folder, run.info.run_id)
        bundle_register = time.perf_counter() - started
        started = time.perf_counter()
        reader = BundleReader(bundle_folder(f"models:/{settings.model_name}/{version.version}"))
        for key in keys:
            reader.load_model(key)
        bundle_lookup = time.perf_counter() - started
        started = time.perf_counter()
        register_per_series("per-series", dict(zip(keys, fits["model"], strict=True)), run.info.run_id)
        per_series_register = time.perf_counter() - started
        started = time.perf_counter()
        for key in keys:
            find_per_series("per-series", key)
        per_series_lookup = time.perf_counter() - started
    bundle_total, per_series_total = bundle_register + bundle_lookup, per_series_register + per_series_lookup
    print(f"{series:,} series: bundle register {bundle_register:.2f} s + lookup {bundle_lookup:.3f} s; "
          f"per-series register {per_series_register:.1f} s + lookup {per_series_lookup:.1f} s; "
          f"ratio {per_series_total / bundle_total:.0f}x")  # fmt: skip
    return {"bundle_register_s": bundle_register, "bundle_lookup_s": bundle_lookup, "per_series_register_s": per_series_register,
            "per_series_lookup_s": per_series_lookup, "ratio": per_series_total / bundle_total}  # fmt: skip


def serving(size: str, cold_series: int = 1000, warm_requests: int = 2000) -> dict[str, float]:
    import httpx

    from {{ cookiecutter.__package }}.many_models.bundle import write_bundle
    from {{ cookiecutter.__package }}.many_models.data_product import simulate_sales
    from {{ cookiecutter.__package }}.many_models.train import bundle_metadata, bundle_records, fit_in_process

    settings = _settings(size, "serving")
    folder = settings.state_dir / "bundle"
    weeks = settings.weeks()
    fits = fit_in_process(simulate_sales(settings), settings)
    write_bundle(folder, bundle_records(fits), bundle_metadata(settings, "benchmark", weeks[0], weeks[-1]))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # A cache for about 500 series, as the accelerator's containers hold 500-1,000 models.
    environment = dict(os.environ, MANY_MODELS_BUNDLE=str(folder), MANY_MODELS_CACHE_BYTES=str(500 * 800))
    command = [sys.executable, "-m", "uvicorn", "--factory", "{{ cookiecutter.__package }}.many_models.serve:app_from_environment",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]  # fmt: skip
    server = subprocess.Popen(command, env=environment)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        started = time.perf_counter()
        while True:
            try:
                if client.get("/ready").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        ready_seconds = time.perf_counter() - started
        keys = [(int(row.Store), str(row.Brand)) for row in fits.itertuples()]
        rng = np.random.default_rng(1)

        def ask(key) -> float:
            body = {"rows": [{"store": key[0], "brand": key[1], "week_starting": "1992-10-08", "price": 2.2, "advert": 0,
                              "recent_quantities": [9000.0, 9500.0, 9700.0, 9300.0]}]}  # fmt: skip
            began = time.perf_counter()
            answer = client.post("/predict", json=body)
            assert answer.status_code == 200, answer.text
            return (time.perf_counter() - began) * 1000

        cold = [ask(keys[index]) for index in rng.choice(len(keys), size=min(cold_series, len(keys)), replace=False)]
        hot = [keys[index] for index in rng.choice(len(keys), size=100, replace=False)]
        for key in hot:
            ask(key)
        warm = [ask(hot[index]) for index in rng.integers(0, len(hot), size=warm_requests)]
        cache = client.get("/metrics").json()["cache"]
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)
    figures = {"ready_s": ready_seconds, "cold_p50_ms": float(np.percentile(cold, 50)), "cold_p99_ms": float(np.percentile(cold, 99)),
               "warm_p50_ms": float(np.percentile(warm, 50)), "warm_p99_ms": float(np.percentile(warm, 99))}  # fmt: skip
    print(f"serving {len(keys):,} series, ready in {ready_seconds:.2f} s: cold p50 {figures['cold_p50_ms']:.2f} ms p99 "
          f"{figures['cold_p99_ms']:.2f} ms, warm p50 {figures['warm_p50_ms']:.2f} ms p99 {figures['warm_p99_ms']:.2f} ms; cache {cache}")  # fmt: skip
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="full")
    parser.add_argument("--series-for-registry", type=int, default=1000)
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: full, loop, registry, serving")
    arguments = parser.parse_args()
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import warnings

    warnings.filterwarnings("ignore", category=UserWarning)
    skip = set(filter(None, arguments.skip.split(",")))
    parts = {
        "full": lambda: full_run(arguments.size),
        "loop": lambda: spark_against_loop(arguments.size),
        "registry": lambda: registry_comparison(arguments.series_for_registry),
        "serving": lambda: serving(arguments.size),
    }
    for name, part in parts.items():
        if name not in skip:
            figures = part()
            print(
                f"[{name}] "
                + ", ".join(f"{key} {value:.3f}" if isinstance(value, float) else f"{key} {value}" for key, value in figures.items()),
                flush=True,
            )


if __name__ == "__main__":
    main()
