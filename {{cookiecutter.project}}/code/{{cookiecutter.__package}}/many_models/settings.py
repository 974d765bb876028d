"""Typed settings of the many-models sample, read from `many_models.yml`.

They are separate from the batch-scoring `pipeline.yml` so either sample can be generated
alone; the reading, error formatting, resolution order and state locations are the shared
ones in `..core.settings`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from ..core.settings import RunSettings, SettingsError, TrackingSettings
from ..core.settings import Strict as _Strict

DEFAULT_CONFIG = Path(__file__).with_name("many_models.yml")
SERIES_KEYS = ["Store", "Brand"]


class SizeSpec(_Strict):
    stores: int = Field(gt=0, le=100_000)
    weeks: int = Field(gt=0, le=1_000)


class DataSettings(_Strict):
    seed: int
    first_week: date
    brands: list[str] = Field(min_length=1)
    sizes: dict[str, SizeSpec]

    @field_validator("brands")
    @classmethod
    def _distinct(cls, brands: list[str]) -> list[str]:
        if len(set(brands)) != len(brands) or any(not brand.strip() for brand in brands):
            raise ValueError("brands must be distinct, non-empty names")
        return brands


class TrainingSettings(_Strict):
    lags: int = Field(gt=0, le=52)
    holdout_weeks: int = Field(gt=0, le=104)
    min_training_weeks: int = Field(gt=0)
    partitions: int = Field(ge=0, le=100_000)
    grouping: Literal["series", "buckets"]


class RegistrySettings(_Strict):
    name: str = Field(min_length=1)


class PromotionSettings(_Strict):
    min_accuracy: float = Field(ge=0, le=1)
    min_passing_fraction: float = Field(ge=0, le=1)
    regression_tolerance: float = Field(ge=0, le=1)
    max_regressed_fraction: float = Field(ge=0, le=1)
    failing_series: Literal["champion", "flag"]


class ServingSettings(_Strict):
    cache_max_bytes: int = Field(gt=0)


class SloSettings(_Strict):
    p99_ms: float = Field(gt=0)
    max_error_rate: float = Field(ge=0, le=1)
    target_rps: float = Field(gt=0, le=10_000)


class LimitsSettings(_Strict):
    cpus: int = Field(gt=0, le=64)
    memory_mib: int = Field(ge=128, le=262_144)


class StressSettings(_Strict):
    slo: SloSettings
    steps_rps: list[int] = Field(min_length=1, max_length=10)
    step_seconds: int = Field(gt=0, le=120)
    settings: list[LimitsSettings] = Field(min_length=1, max_length=10)

    @field_validator("steps_rps")
    @classmethod
    def _increasing(cls, steps: list[int]) -> list[int]:
        if any(step <= 0 or step > 2_000 for step in steps) or steps != sorted(set(steps)):
            raise ValueError("steps_rps must be increasing request rates between 1 and 2000")
        return steps


class ManyModelsConfig(_Strict):
    data: DataSettings
    training: TrainingSettings
    registry: RegistrySettings
    promotion: PromotionSettings
    serving: ServingSettings
    stress: StressSettings
    tracking: TrackingSettings


@dataclass(frozen=True)
class ManyModelsSettings(RunSettings[ManyModelsConfig]):
    """Everything a many-models step needs."""

    SCHEMA = ManyModelsConfig
    DEFAULT_CONFIG = DEFAULT_CONFIG
    ENVIRONMENT_PREFIX = "MANY_MODELS"
    MODEL_SECTION = "registry"

    @property
    def model_name(self) -> str:
        return os.environ.get("MANY_MODELS_MODEL_NAME") or self.config.registry.name

    @property
    def series_count(self) -> int:
        return self.size_spec.stores * len(self.config.data.brands)

    def weeks(self) -> list[date]:
        return [self.config.data.first_week + timedelta(weeks=week) for week in range(self.size_spec.weeks)]

    def holdout_start(self) -> date:
        """First week whose rows are held out for metrics and scored in batch."""
        return self.weeks()[-self.config.training.holdout_weeks]

    def check(self) -> None:
        training = self.config.training
        training_weeks = self.size_spec.weeks - training.holdout_weeks
        if training_weeks - training.lags < training.min_training_weeks:
            raise SettingsError(
                f"size '{self.size}': {self.size_spec.weeks} weeks leave {training_weeks - training.lags} training rows per series "
                f"after {training.holdout_weeks} holdout weeks and {training.lags} lags; training.min_training_weeks is "
                f"{training.min_training_weeks}. Use more weeks or fewer holdout weeks."
            )


def load_many_models_settings(
    config_path: str | Path | None = None,
    *,
    size: str | None = None,
    data_root: str | None = None,
    state_dir: str | Path | None = None,
) -> ManyModelsSettings:
    """Arguments win over the environment (MANY_MODELS_CONFIG, MANY_MODELS_SIZE, DATA_ROOT,
    PIPELINE_STATE_DIR), which wins over the packaged file."""
    return ManyModelsSettings.load(config_path, size=size, data_root=data_root, state_dir=state_dir)
