"""Land raw files into validated Delta tables; rows that fail a check go to quarantine.

Why quarantine instead of drop: a silently dropped row is lost evidence. Each
rejected row keeps its raw values and every reason it failed, so it can be fixed and
re-ingested, and the counts show up in the run summary.

Ingest works on whole UTC days, matching the landing zone's day partitions, so a
re-run of a range replaces exactly what the earlier run wrote.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import time

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from .data_product import COMPONENTS, ERROR_TYPES, MODELS
from .lake import Lake
from .settings import DateRange, Settings, SettingsError

TIMESTAMP_FORMAT = "yyyy-MM-dd HH:mm:ss"
SENSOR_RANGES = {"volt": (0.0, 400.0), "rotate": (0.0, 1000.0), "pressure": (0.0, 300.0), "vibration": (0.0, 150.0)}


@dataclass(frozen=True)
class EntityRules:
    """How one raw entity is parsed, checked and stored."""

    raw_columns: tuple[str, ...]
    category_column: str | None = None
    categories: tuple[str, ...] = ()
    sensors: tuple[str, ...] = ()


ENTITIES = {
    "telemetry": EntityRules(("datetime", "machineID", *SENSOR_RANGES), sensors=tuple(SENSOR_RANGES)),
    "errors": EntityRules(("datetime", "machineID", "errorID"), "errorID", ERROR_TYPES),
    "maintenance": EntityRules(("datetime", "machineID", "comp"), "comp", COMPONENTS),
    "failures": EntityRules(("datetime", "machineID", "failure"), "failure", COMPONENTS),
}
# Snake-case names in the silver tables.
SILVER_NAMES = {"machineID": "machine_id", "errorID": "error_id", "comp": "component", "failure": "component"}

QUARANTINE_SCHEMA = T.StructType(
    [
        T.StructField("source", T.StringType()),
        T.StructField("landing_date", T.StringType()),
        T.StructField("record", T.StringType()),
        T.StructField("reasons", T.ArrayType(T.StringType())),
        T.StructField("ingested_at", T.TimestampType()),
    ]
)


@dataclass(frozen=True)
class IngestCounts:
    read: int
    accepted: int
    quarantined: int


def _whole_days(date_range: DateRange) -> DateRange:
    if date_range.start.time() != time(0) or date_range.end.time() != time(0):
        raise SettingsError(f"ingest range {date_range}: ingest works on whole days; give dates without a time of day")
    return date_range


def _raw(spark: SparkSession, lake: Lake, entity: str, columns: tuple[str, ...], date_range: DateRange | None) -> DataFrame:
    schema = T.StructType([T.StructField(name, T.StringType()) for name in columns])
    path = lake.landing(entity)
    reader = spark.read.option("header", True)
    if date_range is not None:
        schema = schema.add("date", T.StringType())
        reader = reader.option("basePath", path)
    try:
        frame = reader.schema(schema).csv(path)
    except Exception as error:  # Spark raises AnalysisException for a missing path
        if "PATH_NOT_FOUND" in str(error) or "Path does not exist" in str(error):
            raise SettingsError(f"no landing files at {path}; run the generate step (or land the files) first") from None
        raise
    if date_range is None:
        return frame
    return frame.where((F.col("date") >= F.lit(f"{date_range.start:%Y-%m-%d}")) & (F.col("date") < F.lit(f"{date_range.end:%Y-%m-%d}")))


def _problem(condition: Column, message: Column | str) -> Column:
    return F.when(condition, message if isinstance(message, Column) else F.lit(message))


def _checked(raw: DataFrame, rules: EntityRules, known_machines: DataFrame) -> DataFrame:
    """Parse every raw column with try_* functions and collect every failed check as a reason."""
    parsed = raw.select(
        "*",
        F.expr(f"try_to_timestamp(datetime, '{TIMESTAMP_FORMAT}')").alias("_datetime"),
        F.expr("try_cast(machineID AS BIGINT)").alias("_machine_id"),
        *[F.expr(f"try_cast({sensor} AS DOUBLE)").alias(f"_{sensor}") for sensor in rules.sensors],
    ).join(known_machines.select(F.col("machine_id").alias("_known_machine")), F.col("_machine_id") == F.col("_known_machine"), "left")

    problems = [
        _problem(
            F.col("_datetime").isNull(),
            F.concat(F.lit("datetime: '"), F.coalesce("datetime", F.lit("")), F.lit(f"' is not {TIMESTAMP_FORMAT}")),
        ),
        _problem(
            F.col("_machine_id").isNull(), F.concat(F.lit("machineID: '"), F.coalesce("machineID", F.lit("")), F.lit("' is not an integer"))
        ),
        _problem(
            F.col("_machine_id").isNotNull() & F.col("_known_machine").isNull(),
            F.concat(F.lit("machineID: "), F.col("machineID"), F.lit(" is not a known machine")),
        ),
    ]
    if "date" in raw.columns:
        # A row must belong to the landing day it was filed under: a re-run of that day replaces
        # exactly that day, so a row dated elsewhere would be silently dropped by the write.
        problems.append(
            _problem(
                F.col("_datetime").isNotNull() & (F.date_format("_datetime", "yyyy-MM-dd") != F.col("date")),
                F.concat(F.lit("datetime: '"), F.col("datetime"), F.lit("' is not on its landing day "), F.col("date")),
            )
        )
    for sensor in rules.sensors:
        low, high = SENSOR_RANGES[sensor]
        raw_value, value = F.col(sensor), F.col(f"_{sensor}")
        problems += [
            _problem(raw_value.isNull() | (F.trim(raw_value) == ""), f"{sensor}: missing"),
            _problem(
                raw_value.isNotNull() & (F.trim(raw_value) != "") & value.isNull(),
                F.concat(F.lit(f"{sensor}: '"), raw_value, F.lit("' is not a number")),
            ),
            _problem((value < low) | (value > high), F.concat(F.lit(f"{sensor}: "), raw_value, F.lit(f" is outside [{low:g}, {high:g}]"))),
        ]
    if rules.category_column:
        column = F.col(rules.category_column)
        problems.append(
            _problem(
                column.isNull() | ~column.isin(*rules.categories),
                F.concat(
                    F.lit(f"{rules.category_column}: '"),
                    F.coalesce(column, F.lit("")),
                    F.lit(f"' is not one of {', '.join(rules.categories)}"),
                ),
            )
        )
    return parsed.withColumn("_reasons", F.filter(F.array(*problems), lambda reason: reason.isNotNull()))


def _quarantine_rows(checked: DataFrame, entity: str, raw_columns: tuple[str, ...], landing_date: Column) -> DataFrame:
    return checked.where(F.size("_reasons") > 0).select(
        F.lit(entity).alias("source"),
        landing_date.alias("landing_date"),
        F.to_json(F.struct(*raw_columns)).alias("record"),
        F.col("_reasons").alias("reasons"),
        F.current_timestamp().alias("ingested_at"),
    )


@dataclass
class _Landed:
    """One entity's checked rows, held in memory until the run's single quarantine commit."""

    counts: IngestCounts
    quarantined: DataFrame
    quarantine_predicate: str
    checked: DataFrame


def _count(checked: DataFrame) -> IngestCounts:
    """Counted from the persisted rows the writes take their rows from: each write replaces exactly
    its range, so these are the rows the range now holds. Reading the tables back would cost two
    more Spark jobs per entity for the same numbers."""
    row = checked.groupBy().agg(F.count("*").alias("read"), F.sum((F.size("_reasons") == 0).cast("int")).alias("accepted")).collect()[0]
    read, accepted = int(row["read"]), int(row["accepted"] or 0)
    return IngestCounts(read, accepted, read - accepted)


def ingest_machines(spark: SparkSession, lake: Lake) -> _Landed:
    raw = _raw(spark, lake, "machines", ("machineID", "model", "age"), None)
    parsed = raw.select(
        "*",
        F.expr("try_cast(machineID AS BIGINT)").alias("machine_id"),
        F.expr("try_cast(age AS INT)").alias("_age"),
    )
    problems = [
        _problem(
            F.col("machine_id").isNull(), F.concat(F.lit("machineID: '"), F.coalesce("machineID", F.lit("")), F.lit("' is not an integer"))
        ),
        _problem(
            ~F.coalesce(F.col("model").isin(*MODELS), F.lit(False)),
            F.concat(F.lit("model: '"), F.coalesce("model", F.lit("")), F.lit(f"' is not one of {', '.join(MODELS)}")),
        ),
        _problem(
            F.col("_age").isNull() | (F.col("_age") < 0) | (F.col("_age") > 100),
            F.concat(F.lit("age: '"), F.coalesce("age", F.lit("")), F.lit("' is not an integer in [0, 100]")),
        ),
    ]
    checked = parsed.withColumn("_reasons", F.filter(F.array(*problems), lambda reason: reason.isNotNull())).cache()
    accepted = checked.where(F.size("_reasons") == 0).select("machine_id", "model", F.col("_age").alias("age"))
    lake.merge(accepted, "machines", ["machine_id"])
    quarantined = _quarantine_rows(checked, "machines", ("machineID", "model", "age"), F.lit(None).cast("string"))
    return _Landed(_count(checked), quarantined, "source = 'machines'", checked)


def ingest_entity(spark: SparkSession, lake: Lake, entity: str, date_range: DateRange, known_machines: DataFrame) -> _Landed:
    rules = ENTITIES[entity]
    raw = _raw(spark, lake, entity, rules.raw_columns, date_range)
    # Parsed and checked once, then split into accepted and quarantined rows: without
    # the persist, each of the two writes would read and parse the raw files again.
    checked = _checked(raw, rules, known_machines).persist(StorageLevel.MEMORY_AND_DISK)
    silver_columns = [F.col("_datetime").alias("datetime"), F.col("_machine_id").alias("machine_id")]
    silver_columns += [F.col(f"_{sensor}").alias(sensor) for sensor in rules.sensors]
    if rules.category_column:
        silver_columns.append(F.col(rules.category_column).alias(SILVER_NAMES[rules.category_column]))
    lake.replace_range(checked.where(F.size("_reasons") == 0).select(*silver_columns), entity, "datetime", date_range)
    quarantined = _quarantine_rows(checked, entity, rules.raw_columns, F.col("date"))
    predicate = f"source = '{entity}' AND landing_date >= '{date_range.start:%Y-%m-%d}' AND landing_date < '{date_range.end:%Y-%m-%d}'"
    return _Landed(_count(checked), quarantined, predicate, checked)


def ingest(spark: SparkSession, settings: Settings, date_range: DateRange) -> dict[str, IngestCounts]:
    """Ingest machines, then every event entity for the whole days of `date_range`.

    Each entity's accepted rows replace its range of its silver table; the rejected rows of all
    entities then replace their ranges of the quarantine table in one commit (one Delta commit
    costs about a second on a 2-core machine whatever its size, and this saves four). A run that
    dies before that commit leaves the previous run's quarantine rows in place, not none, and a
    re-run of the range replaces them.
    """
    date_range = _whole_days(date_range)
    lake = Lake(settings.data_root)
    landed: dict[str, _Landed] = {}
    machine_ids = None
    try:
        landed["machines"] = ingest_machines(spark, lake)
        # The machines dimension is small: read once, cached, and broadcast into every entity's checks.
        machine_ids = lake.read(spark, "machines").select("machine_id").cache()
        for entity in ENTITIES:
            landed[entity] = ingest_entity(spark, lake, entity, date_range, F.broadcast(machine_ids))
        quarantined = functools.reduce(DataFrame.unionByName, (entity.quarantined for entity in landed.values()))
        lake.replace_where(quarantined, "quarantine", " OR ".join(f"({entity.quarantine_predicate})" for entity in landed.values()))
    finally:
        for entity in landed.values():
            entity.checked.unpersist()
        if machine_ids is not None:
            machine_ids.unpersist()
    return {name: entity.counts for name, entity in landed.items()}
