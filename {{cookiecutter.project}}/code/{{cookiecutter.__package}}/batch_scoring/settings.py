"""The batch-scoring sample's settings: the schema of `pipeline.yml` and the ranges it splits the data into.

The reading, validation and resolution order (argument, then PIPELINE_CONFIG /
PIPELINE_SIZE / DATA_ROOT / PIPELINE_STATE_DIR, then the packaged file) are the shared
ones in `..core.settings`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..core.settings import DateRange, RunSettings, SettingsError, TrackingSettings, parse_timestamp
from ..core.settings import Strict as _Strict

__all__ = ["DEFAULT_CONFIG", "DateRange", "PipelineConfig", "Settings", "SettingsError", "load_settings", "model_name", "parse_timestamp"]

DEFAULT_CONFIG = Path(__file__).with_name("pipeline.yml")


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


class PipelineConfig(_Strict):
    data: DataSettings
    ranges: RangeSettings
    features: FeatureSettings
    model: ModelSettings
    validation: ValidationSettings
    monitoring: MonitoringSettings
    tracking: TrackingSettings


@dataclass(frozen=True)
class Settings(RunSettings[PipelineConfig]):
    """Everything a batch-scoring step needs."""

    SCHEMA = PipelineConfig
    DEFAULT_CONFIG = DEFAULT_CONFIG
    ENVIRONMENT_PREFIX = "PIPELINE"
    MODEL_SECTION = "model"

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
    return Settings.load(config_path, size=size, data_root=data_root, state_dir=state_dir)


def model_name(settings: Settings) -> str:
    """The registered model's name: MODEL_NAME wins (Unity Catalog needs `catalog.schema.model`)."""
    return os.environ.get("MODEL_NAME") or settings.model_name
