"""Typed pipeline settings, read from `pipeline.yml` and overridden by the environment.

Why typed: a threshold written as a string, or a range that ends before it starts,
should stop the run with a message naming the field, not surface later as a wrong model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Generic, Literal, Self, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_CONFIG = Path(__file__).with_name("pipeline.yml")


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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SizeSpec(_Strict):
    machines: int = Field(gt=0, le=100_000)
    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _ordered(self) -> SizeSpec:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    @property
    def date_range(self) -> DateRange:
        return DateRange(self.start, self.end)


class DriftInjection(_Strict):
    """Drift planted in the simulated data, so monitoring can be shown to catch it (and only it)."""

    start: datetime | None = None
    # Shift of every sensor from `start` on, in that sensor's standard deviations.
    magnitude: float = Field(default=0.0, ge=-10, le=10)

    @property
    def active(self) -> bool:
        return self.start is not None and self.magnitude != 0


class DataSettings(_Strict):
    seed: int
    sizes: dict[str, SizeSpec]
    component_mtbf_hours: float = Field(gt=24)
    corrupt_row_fraction: float = Field(ge=0, le=0.5)
    drift: DriftInjection = DriftInjection()


class RangeSettings(_Strict):
    train_fraction: float = Field(gt=0, lt=1)
    holdout_fraction: float = Field(gt=0, lt=1)

    @model_validator(mode="after")
    def _leaves_scoring_range(self) -> RangeSettings:
        if self.train_fraction + self.holdout_fraction >= 1:
            raise ValueError("train_fraction + holdout_fraction must be below 1 to leave a scoring range")
        return self


class FeatureSettings(_Strict):
    window_hours: int = Field(gt=0, le=168)
    lookback_hours: list[int] = Field(min_length=1)
    error_lookback_hours: int = Field(gt=0)
    horizon_hours: int = Field(gt=0)

    @field_validator("lookback_hours")
    @classmethod
    def _positive(cls, values: list[int]) -> list[int]:
        if any(value <= 0 for value in values):
            raise ValueError("every look-back must be a positive number of hours")
        return sorted(set(values))

    @model_validator(mode="after")
    def _whole_windows(self) -> FeatureSettings:
        for hours in [*self.lookback_hours, self.error_lookback_hours]:
            if hours % self.window_hours:
                raise ValueError(f"look-back {hours} h is not a whole number of {self.window_hours} h windows")
        return self

    @property
    def max_lookback_hours(self) -> int:
        return max([*self.lookback_hours, self.error_lookback_hours])


class ModelSettings(_Strict):
    name: str = Field(min_length=1)
    num_trees: int = Field(gt=0, le=2000)
    max_depth: int = Field(gt=0, le=30)
    size_overrides: dict[str, dict[str, int]] = {}


class ValidationSettings(_Strict):
    min_f1_weighted: float = Field(ge=0, le=1)
    min_failure_recall: float = Field(ge=0, le=1)
    max_regression: float = Field(ge=0, le=1)
    promotion: Literal["auto", "manual"]


class RetrainingRule(_Strict):
    """Retrain when at least `min_breached_windows` of the last `last_windows` monitored windows
    breached, the latest among them (databricks/mlops-stacks uses 2 of 5)."""

    min_breached_windows: int = Field(gt=0)
    last_windows: int = Field(gt=0)

    @model_validator(mode="after")
    def _reachable(self) -> RetrainingRule:
        if self.min_breached_windows > self.last_windows:
            raise ValueError("min_breached_windows cannot exceed last_windows, or retraining could never fire")
        return self


class MonitoringSettings(_Strict):
    numeric_bins: int = Field(ge=2, le=100)
    psi_moderate: float = Field(gt=0)
    psi_drift: float = Field(gt=0)
    js_drift: float = Field(gt=0, le=1)
    drifted_feature_share: float = Field(gt=0, le=1)
    prediction_reference_rows: int = Field(gt=0)
    exclude_features: list[str] = []
    retraining: RetrainingRule

    @model_validator(mode="after")
    def _ordered_levels(self) -> MonitoringSettings:
        if self.psi_moderate > self.psi_drift:
            raise ValueError("psi_moderate must not exceed psi_drift")
        return self


class TrackingSettings(_Strict):
    experiment: str = Field(min_length=1)


class PipelineConfig(_Strict):
    data: DataSettings
    ranges: RangeSettings
    features: FeatureSettings
    model: ModelSettings
    validation: ValidationSettings
    monitoring: MonitoringSettings
    tracking: TrackingSettings


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


ConfigModel = TypeVar("ConfigModel", bound=BaseModel)


@dataclass(frozen=True)
class RunSettings(Generic[ConfigModel]):
    """A sample's validated config plus where this run reads and writes: the shape every sample's
    settings share, so the tracking and storage helpers serve them all."""

    config: ConfigModel
    size: str
    data_root: str
    state_dir: Path

    @property
    def size_spec(self) -> Any:
        """The chosen size's entry of `data.sizes`; each sample's config types its own."""
        return self.config.data.sizes[self.size]

    def with_config(self, **sections: BaseModel) -> Self:
        """The same run with some config sections replaced, for runs that vary one setting."""
        return replace(self, config=self.config.model_copy(update=sections))


@dataclass(frozen=True)
class Settings(RunSettings[PipelineConfig]):
    """Everything a batch-scoring step needs."""

    @property
    def model_name(self) -> str:
        return self.config.model.name

    def model_params(self) -> dict[str, int]:
        params = {"num_trees": self.config.model.num_trees, "max_depth": self.config.model.max_depth}
        params.update(self.config.model.size_overrides.get(self.size, {}))
        return params

    def ranges(self) -> dict[str, DateRange]:
        """Split the data product's span into training, holdout and scoring ranges on day boundaries."""
        whole = self.size_spec.date_range
        days = (whole.end - whole.start).days
        train_days = max(1, round(days * self.config.ranges.train_fraction))
        holdout_days = max(1, round(days * self.config.ranges.holdout_fraction))
        train_end = whole.start + timedelta(days=train_days)
        holdout_end = train_end + timedelta(days=holdout_days)
        if holdout_end >= whole.end:
            raise SettingsError(f"size '{self.size}' spans {days} days: too short for training, holdout and scoring ranges")
        return {
            # Ingest reaches a year back: maintenance history before the first telemetry
            # hour is what "days since each component's last replacement" needs.
            "ingest": DateRange(whole.start - timedelta(days=366), _next_midnight(whole.end)),
            "data": whole,
            "train": DateRange(whole.start, train_end),
            "holdout": DateRange(train_end, holdout_end),
            "score": DateRange(holdout_end, whole.end),
        }


def _next_midnight(moment: datetime) -> datetime:
    """Ingest works on whole days; a span ending at 01:00 still needs that day's files."""
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight if midnight == moment else midnight + timedelta(days=1)


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


def load_settings(
    config_path: str | Path | None = None,
    *,
    size: str | None = None,
    data_root: str | None = None,
    state_dir: str | Path | None = None,
) -> Settings:
    """Read settings; arguments win over environment variables, which win over the file.

    Environment: PIPELINE_CONFIG, PIPELINE_SIZE, DATA_ROOT (for example
    abfss://lake@account.dfs.core.windows.net/{{ cookiecutter.project }}) and PIPELINE_STATE_DIR.
    """
    source = Path(config_path or os.environ.get("PIPELINE_CONFIG") or DEFAULT_CONFIG)
    config = read_config(source, PipelineConfig)
    chosen_size = size or os.environ.get("PIPELINE_SIZE") or "small"
    if chosen_size not in config.data.sizes:
        raise SettingsError(f"size: '{chosen_size}' is not defined; use one of: {', '.join(config.data.sizes)}")
    lake, state = storage_roots(data_root, state_dir)
    return Settings(config=config, size=chosen_size, data_root=lake, state_dir=state)
