"""Classification metrics from one confusion table, computed once per model and holdout.

Why not Spark's evaluators: each evaluator is another pass over the data, and the
failure-specific metrics we promote on (recall of real failures) are not among them.
"""

from __future__ import annotations

from collections import Counter

from pyspark.sql import DataFrame

from .features import NO_FAILURE


def confusion(predictions: DataFrame, label: str = "label", predicted: str = "predicted_component") -> Counter:
    rows = predictions.groupBy(label, predicted).count().collect()
    return Counter({(row[label], row[predicted]): int(row["count"]) for row in rows})


def classification_metrics(table: Counter) -> dict[str, float | None]:
    total = sum(table.values())
    if total == 0:
        return {"rows": 0.0}
    classes = sorted({actual for actual, _ in table} | {predicted for _, predicted in table})
    support = {name: sum(count for (actual, _), count in table.items() if actual == name) for name in classes}
    f1_weighted = 0.0
    for name in classes:
        true_positive = table.get((name, name), 0)
        predicted_total = sum(count for (_, predicted), count in table.items() if predicted == name)
        precision = true_positive / predicted_total if predicted_total else 0.0
        recall = true_positive / support[name] if support[name] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1_weighted += f1 * support[name] / total
    failures = sum(count for (actual, _), count in table.items() if actual != NO_FAILURE)
    caught = sum(count for (actual, predicted), count in table.items() if actual != NO_FAILURE and actual == predicted)
    alarms = sum(count for (_, predicted), count in table.items() if predicted != NO_FAILURE)
    true_alarms = sum(count for (actual, predicted), count in table.items() if predicted != NO_FAILURE and actual == predicted)
    return {
        "rows": float(total),
        "accuracy": sum(count for (actual, predicted), count in table.items() if actual == predicted) / total,
        "f1_weighted": f1_weighted,
        # Share of windows before a real failure where the failing component was named.
        # None, not a made-up number, when the data holds no failure to catch.
        "failure_recall": caught / failures if failures else None,
        "failure_precision": true_alarms / alarms if alarms else None,
        "failure_windows": float(failures),
    }
