"""The simulated {{ cookiecutter.project }} data product, written as raw landing files.

Why simulate: the public reference data set cannot be fetched here, and tests need
data of any size on demand. The shape follows the reference (machines, hourly
telemetry, errors, maintenance, failures), and the simulation plants a learnable
signal: before a component fails, one sensor drifts and one error type rises.

Determinism: every machine draws from its own random streams, seeded by
(seed, machine, stream), so the output is identical however Spark partitions it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from .lake import Lake
from .settings import DateRange, Settings

MODELS = ("model1", "model2", "model3", "model4")
COMPONENTS = ("comp1", "comp2", "comp3", "comp4")
ERROR_TYPES = ("error1", "error2", "error3", "error4", "error5")
SENSORS = ("volt", "rotate", "pressure", "vibration")
# Mean and standard deviation of each sensor, as in the reference data.
SENSOR_BASELINE = {"volt": (170.8, 15.5), "rotate": (446.6, 52.7), "pressure": (100.9, 11.0), "vibration": (40.4, 5.4)}
# Before a component fails, its sensor drifts linearly to this shift at the failure hour.
DEGRADATION = {"comp1": ("volt", 45.0), "comp2": ("rotate", -160.0), "comp3": ("pressure", 33.0), "comp4": ("vibration", 16.0)}
DEGRADATION_HOURS = 96
ERROR_OF_COMPONENT = {"comp1": "error1", "comp2": "error2", "comp3": "error3", "comp4": "error4"}
BACKGROUND_ERROR_RATE = 0.0008  # per machine, error type and hour
DEGRADED_ERROR_RATE = 0.04
MODEL_FAILURE_FACTOR = {"model1": 0.8, "model2": 1.0, "model3": 1.1, "model4": 0.9}

# Streams of each machine's random generator.
_ATTRIBUTES, _TIMELINE, _TELEMETRY, _ERRORS, _CORRUPTION = range(5)
# Ways a raw telemetry row gets corrupted, to exercise ingest's quarantine.
CORRUPTION_KINDS = {1: "missing volt", 2: "negative pressure", 3: "unknown machine", 4: "non-numeric rotate"}
UNKNOWN_MACHINE_OFFSET = 900_000

TELEMETRY_SCHEMA = T.StructType(
    [
        T.StructField("datetime", T.TimestampType()),
        T.StructField("machineID", T.LongType()),
        *[T.StructField(sensor, T.DoubleType()) for sensor in SENSORS],
        T.StructField("corruption", T.IntegerType()),
    ]
)


@dataclass(frozen=True)
class Simulation:
    """Parameters that fully determine the data product."""

    seed: int
    machines: int
    span: DateRange
    component_mtbf_hours: float
    corrupt_row_fraction: float
    # Planted drift: from this moment every sensor shifts by `drift_magnitude` of its std.
    drift_from: datetime | None = None
    drift_magnitude: float = 0.0

    @property
    def hours(self) -> int:
        return int((self.span.end - self.span.start).total_seconds() // 3600)

    def rng(self, machine_id: int, stream: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, machine_id, stream])

    def attributes(self, machine_id: int) -> tuple[str, int]:
        rng = self.rng(machine_id, _ATTRIBUTES)
        return MODELS[int(rng.integers(len(MODELS)))], int(rng.integers(0, 21))

    def timeline(self, machine_id: int) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
        """Failures and maintenance of one machine, as (hour offset, component) pairs."""
        model, age = self.attributes(machine_id)
        rng = self.rng(machine_id, _TIMELINE)
        mean_hours = self.component_mtbf_hours * MODEL_FAILURE_FACTOR[model] * (1 - age / 50)
        failures: list[tuple[int, str]] = []
        for component in COMPONENTS:
            hour = DEGRADATION_HOURS + rng.exponential(mean_hours)
            while hour < self.hours:
                failures.append((int(hour), component))
                hour += DEGRADATION_HOURS + rng.exponential(mean_hours)
        # Every component was last replaced some time in the year before the data starts,
        # then scheduled maintenance replaces one every 1,000-2,500 hours.
        maintenance = [(-int(rng.integers(24, 365 * 24)), component) for component in COMPONENTS]
        hour = rng.uniform(1000, 2500)
        while hour < self.hours:
            maintenance.append((int(hour), COMPONENTS[int(rng.integers(len(COMPONENTS)))]))
            hour += rng.uniform(1000, 2500)
        maintenance += failures  # a failed component is replaced at once
        return sorted(failures), sorted(maintenance)

    def telemetry(self, machine_id: int) -> pd.DataFrame:
        model, _ = self.attributes(machine_id)
        failures, _ = self.timeline(machine_id)
        rng = self.rng(machine_id, _TELEMETRY)
        n_hours = self.hours
        model_shift = MODELS.index(model) - 1.5
        values = {sensor: mean + model_shift * std * 0.1 + rng.normal(0.0, std, n_hours) for sensor, (mean, std) in SENSOR_BASELINE.items()}
        hour_index = np.arange(n_hours)
        for failure_hour, component in failures:
            sensor, shift = DEGRADATION[component]
            start = max(0, failure_hour - DEGRADATION_HOURS)
            ramp = hour_index[start:failure_hour]
            values[sensor][start:failure_hour] += shift * (1 - (failure_hour - ramp) / DEGRADATION_HOURS)
        if self.drift_from is not None and self.drift_magnitude:
            # Added after every random draw, so the undrifted part is identical to a run without drift.
            first_drifted = max(0, int((self.drift_from - self.span.start).total_seconds() // 3600))
            for sensor, (_, std) in SENSOR_BASELINE.items():
                values[sensor][first_drifted:] += self.drift_magnitude * std
        corruption = np.zeros(n_hours, dtype=np.int32)
        if self.corrupt_row_fraction > 0:
            corrupt_rng = self.rng(machine_id, _CORRUPTION)
            corrupt = corrupt_rng.random(n_hours) < self.corrupt_row_fraction
            corruption[corrupt] = corrupt_rng.integers(1, len(CORRUPTION_KINDS) + 1, int(corrupt.sum()))
        return pd.DataFrame(
            {
                "datetime": pd.date_range(self.span.start, periods=n_hours, freq="h"),
                "machineID": np.full(n_hours, machine_id, dtype=np.int64),
                **values,
                "corruption": corruption,
            }
        )

    def errors(self, machine_id: int) -> list[tuple[int, str]]:
        failures, _ = self.timeline(machine_id)
        rng = self.rng(machine_id, _ERRORS)
        rates = np.full((self.hours, len(ERROR_TYPES)), BACKGROUND_ERROR_RATE)
        for failure_hour, component in failures:
            column = ERROR_TYPES.index(ERROR_OF_COMPONENT[component])
            rates[max(0, failure_hour - DEGRADATION_HOURS) : failure_hour, column] = DEGRADED_ERROR_RATE
        hours, columns = np.nonzero(rng.random(rates.shape) < rates)
        return [(int(hour), ERROR_TYPES[column]) for hour, column in zip(hours, columns, strict=True)]

    def timestamp(self, hour_offset: int) -> datetime:
        return self.span.start + timedelta(hours=hour_offset)


def simulation_for(settings: Settings) -> Simulation:
    spec = settings.size_spec
    data = settings.config.data
    return Simulation(
        seed=data.seed,
        machines=spec.machines,
        span=spec.date_range,
        component_mtbf_hours=data.component_mtbf_hours,
        corrupt_row_fraction=data.corrupt_row_fraction,
        drift_from=data.drift.start if data.drift.active else None,
        drift_magnitude=data.drift.magnitude,
    )


def _telemetry_frame(spark: SparkSession, simulation: Simulation) -> DataFrame:
    def generate(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            for machine_id in batch["id"]:
                yield simulation.telemetry(int(machine_id))

    partitions = max(1, min(simulation.machines, spark.sparkContext.defaultParallelism * 4))
    clean = spark.range(1, simulation.machines + 1, numPartitions=partitions).mapInPandas(generate, TELEMETRY_SCHEMA)
    corruption = F.col("corruption")
    return clean.select(
        F.date_format("datetime", "yyyy-MM-dd HH:mm:ss").alias("datetime"),
        F.when(corruption == 3, F.col("machineID") + UNKNOWN_MACHINE_OFFSET)
        .otherwise(F.col("machineID"))
        .cast("string")
        .alias("machineID"),
        F.when(corruption == 1, F.lit(None)).otherwise(F.format_number("volt", 6)).alias("volt"),
        F.when(corruption == 4, F.lit("n/a")).otherwise(F.format_number("rotate", 6)).alias("rotate"),
        F.when(corruption == 2, F.format_number(-F.col("pressure"), 6)).otherwise(F.format_number("pressure", 6)).alias("pressure"),
        F.format_number("vibration", 6).alias("vibration"),
        F.date_format("datetime", "yyyy-MM-dd").alias("date"),
    )


def _events_frame(spark: SparkSession, rows: list[tuple[datetime, int, str]], value_column: str) -> DataFrame:
    frame = pd.DataFrame(rows, columns=["datetime", "machineID", value_column])
    frame["date"] = frame["datetime"].dt.strftime("%Y-%m-%d")
    frame["datetime"] = frame["datetime"].dt.strftime("%Y-%m-%d %H:%M:%S")
    frame["machineID"] = frame["machineID"].astype(str)
    schema = T.StructType([T.StructField(name, T.StringType()) for name in frame.columns])
    return spark.createDataFrame(frame, schema)


def _write_landing(frame: DataFrame, path: str, partitioned: bool = True) -> None:
    writer = frame.write.mode("overwrite").option("header", True)
    if partitioned:
        # Replace only the days we generate; other days' files stay as they are.
        writer = writer.option("partitionOverwriteMode", "dynamic").partitionBy("date")
    writer.csv(path)


def generate(spark: SparkSession, settings: Settings) -> dict[str, int]:
    """Write the data product's raw files for the configured size; return row counts per entity."""
    simulation = simulation_for(settings)
    lake = Lake(settings.data_root)
    machine_ids = range(1, simulation.machines + 1)

    machines = pd.DataFrame(
        [(str(machine_id), *map(str, simulation.attributes(machine_id))) for machine_id in machine_ids],
        columns=["machineID", "model", "age"],
    )
    _write_landing(spark.createDataFrame(machines), lake.landing("machines"), partitioned=False)

    failures, maintenance, errors = [], [], []
    for machine_id in machine_ids:
        machine_failures, machine_maintenance = simulation.timeline(machine_id)
        failures += [(simulation.timestamp(hour), machine_id, component) for hour, component in machine_failures]
        maintenance += [(simulation.timestamp(hour), machine_id, component) for hour, component in machine_maintenance]
        errors += [(simulation.timestamp(hour), machine_id, error) for hour, error in simulation.errors(machine_id)]
    _write_landing(_events_frame(spark, failures, "failure"), lake.landing("failures"))
    _write_landing(_events_frame(spark, maintenance, "comp"), lake.landing("maintenance"))
    _write_landing(_events_frame(spark, errors, "errorID"), lake.landing("errors"))
    # One set of files per day rather than one per generating task and day.
    _write_landing(_telemetry_frame(spark, simulation).repartition("date"), lake.landing("telemetry"))
    return {
        "machines": simulation.machines,
        "telemetry": simulation.machines * simulation.hours,
        "errors": len(errors),
        "maintenance": len(maintenance),
        "failures": len(failures),
    }
