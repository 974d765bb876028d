"""One way to get a Spark session, so step code never cares where it runs.

On Databricks the runtime already owns a session with Delta configured; elsewhere we
start local Spark with the Delta Lake jars, which Spark's Ivy fetches from Maven
Central on first use (`make setup` does that once).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession


def on_databricks() -> bool:
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def get_spark(app_name: str = "{{ cookiecutter.__package }}", state_dir: Path | None = None) -> SparkSession:
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if on_databricks():
        return SparkSession.builder.getOrCreate()

    from delta import configure_spark_with_delta_pip

    # Python workers must run the interpreter that has this package and its pins,
    # not whatever `python3` is first on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    state = Path(state_dir or Path.cwd() / ".local").resolve()
    state.mkdir(parents=True, exist_ok=True)
    builder = (
        SparkSession.builder.master(os.environ.get("SPARK_MASTER", "local[*]"))
        .appName(app_name)
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "6g"))
        # Local data is small per partition; the default of 200 shuffle partitions
        # would spend most of the time scheduling empty tasks.
        .config("spark.sql.shuffle.partitions", os.environ.get("SPARK_SHUFFLE_PARTITIONS", "8"))
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.warehouse.dir", str(state / "spark-warehouse"))
        # SPARK_JAVA_OPTIONS lets short runs such as tests trade peak speed for start-up,
        # for example "-XX:TieredStopAtLevel=1" (no optimising JIT).
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={state} {os.environ.get('SPARK_JAVA_OPTIONS', '')}".strip())
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    spark = configure_spark_with_delta_pip(builder).getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("SPARK_LOG_LEVEL", "ERROR"))
    return spark
