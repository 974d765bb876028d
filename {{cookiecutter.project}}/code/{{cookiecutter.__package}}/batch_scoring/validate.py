"""Validate a candidate model against thresholds and the current champion, then promote it.

Both models are scored on the same holdout, so a "better" candidate is better on
the same evidence. A pass makes the candidate `challenger`; with `promotion: auto`
it becomes `champion` at once, with `promotion: manual` it waits for a person to run
`promote`. A failure writes a readable report, leaves `champion` untouched and makes
the step exit non-zero, so no pipeline can pass it silently.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from pyspark.sql import DataFrame, SparkSession

from ..core.tracking import CHALLENGER, CHAMPION, configure_tracking, latest_version, load_spark_model, version_by_alias
from .metrics import classification_metrics, confusion
from .settings import DateRange, Settings, SettingsError, model_name
from .train import training_frame

PROMOTION_METRICS = ("f1_weighted", "failure_recall")


class ValidationFailed(RuntimeError):
    """The candidate did not pass; the message says why and where the report is."""


class PromotionRefused(RuntimeError):
    pass


@dataclass
class ValidationReport:
    model_name: str
    candidate_version: str
    holdout: str
    candidate: dict[str, float | None]
    champion_version: str | None = None
    champion: dict[str, float | None] | None = None
    checks: list[dict[str, object]] = field(default_factory=list)
    passed: bool = False
    promoted_to: str | None = None
    report_path: str = ""

    def markdown(self) -> str:
        lines = [
            f"# Validation of {self.model_name} version {self.candidate_version}",
            "",
            f"Result: **{'PASSED' if self.passed else 'FAILED'}**" + (f", now `{self.promoted_to}`" if self.promoted_to else ""),
            f"Holdout: {self.holdout}, {int(self.candidate.get('rows') or 0)} windows, "
            f"{int(self.candidate.get('failure_windows') or 0)} before a failure.",
            f"Champion compared: {('version ' + self.champion_version) if self.champion_version else 'none yet'}",
            "",
            "| check | value | required | result |",
            "|---|---|---|---|",
        ]
        for check in self.checks:
            lines.append(f"| {check['name']} | {_fmt(check['value'])} | {check['required']} | {'pass' if check['passed'] else 'FAIL'} |")
        lines += ["", "| metric | candidate | champion |", "|---|---|---|"]
        for metric in ("accuracy", "f1_weighted", "failure_recall", "failure_precision"):
            champion_value = self.champion.get(metric) if self.champion else None
            lines.append(f"| {metric} | {_fmt(self.candidate.get(metric))} | {_fmt(champion_value)} |")
        return "\n".join(lines) + "\n"


def _fmt(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else ("n/a" if value is None else str(value))


def evaluate(spark: SparkSession, version: ModelVersion, holdout_features: DataFrame) -> dict[str, float | None]:
    return classification_metrics(confusion(load_spark_model(spark, version).transform(holdout_features)))


def _checks(settings: Settings, candidate: dict, champion: dict | None) -> list[dict[str, object]]:
    thresholds = settings.config.validation
    checks = [
        {
            "name": "holdout has failure windows",
            "value": candidate.get("failure_windows"),
            "required": "> 0",
            "passed": bool(candidate.get("failure_windows")),
        },
        {
            "name": "f1_weighted",
            "value": candidate.get("f1_weighted"),
            "required": f">= {thresholds.min_f1_weighted}",
            "passed": (candidate.get("f1_weighted") or 0) >= thresholds.min_f1_weighted,
        },
        {
            "name": "failure_recall",
            "value": candidate.get("failure_recall"),
            "required": f">= {thresholds.min_failure_recall}",
            "passed": (candidate.get("failure_recall") or 0) >= thresholds.min_failure_recall,
        },
    ]
    if champion:
        for metric in PROMOTION_METRICS:
            floor = (champion.get(metric) or 0) - thresholds.max_regression
            checks.append(
                {
                    "name": f"{metric} vs champion",
                    "value": candidate.get(metric),
                    "required": f">= {floor:.4f} (champion - {thresholds.max_regression})",
                    "passed": (candidate.get(metric) or 0) >= floor,
                }
            )
    return checks


def validate(spark: SparkSession, settings: Settings, holdout: DateRange, version: str | None = None) -> ValidationReport:
    configure_tracking(settings)
    client = MlflowClient()
    name = model_name(settings)
    candidate = _model_version(client, name, version) if version else latest_version(client, name)
    if candidate is None:
        raise SettingsError(f"model '{name}' has no versions yet; run the train step first")
    candidate_version = str(candidate.version)
    champion = version_by_alias(client, name, CHAMPION)
    if champion is not None and str(champion.version) == candidate_version:
        champion = None  # re-validating the champion itself: compare with thresholds only

    # Candidate and champion are judged on the same holdout rows: looked up once.
    features = training_frame(spark, settings, holdout)[0].cache()
    try:
        report = ValidationReport(name, candidate_version, str(holdout), evaluate(spark, candidate, features))
        if champion is not None:
            report.champion_version = str(champion.version)
            report.champion = evaluate(spark, champion, features)
    finally:
        features.unpersist()
    report.checks = _checks(settings, report.candidate, report.champion)
    report.passed = all(check["passed"] for check in report.checks)

    client.set_model_version_tag(name, candidate_version, "validation_status", "passed" if report.passed else "failed")
    client.set_model_version_tag(name, candidate_version, "validation_holdout", str(holdout))
    for metric, value in report.candidate.items():
        if value is not None:
            client.set_model_version_tag(name, candidate_version, f"holdout_{metric}", f"{value:.6f}")
            client.log_metric(candidate.run_id, f"holdout_{metric}", value)
    if report.passed:
        client.set_registered_model_alias(name, CHALLENGER, candidate_version)
        report.promoted_to = CHALLENGER
        if settings.config.validation.promotion == "auto":
            promote(settings, candidate_version)
            report.promoted_to = CHAMPION
    _write_report(settings, report, client, candidate.run_id)
    if not report.passed:
        failed = ", ".join(check["name"] for check in report.checks if not check["passed"])
        raise ValidationFailed(
            f"{name} version {candidate_version} failed validation ({failed}); champion unchanged. Report: {report.report_path}"
        )
    return report


def _write_report(settings: Settings, report: ValidationReport, client: MlflowClient, run_id: str) -> None:
    path = report_path_for(settings, report.model_name, report.candidate_version)
    path.parent.mkdir(parents=True, exist_ok=True)
    report.report_path = str(path)
    path.write_text(report.markdown(), encoding="utf-8")
    path.with_suffix(".json").write_text(json.dumps(asdict(report), indent=2, default=str), encoding="utf-8")
    client.log_artifact(run_id, str(path), artifact_path="validation")


def promote(settings: Settings, version: str) -> str:
    """Make a validated version champion: the sign-off step when promotion is manual."""
    configure_tracking(settings)
    client = MlflowClient()
    name = model_name(settings)
    if version == CHALLENGER:
        # A job's promote task names the alias its validate task set, not a number.
        challenger = version_by_alias(client, name, CHALLENGER)
        if challenger is None:
            raise PromotionRefused(f"{name} has no '{CHALLENGER}' version; run the validate step (with --promotion manual) first")
        version = str(challenger.version)
    model_version = _model_version(client, name, version)
    if model_version.tags.get("validation_status") != "passed":
        raise PromotionRefused(
            f"{name} version {version} has not passed validation (status: {model_version.tags.get('validation_status', 'never validated')}); "
            "run the validate step for it first"
        )
    previous = version_by_alias(client, name, CHAMPION)
    client.set_registered_model_alias(name, CHAMPION, version)
    client.set_model_version_tag(name, version, "promoted_at", datetime.now(UTC).isoformat(timespec="seconds"))
    if previous is not None and str(previous.version) != str(version):
        client.set_model_version_tag(name, version, "previous_champion", str(previous.version))
    challenger = version_by_alias(client, name, CHALLENGER)
    if challenger is not None and str(challenger.version) == str(version):
        client.delete_registered_model_alias(name, CHALLENGER)
    return version


def _model_version(client: MlflowClient, name: str, version: str):
    try:
        return client.get_model_version(name, version)
    except MlflowException:
        raise SettingsError(f"model '{name}' has no version '{version}'; see `make mlflow-ui` for the versions") from None


def report_path_for(settings: Settings, name: str, version: str) -> Path:
    return settings.state_dir / "reports" / "validation" / f"{name.replace('/', '_')}-v{version}.md"
