"""What every sample's settings share: date ranges, strict schemas, readable errors and run locations.

Why typed: a threshold written as a string, or a range that ends before it starts,
should stop the run with a message naming the field, not surface later as a wrong model.
Each sample declares its own schema and packaged file; reading, validating and resolving
them (argument, then environment, then file) happens once, here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, Self, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class SettingsError(ValueError):
    """Raised with a readable, field-by-field message; the CLI prints it without a traceback."""


@dataclass(frozen=True)
class DateRange:
    """A half-open UTC interval [start, end) that every step reads or replaces."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise SettingsError(f"date range: end {self.end:%Y-%m-%d %H:%M} must be after start {self.start:%Y-%m-%d %H:%M}")

    @classmethod
    def parse(cls, start: str, end: str) -> DateRange:
        return cls(parse_timestamp(start, "start"), parse_timestamp(end, "end"))

    def sql_predicate(self, column: str) -> str:
        return f"{column} >= '{self.start:%Y-%m-%d %H:%M:%S}' AND {column} < '{self.end:%Y-%m-%d %H:%M:%S}'"

    def __str__(self) -> str:
        return f"[{self.start:%Y-%m-%d %H:%M}, {self.end:%Y-%m-%d %H:%M})"


def parse_timestamp(text: str | datetime, field: str) -> datetime:
    if isinstance(text, datetime):
        return text.replace(tzinfo=None)
    try:
        return datetime.fromisoformat(str(text)).replace(tzinfo=None)
    except ValueError:
        raise SettingsError(f"{field}: '{text}' is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None


class Strict(BaseModel):
    """A settings section that rejects unknown keys, so a misspelt setting is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid")


class TrackingSettings(Strict):
    """The `tracking:` section every sample has: the MLflow experiment its runs go to (core.tracking reads it)."""

    experiment: str = Field(min_length=1)


def _format_validation_error(error: ValidationError, source: Path) -> str:
    lines = [f"{source}: invalid settings"]
    for issue in error.errors():
        where = ".".join(str(part) for part in issue["loc"])
        lines.append(f"  - {where}: {issue['msg']}")
    return "\n".join(lines)


def find_project_root(start: Path | None = None) -> Path:
    """The repository root (where pyproject.toml is), so local state lands in one place."""
    here = (start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / "pyproject.toml").exists() and (folder / "code").is_dir():
            return folder
    return here


def read_config(source: Path, schema: type[ConfigModel]) -> ConfigModel:
    """Read a settings file into its schema; every sample's settings fail the same readable way."""
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"config file {source} does not exist; pass --config with an existing file") from None
    except yaml.YAMLError as error:
        raise SettingsError(f"{source}: not valid YAML ({error})") from None
    try:
        return schema.model_validate(raw)
    except ValidationError as error:
        raise SettingsError(_format_validation_error(error, source)) from None


def storage_roots(data_root: str | None, state_dir: str | Path | None) -> tuple[str, Path]:
    """Where a run reads and writes: the one thing that differs between a laptop and a cluster,
    so every sample resolves it the same way (argument, then DATA_ROOT / PIPELINE_STATE_DIR,
    then the project's .local folder)."""
    state = Path(state_dir or os.environ.get("PIPELINE_STATE_DIR") or find_project_root() / ".local")
    lake = data_root or os.environ.get("DATA_ROOT") or str(state / "lake")
    return lake.rstrip("/"), state


ConfigModel = TypeVar("ConfigModel", bound=BaseModel)


@dataclass(frozen=True)
class RunSettings(Generic[ConfigModel]):
    """A sample's validated config plus where this run reads and writes: the shape every sample's
    settings share, so the tracking and storage helpers serve them all.

    A sample's subclass names its schema, its packaged settings file and the prefix of its
    environment variables (`<PREFIX>_CONFIG`, `<PREFIX>_SIZE`); `load` does the rest.
    """

    SCHEMA: ClassVar[type[BaseModel]]
    DEFAULT_CONFIG: ClassVar[Path]
    ENVIRONMENT_PREFIX: ClassVar[str]
    # The config section whose `name` is the registered model's name.
    MODEL_SECTION: ClassVar[str]
    DEFAULT_SIZE: ClassVar[str] = "small"

    config: ConfigModel
    size: str
    data_root: str
    state_dir: Path

    @classmethod
    def load(
        cls,
        config_path: str | Path | None = None,
        *,
        size: str | None = None,
        data_root: str | None = None,
        state_dir: str | Path | None = None,
    ) -> Self:
        """Arguments win over the environment (<PREFIX>_CONFIG, <PREFIX>_SIZE, DATA_ROOT,
        PIPELINE_STATE_DIR), which wins over the packaged file."""
        prefix = cls.ENVIRONMENT_PREFIX
        source = Path(config_path or os.environ.get(f"{prefix}_CONFIG") or cls.DEFAULT_CONFIG)
        config = read_config(source, cls.SCHEMA)
        chosen = size or os.environ.get(f"{prefix}_SIZE") or cls.DEFAULT_SIZE
        if chosen not in config.data.sizes:
            raise SettingsError(f"size: '{chosen}' is not defined; use one of: {', '.join(config.data.sizes)}")
        lake, state = storage_roots(data_root, state_dir)
        settings = cls(config=config, size=chosen, data_root=lake, state_dir=state)
        settings.check()
        return settings

    def check(self) -> None:
        """Cross-field rules a sample adds beyond its schema; raise SettingsError naming the fields."""

    @property
    def size_spec(self) -> Any:
        """The chosen size's entry of `data.sizes`; each sample's config types its own."""
        return self.config.data.sizes[self.size]

    def with_config(self, **sections: BaseModel) -> Self:
        """The same run with some config sections replaced, for runs that vary one setting."""
        return replace(self, config=self.config.model_copy(update=sections))

    def with_model_name(self, name: str) -> Self:
        """The same run registering under another name, so runs that share a registry never see each other's aliases."""
        section = getattr(self.config, self.MODEL_SECTION)
        return self.with_config(**{self.MODEL_SECTION: section.model_copy(update={"name": name})})
