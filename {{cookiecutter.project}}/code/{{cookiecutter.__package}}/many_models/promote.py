"""Promote a bundle by the business rule applied to every series, with a fallback for the series that fail.

The rule (settings `promotion`): a series passes when its holdout accuracy (1 - MAPE) is above
`min_accuracy`, and regresses when it loses more than `regression_tolerance` against the same
series in the champion. The bundle is promoted when at least `min_passing_fraction` of series
pass and at most `max_regressed_fraction` regress. A promoted bundle never serves a failing
series silently: with `failing_series: champion` the series keeps the champion's model
(status `fallback:v<N>`), or is flagged when the champion has none; with `flag` it keeps the
new model with status `flagged`. When any series changes, the champion becomes a new composite
version built from both bundles, so scoring and serving always load one self-contained bundle.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ..core.settings import SettingsError
from ..core.tracking import CHALLENGER, CHAMPION, configure_tracking, version_by_alias
from .bundle import BundleReader, SeriesKey, write_bundle
from .register import bundle_folder, register_bundle
from .settings import ManyModelsSettings

PASSED = "passed"
FLAGGED = "flagged"


def percent(fraction: float, digits: int = 1) -> str:
    return f"{100 * fraction:.{digits}f} percent"


class PromotionRefused(RuntimeError):
    """The bundle did not meet the rule; the champion is unchanged."""


@dataclass
class PromotionReport:
    model_name: str
    challenger_version: str
    previous_champion: str | None
    series: int
    passing: int
    regressed: int
    promoted: bool = False
    champion_version: str | None = None
    statuses: dict[SeriesKey, str] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    def count(self, prefix: str) -> int:
        return sum(status.startswith(prefix) for status in self.statuses.values())

    def text(self) -> str:
        lines = [
            f"{self.model_name} version {self.challenger_version} against champion {self.previous_champion or '(none)'}:",
            f"  series {self.series:,}, passing the rule {self.passing:,} ({percent(self.passing / max(self.series, 1))}), "
            f"regressed {self.regressed:,}",
        ]
        if self.promoted:
            lines.append(
                f"  promoted: champion is now version {self.champion_version} "
                f"(fallback to the previous champion {self.count('fallback'):,}, flagged {self.count(FLAGGED):,})"
            )
        else:
            lines += [f"  not promoted: {reason}" for reason in self.reasons]
        return "\n".join(lines)


def _version(client: MlflowClient, name: str, version: str | None) -> ModelVersion:
    if version is None:
        chosen = version_by_alias(client, name, CHALLENGER)
        if chosen is None:
            raise SettingsError(f"model '{name}' has no '{CHALLENGER}' version; run the many-models `train` step first")
        return chosen
    try:
        return client.get_model_version(name, version)
    except MlflowException:
        raise SettingsError(f"model '{name}' has no version '{version}'; see `summary` for the registered versions") from None


def evaluate(
    settings: ManyModelsSettings, challenger: BundleReader, champion: BundleReader | None
) -> tuple[dict[SeriesKey, bool], int, int]:
    """Per series: whether it fails (rule or regression); plus the passing and regressed counts."""
    rule = settings.config.promotion
    failing: dict[SeriesKey, bool] = {}
    passing = regressed = 0
    for key, entry in challenger.index.items():
        passes = entry.accuracy > rule.min_accuracy
        previous = champion.index.get(key) if champion else None
        regresses = previous is not None and previous.accuracy - entry.accuracy > rule.regression_tolerance
        passing += passes
        regressed += regresses
        failing[key] = not passes or regresses
    return failing, passing, regressed


def _composite(
    challenger: BundleReader, champion: BundleReader | None, champion_version: str | None, failing: dict[SeriesKey, bool], policy: str
) -> Iterator[tuple[SeriesKey, bytes, float, str]]:
    for key, entry in challenger.index.items():
        if not failing[key]:
            yield key, challenger.model_bytes(key), entry.accuracy, PASSED
        elif policy == "champion" and champion is not None and key in champion and champion.entry(key).status != FLAGGED:
            yield key, champion.model_bytes(key), champion.entry(key).accuracy, f"fallback:v{champion_version}"
        else:
            yield key, challenger.model_bytes(key), entry.accuracy, FLAGGED


def promote(settings: ManyModelsSettings, version: str | None = None) -> PromotionReport:
    """Apply the rule to `version` (default: the challenger); move `champion` on a pass, raise PromotionRefused otherwise."""
    configure_tracking(settings)
    client = MlflowClient()
    name = settings.model_name
    candidate = _version(client, name, version)
    current = version_by_alias(client, name, CHAMPION)
    if current is not None and current.version == candidate.version:
        raise SettingsError(f"{name} version {candidate.version} is already champion")
    challenger = BundleReader(bundle_folder(f"models:/{name}/{candidate.version}"))
    champion = BundleReader(bundle_folder(f"models:/{name}/{current.version}")) if current else None
    try:
        failing, passing, regressed = evaluate(settings, challenger, champion)
        rule = settings.config.promotion
        report = PromotionReport(name, candidate.version, current.version if current else None, len(failing), passing, regressed)
        if passing / max(len(failing), 1) < rule.min_passing_fraction:
            report.reasons.append(
                f"{percent(passing / max(len(failing), 1))} of series pass; promotion.min_passing_fraction is {percent(rule.min_passing_fraction)}"
            )
        if regressed / max(len(failing), 1) > rule.max_regressed_fraction:
            report.reasons.append(
                f"{regressed:,} series lose over {percent(rule.regression_tolerance, 0)} accuracy against the champion; "
                f"promotion.max_regressed_fraction is {percent(rule.max_regressed_fraction)}"
            )
        if report.reasons:
            client.set_model_version_tag(name, candidate.version, "promotion", "refused: " + "; ".join(report.reasons))
            raise PromotionRefused(report.text())
        records = list(_composite(challenger, champion, current.version if current else None, failing, rule.failing_series))
        report.statuses = {key: status for key, _, _, status in records}
        if all(status == PASSED for status in report.statuses.values()):
            client.set_registered_model_alias(name, CHAMPION, candidate.version)
            report.champion_version = candidate.version
        else:
            report.champion_version = _register_composite(settings, challenger, candidate, current, records).version
        client.set_model_version_tag(name, candidate.version, "promotion", f"promoted as version {report.champion_version}")
        report.promoted = True
        return report
    finally:
        challenger.close()
        if champion:
            champion.close()


def _register_composite(
    settings: ManyModelsSettings,
    challenger: BundleReader,
    candidate: ModelVersion,
    current: ModelVersion | None,
    records: list[tuple[SeriesKey, bytes, float, str]],
) -> ModelVersion:
    with tempfile.TemporaryDirectory() as scratch, mlflow.start_run(run_name=f"many-models-promotion-v{candidate.version}") as run:
        folder = Path(scratch) / "bundle"
        write_bundle(folder, records, {**challenger.metadata, "composed_from": candidate.version})
        composed_from = f"{candidate.version}+{current.version}" if current else str(candidate.version)
        tags = {"composed_from": composed_from, "promotion": "composite"}
        return register_bundle(settings, folder, run.info.run_id, extra_tags=tags, alias=CHAMPION)
