"""The platform team's limits on what a project request may ask for (infra/platform.yaml).

Why a file of its own: waiver lifetimes and allowlist sizes are the platform's decisions,
not a team's, and they must be the same for `request validate`, the offline plan, the
guardrails and the policy pack inside `pulumi preview`. A request cannot change them;
changing them is a reviewed change to infra/platform.yaml.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dsplatform.infra import PULUMI_PROJECT_DIRECTORY
from dsplatform.safe_yaml import DocumentError, load_document

POLICY_PATH = PULUMI_PROJECT_DIRECTORY / "platform.yaml"


class PlatformPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    waiver_max_days: int = Field(
        default=365, ge=1, le=3650, description="the longest a waiver may run, in days after the plan date (1 to 3650)"
    )
    allowlist_max_prefix: int = Field(
        default=16, ge=8, le=32, description="the broadest CIDR prefix an allowed_ip_ranges entry may have, e.g. 16 for /16"
    )
    allowlist_max_addresses: int = Field(
        default=2 * 65536, ge=1, description="the most addresses one environment's allowlists may admit together"
    )
    exploration_max_days: int = Field(
        default=90, ge=1, le=365, description="the latest an exploration's end_date may be, in days after the plan date (1 to 365)"
    )
    # Azure accepts 0 to 1000 percent and at most five notifications per budget ("Budgets -
    # Create Or Update", https://learn.microsoft.com/rest/api/consumption/budgets/create-or-update).
    budget_alert_thresholds: tuple[int, ...] = Field(
        default=(80, 100),
        min_length=1,
        max_length=5,
        description="the default budget alert thresholds, in percent of the amount (1 to 5 values, each 1 to 1000)",
    )

    @field_validator("budget_alert_thresholds")
    @classmethod
    def _thresholds(cls, values: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 0 < threshold <= 1000 for threshold in values) or len(set(values)) != len(values):
            raise ValueError("each threshold must be a distinct whole percent from 1 to 1000")
        return values


class PlatformPolicyError(Exception):
    def __init__(self, lines: list[str]):
        self.lines = lines
        super().__init__("\n".join(lines))


@lru_cache(maxsize=4)
def platform_policy(path: Path = POLICY_PATH) -> PlatformPolicy:
    """The platform's limits; a missing file means the defaults above."""
    if not path.exists():
        return PlatformPolicy()
    try:
        document = load_document(path)
        return PlatformPolicy.model_validate(document.data or {})
    except DocumentError as error:
        raise PlatformPolicyError(error.lines) from None
    except ValidationError as error:
        lines = []
        for item in error.errors(include_url=False):
            location = tuple(item["loc"])
            line, column = document.position_of(location)
            field = ".".join(str(part) for part in location) or "(file)"
            form = PlatformPolicy.model_fields[location[0]].description if location and location[0] in PlatformPolicy.model_fields else None
            message = "is not a known setting" if item["type"] == "extra_forbidden" else item["msg"]
            lines.append(f"{path}:{line}:{column}: {field}: {message}" + (f" (expected {form})" if form else ""))
        raise PlatformPolicyError(lines) from None
