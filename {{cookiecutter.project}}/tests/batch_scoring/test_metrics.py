from collections import Counter

import pytest

from {{ cookiecutter.__package }}.batch_scoring.metrics import classification_metrics


def test_metrics_from_a_known_confusion_table():
    table = Counter({("none", "none"): 80, ("none", "comp1"): 5, ("comp1", "comp1"): 10, ("comp1", "none"): 5})
    metrics = classification_metrics(table)
    assert metrics["rows"] == 100
    assert metrics["accuracy"] == pytest.approx(0.90)
    assert metrics["failure_recall"] == pytest.approx(10 / 15)
    assert metrics["failure_precision"] == pytest.approx(10 / 15)
    f1_none = 2 * (80 / 85) * (80 / 85) / (80 / 85 + 80 / 85)
    f1_comp1 = 2 * (10 / 15) * (10 / 15) / (10 / 15 + 10 / 15)
    assert metrics["f1_weighted"] == pytest.approx(f1_none * 0.85 + f1_comp1 * 0.15)


def test_recall_is_unknown_without_failures():
    assert classification_metrics(Counter({("none", "none"): 3}))["failure_recall"] is None
