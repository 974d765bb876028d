"""Drift statistics and the retraining rule: plain Python over counts, so they import and test without Spark."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Floor for an empty bin's share: PSI and the log are undefined at zero (evidently uses the same).
EMPTY_SHARE = 1e-4


def _shares(counts: Sequence[float]) -> list[float]:
    total = float(sum(counts))
    return [max(count / total, EMPTY_SHARE) if total else EMPTY_SHARE for count in counts]


def population_stability_index(reference: Sequence[float], current: Sequence[float]) -> float:
    """PSI = sum((current - reference) * ln(current / reference)) over the same bins' shares."""
    if len(reference) != len(current):
        raise ValueError("reference and current counts must cover the same bins")
    return sum((c - r) * math.log(c / r) for r, c in zip(_shares(reference), _shares(current), strict=True))


def jensen_shannon_distance(reference: Mapping[str, float], current: Mapping[str, float]) -> float:
    """Square root of the Jensen-Shannon divergence in bits: 0 for equal shares, 1 for disjoint ones."""
    categories = sorted(set(reference) | set(current))
    reference_total, current_total = float(sum(reference.values())), float(sum(current.values()))
    if not reference_total or not current_total:
        return 0.0 if reference_total == current_total else 1.0
    divergence = 0.0
    for category in categories:
        p = reference.get(category, 0) / reference_total
        q = current.get(category, 0) / current_total
        m = (p + q) / 2
        divergence += 0.5 * (p * math.log2(p / m) if p else 0.0) + 0.5 * (q * math.log2(q / m) if q else 0.0)
    return math.sqrt(max(divergence, 0.0))


@dataclass(frozen=True)
class RetrainingDecision:
    retrain: bool
    breached_windows: int
    windows_considered: int
    latest_breached: bool
    reason: str


def should_retrain(breaches: Sequence[bool], min_breached_windows: int, last_windows: int) -> RetrainingDecision:
    """Fire when at least k of the last n windows breached, the latest among them.

    `breaches` is ordered oldest first. Requiring the latest window avoids retraining on
    an episode that has already passed; requiring k of n avoids retraining on one noisy window.
    """
    recent = list(breaches)[-last_windows:]
    breached = sum(bool(flag) for flag in recent)
    latest = bool(recent and recent[-1])
    retrain = latest and breached >= min_breached_windows
    if retrain:
        reason = f"retrain: {breached} of the last {len(recent)} windows breached, the latest included (rule: {min_breached_windows} of {last_windows})"
    elif not latest:
        reason = f"no retraining: the latest window did not breach ({breached} of the last {len(recent)} did)"
    else:
        reason = f"no retraining yet: {breached} of the last {len(recent)} windows breached, the rule needs {min_breached_windows} of {last_windows}"
    return RetrainingDecision(retrain, breached, len(recent), latest, reason)


def plain_shares(counts: Sequence[int]) -> list[float]:
    """Each count's share of the total, unfloored: what the report plots."""
    total = sum(counts)
    return [count / total if total else 0.0 for count in counts]
