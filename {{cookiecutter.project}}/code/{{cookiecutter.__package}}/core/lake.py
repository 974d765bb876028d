"""Where each table lives, and the two ways we write to it.

Each sample's lake names its own tables (its `TABLES`); the writing rules are shared.
Tables are path-based Delta tables under one storage root: a local folder by default,
`abfss://` in the cloud. Every write replaces a date range or merges by key, so a
re-run never duplicates rows, and a killed run leaves the previous table version
readable (a Delta commit is atomic).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession

from .settings import DateRange


@dataclass(frozen=True)
class DeltaLake:
    """Path-based Delta tables under one root; a subclass names its tables in TABLES."""

    TABLES: ClassVar[Mapping[str, str]] = {}

    root: str
    # Tables written somewhere other than under the root, such as a scoring job's results table.
    locations: dict[str, str] = field(default_factory=dict)

    def table(self, name: str) -> str:
        return self.locations.get(name) or f"{self.root}/{self.TABLES[name]}"

    def exists(self, spark: SparkSession, name: str) -> bool:
        return DeltaTable.isDeltaTable(spark, self.table(name))

    def read(self, spark: SparkSession, name: str) -> DataFrame:
        if not self.exists(spark, name):
            raise MissingTableError(name, self.table(name))
        return spark.read.format("delta").load(self.table(name))

    def version(self, spark: SparkSession, name: str) -> int | None:
        if not self.exists(spark, name):
            return None
        return DeltaTable.forPath(spark, self.table(name)).history(1).collect()[0]["version"]

    def count_where(self, spark: SparkSession, name: str, predicate: str) -> int:
        """Rows matching a predicate after a write. Delta's own write metrics would count
        the untouched rows it copied while rewriting files, so we read back instead; file
        statistics keep this to the files of the range."""
        return self.read(spark, name).where(predicate).count()

    def replace_range(
        self,
        frame: DataFrame,
        name: str,
        column: str,
        date_range: DateRange,
        partition_by: list[str] | None = None,
    ) -> None:
        """Replace exactly the rows of `date_range` in one atomic commit.

        Rows outside the range are filtered first: Delta rejects a replaceWhere write
        whose rows fall outside its predicate, and we never want to touch them.
        """
        self.replace_where(frame.where(date_range.sql_predicate(column)), name, date_range.sql_predicate(column), partition_by)

    def replace_where(self, frame: DataFrame, name: str, predicate: str, partition_by: list[str] | None = None) -> None:
        writer = frame.write.format("delta").mode("overwrite").option("replaceWhere", predicate)
        if partition_by and not self.exists(frame.sparkSession, name):
            writer = writer.partitionBy(*partition_by)
        writer.save(self.table(name))

    def merge(self, frame: DataFrame, name: str, keys: list[str]) -> None:
        """Upsert by key, for dimensions such as machines that have no date range."""
        if not self.exists(frame.sparkSession, name):
            frame.write.format("delta").save(self.table(name))
            return
        condition = " AND ".join(f"target.{key} = source.{key}" for key in keys)
        (
            DeltaTable.forPath(frame.sparkSession, self.table(name))
            .alias("target")
            .merge(frame.alias("source"), condition)
            .whenMatchedUpdateAll()
            .whenNotMatchedInsertAll()
            .execute()
        )


class MissingTableError(RuntimeError):
    def __init__(self, name: str, path: str):
        # One line for any package name, so ruff formats it the same in every generated project.
        hint = "python -m {{ cookiecutter.__package }} --help"
        super().__init__(f"table '{name}' does not exist at {path}; run the step that writes it first (see `{hint}`)")
