"""One way to get a Spark session, so step code never cares where it runs.

On Databricks the runtime already owns a session with Delta configured; elsewhere we
start local Spark with the Delta Lake jars. Spark's Ivy fetches them from Maven Central
once, at `make setup`, into a folder of the virtualenv; every later start reads the local
files, so a run prints no dependency resolution and makes no network call.

Spark's own logging goes through a log4j2 configuration written beside the run's state: only
errors, and none of the start-up banner ("Using Spark's default log4j profile", "Setting
default log level"), which Spark prints only while its default profile is in use
(https://spark.apache.org/docs/latest/configuration.html#configuring-logging).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import shutil
import string
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

from pyspark.sql import SparkSession

# Where setup keeps the resolved jars; SPARK_JARS_DIR overrides it (a shared cache, a read-only image).
JARS_DIR = Path(os.environ.get("SPARK_JARS_DIR") or Path(sys.prefix) / "share" / "spark-jars")
RESOLVED_MARKER = "resolved"
LOG4J_TEMPLATE = """\
# Spark prints its "Setting default log level" banner when the level of the logger it starts
# from (configured here through `org`) differs from the root's, so both get the same level.
rootLogger.level = $level
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex
logger.org.name = org
logger.org.level = $level
logger.io.name = io
logger.io.level = $level
logger.com.name = com
logger.com.level = $level
logger.py4j.name = py4j
logger.py4j.level = $level
"""


# The JVM prints this at every start, because Spark's launcher always adds the incubating
# vector module (org.apache.spark.launcher.JavaModuleOptions); no JVM option silences it.
JVM_START_NOISE = ("WARNING: Using incubator modules:",)


@contextlib.contextmanager
def _jvm_stderr_without_start_noise() -> Iterator[None]:
    """Start the driver JVM with its standard error behind a pipe that drops JVM_START_NOISE.

    PySpark starts the JVM as a child that inherits file descriptor 2, so the pipe is swapped
    in for the start only; the JVM keeps writing into it for its whole life, and a daemon
    thread passes every other line (Spark's errors included) on to the real standard error.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real descriptor 2 (an embedded interpreter): leave it alone
        yield
        return
    read_end, write_end = os.pipe()
    real_stderr = os.dup(saved)

    def forward() -> None:
        with os.fdopen(read_end, "rb") as lines, os.fdopen(real_stderr, "wb", buffering=0) as target:
            for line in lines:
                if not line.decode(errors="replace").startswith(JVM_START_NOISE):
                    target.write(line)

    threading.Thread(target=forward, name="jvm-stderr", daemon=True).start()
    os.dup2(write_end, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(write_end)


def delta_jars_folder() -> Path:
    """One folder per Delta Lake release, so an upgrade resolves its own jars."""
    return JARS_DIR / f"delta-{importlib.metadata.version('delta-spark')}"


def resolved_delta_jars() -> list[str]:
    """The jars setup resolved, or [] before the first resolution finished."""
    folder = delta_jars_folder()
    if not (folder / RESOLVED_MARKER).exists():
        return []
    return sorted(str(jar) for jar in (folder / "jars").glob("*.jar"))


def _log4j_options(state: Path) -> str:
    config = state / "log4j2.properties"
    level = os.environ.get("SPARK_LOG_LEVEL", "ERROR").lower()
    config.write_text(string.Template(LOG4J_TEMPLATE).substitute(level=level), encoding="utf-8")
    return f"-Dlog4j2.configurationFile={config.as_uri()}"


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
    log4j = _log4j_options(state)
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
        .config(
            "spark.driver.extraJavaOptions",
            f"-Dderby.system.home={state} {log4j} {os.environ.get('SPARK_JAVA_OPTIONS', '')}".strip(),
        )
        # Executors of a `local-cluster` master are JVMs of their own.
        .config("spark.executor.extraJavaOptions", log4j)
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    jars = resolved_delta_jars()
    if not jars:
        folder = delta_jars_folder()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:  # a read-only environment: Ivy resolves into its default cache at every start
            return configure_spark_with_delta_pip(builder).getOrCreate()
        resolve_delta_jars(folder)
        jars = resolved_delta_jars()
    with _jvm_stderr_without_start_noise():
        return builder.config("spark.jars", ",".join(jars)).getOrCreate()


class JarResolutionError(RuntimeError):
    """Spark's Ivy could not fetch the Delta Lake jars (offline, or a proxy in the way)."""


def resolve_delta_jars(folder: Path) -> None:
    """Fetch the Delta Lake jars once with Spark's own Ivy, in a child process, and copy them here.

    The child's output (Ivy prints a report of about 90 lines) is shown only when it fails,
    so even the first start prints one line. Ivy keeps its default cache, shared by every
    virtualenv on the machine, so a second project copies the jars without downloading them.
    """
    child = (
        "from delta import configure_spark_with_delta_pip\n"
        "from pyspark.sql import SparkSession\n"
        "builder = SparkSession.builder.master('local[1]').config('spark.ui.enabled', 'false')\n"
        "spark = configure_spark_with_delta_pip(builder).getOrCreate()\n"
        "print('JARS=' + spark.sparkContext.getConf().get('spark.jars', ''))\n"
        "spark.stop()\n"
    )
    print(f"Fetching the Delta Lake jars once into {folder} ...", file=sys.stderr, flush=True)
    result = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=False)
    listed = [line[len("JARS=") :] for line in result.stdout.splitlines() if line.startswith("JARS=")]
    jars = [Path(urllib.parse.urlparse(jar).path) for jar in ",".join(listed).split(",") if jar]
    if result.returncode != 0 or not jars:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise JarResolutionError(
            f"could not fetch the Delta Lake jars from Maven Central; check the network or proxy and run again:\n{tail}"
        )
    (folder / "jars").mkdir(parents=True, exist_ok=True)
    for jar in jars:
        shutil.copy2(jar, folder / "jars" / jar.name)
    (folder / RESOLVED_MARKER).write_text("jars resolved by Spark's Ivy; delete this folder to fetch them again\n", encoding="utf-8")
