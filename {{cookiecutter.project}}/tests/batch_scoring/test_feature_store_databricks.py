"""Contract test of the Unity Catalog backend: the calls it makes, checked against the installed client's real signatures.

The backend cannot run here (it needs a Databricks workspace), so a recording client stands
in for `FeatureEngineeringClient` and each recorded call is bound to the real method's
signature from the installed `databricks-feature-engineering` (the `databricks` extra,
installed by `make setup` when the repository has Databricks definitions). A keyword that
only `**kwargs` would swallow counts as wrong: the client ignores or reinterprets those.
What this proves: names and shapes of the calls. What it does not: that a workspace accepts them.
"""

from __future__ import annotations

import inspect
from datetime import timedelta

import mlflow.spark
import pytest
from databricks.feature_engineering import FeatureEngineeringClient, FeatureLookup

from {{ cookiecutter.__package }}.batch_scoring.feature_store import machine_window_features
from {{ cookiecutter.__package }}.batch_scoring.feature_store_databricks import UnityCatalogFeatureStore
from {{ cookiecutter.__package }}.batch_scoring.settings import load_settings


class Recorder:
    """Records every method call as (name, keyword arguments); positional arguments are refused, as the client refuses them."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []

    def __getattr__(self, name):
        def record(*args, **kwargs):
            assert not args, f"{name} called with positional arguments; the client's methods are keyword-only"
            self.calls.append((name, kwargs))
            return f"<{name} result>"

        return record


class Catalog:
    def __init__(self, exists: bool):
        self.exists = exists

    def tableExists(self, name: str) -> bool:  # noqa: N802 (Spark's name)
        return self.exists


class Session:
    def __init__(self, exists: bool):
        self.catalog = Catalog(exists)


def contract_problems(target, kwargs: dict) -> list[str]:
    """Why a call with `kwargs` does not fit `target`'s real signature: unknown names, names only **kwargs takes, missing ones."""
    signature = inspect.signature(target)
    named = {name for name, parameter in signature.parameters.items() if parameter.kind is not inspect.Parameter.VAR_KEYWORD}
    problems = [f"{name}: not a named parameter of {target.__qualname__}" for name in kwargs if name not in named]
    arguments = {"self": None} if "self" in signature.parameters else {}
    try:
        signature.bind(**arguments, **kwargs)
    except TypeError as error:
        problems.append(f"{target.__qualname__}: {error}")
    return problems


@pytest.fixture
def recorded():
    settings = load_settings(size="tiny")
    table = machine_window_features(settings)
    client, lookups = Recorder(), Recorder()
    store = UnityCatalogFeatureStore(client, "main.ml", lookup_class=lambda **kwargs: lookups.__getattr__("FeatureLookup")(**kwargs))
    store.write(Session(exists=False), table, "<frame>")
    store.write(Session(exists=True), table, "<frame>")
    training_set = store.training_set(table, "<labels>", "window_end", "label", max_lookback=timedelta(hours=36))
    store.log_model("<model>", training_set, "main.ml.failure")
    return table, dict(client.calls), dict(lookups.calls)


def test_every_call_fits_the_installed_clients_signature(recorded):
    _, calls, lookups = recorded
    assert set(calls) == {"create_table", "write_table", "create_training_set", "log_model"}
    problems = [
        problem for method, kwargs in calls.items() for problem in contract_problems(getattr(FeatureEngineeringClient, method), kwargs)
    ]
    problems += contract_problems(FeatureLookup.__init__, lookups["FeatureLookup"])
    assert problems == []


def test_the_calls_carry_the_definitions_keys_and_a_point_in_time_lookup(recorded):
    table, calls, lookups = recorded
    created = calls["create_table"]
    assert created["name"] == "main.ml.features"
    assert created["primary_keys"] == ["machine_id", "window_end"]
    # The client's own rule: the timeseries column must be one of the primary keys.
    assert created["timeseries_column"] == table.timestamp_key in created["primary_keys"]
    assert calls["write_table"] == {"name": "main.ml.features", "df": "<frame>", "mode": "merge"}
    lookup = lookups["FeatureLookup"]
    assert lookup["lookup_key"] == ["machine_id"] and lookup["timestamp_lookup_key"] == "window_end"
    assert lookup["feature_names"] == list(table.columns) and "window_start" not in lookup["feature_names"]
    assert calls["create_training_set"]["label"] == "label"
    assert calls["log_model"]["flavor"] is mlflow.spark and calls["log_model"]["training_set"] == "<create_training_set result>"


def test_the_check_rejects_a_name_only_kwargs_would_take():
    """The failing side: `timestamp_keys` is swallowed by **kwargs in this client version, and a typo by nothing."""
    assert contract_problems(FeatureEngineeringClient.create_table, {"name": "a.b.c", "primary_keys": ["k"], "timestamp_keys": ["t"]})
    assert contract_problems(FeatureLookup.__init__, {"table_name": "a.b.c", "lookup_keys": ["k"]})
    assert contract_problems(FeatureEngineeringClient.write_table, {"name": "a.b.c"}), "df is required"
