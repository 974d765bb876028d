"""Bundle lookup, registration tags, the pyfunc, per-series promotion and the accelerator's way: no Spark needed."""

from __future__ import annotations

import pickle

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from {{ cookiecutter.__package }}.core.tracking import CHALLENGER, CHAMPION
from {{ cookiecutter.__package }}.many_models.bundle import BundleReader, UnknownSeries
from {{ cookiecutter.__package }}.many_models.features import feature_names
from {{ cookiecutter.__package }}.many_models.promote import FLAGGED, PromotionRefused, promote
from {{ cookiecutter.__package }}.many_models.register import bundle_folder, find_per_series, register_per_series
from {{ cookiecutter.__package }}.many_models.train import TRAINED


def test_every_tiny_series_is_trained_with_its_metrics(tiny_fits, settings):
    assert len(tiny_fits) == settings.series_count == 36
    assert (tiny_fits["status"] == TRAINED).all()
    assert np.allclose(tiny_fits["accuracy"], 1 - tiny_fits["mape"])
    assert (tiny_fits["rmse"] > 0).all() and tiny_fits["accuracy"].between(0.5, 1).all()
    assert (tiny_fits["holdout_weeks"] == settings.config.training.holdout_weeks).all()


def test_bundle_finds_each_series_model_by_key(tiny_fits, settings, tmp_path, build_bundle, log_bundle):
    reader = BundleReader(build_bundle(tmp_path / "bundle", settings, tiny_fits))
    row = tiny_fits.iloc[7]
    key = (int(row.Store), row.Brand)
    assert reader.model_bytes(key) == row.model
    features = np.ones((1, len(feature_names(4))))
    assert reader.load_model(key).predict(features)[0] == pytest.approx(pickle.loads(row.model).predict(features)[0])
    with pytest.raises(UnknownSeries, match="no model for Store 999"):
        reader.model_bytes((999, "dominicks"))


def test_one_version_bundles_every_series_with_tags_and_serves_as_pyfunc(tiny_fits, settings, tmp_path, build_bundle, log_bundle):
    version = log_bundle(settings, build_bundle(tmp_path / "bundle", settings, tiny_fits))
    assert version.tags["partition_columns"] == "Store,Brand"
    assert version.tags["series_count"] == "36"
    assert (version.tags["data_start"], version.tags["data_end"]) == (str(settings.weeks()[0]), str(settings.weeks()[-1]))
    assert MlflowClient().get_model_version_by_alias(settings.model_name, CHALLENGER).version == version.version

    model = mlflow.pyfunc.load_model(f"models:/{settings.model_name}/{version.version}")
    rows = pd.DataFrame(
        {
            "Store": [1, 2],
            "Brand": ["tropicana", "dominicks"],
            "WeekStarting": pd.to_datetime(["1991-01-03", "1991-01-10"]),
            "Price": [2.5, 1.8],
            "Advert": [1, 0],
            **{f"lag_{lag}": [9000.0, 11000.0] for lag in range(1, 5)},
        }  # fmt: skip
    )
    predicted = model.predict(rows)
    reader = BundleReader(bundle_folder(f"models:/{settings.model_name}/{version.version}"))
    assert reader.metadata["lags"] == 4
    assert predicted["prediction"].notna().all() and (predicted["series_status"] == TRAINED).all()
    assert predicted["prediction"].iloc[0] != predicted["prediction"].iloc[1], "rows dispatch to their own series' model"


def test_promotion_falls_back_to_the_champion_for_failing_series(tiny_fits, settings, tmp_path, build_bundle, log_bundle):
    # Two of 36 series regress here; allow that share so the fallback, not a refusal, is what is tested.
    settings = settings.with_config(promotion=settings.config.promotion.model_copy(update={"max_regressed_fraction": 0.1}))
    first = log_bundle(settings, build_bundle(tmp_path / "v1", settings, tiny_fits))
    assert promote(settings).champion_version == first.version
    failing = {(1, "dominicks"): 0.55, (2, "tropicana"): 0.60}
    second = log_bundle(settings, build_bundle(tmp_path / "v2", settings, tiny_fits, accuracy_override=failing))

    report = promote(settings)
    assert report.promoted and report.passing == 34 and report.regressed == 2 and report.count("fallback") == 2
    champion = MlflowClient().get_model_version_by_alias(settings.model_name, CHAMPION)
    assert champion.version not in (first.version, second.version), "a composite version becomes champion"
    assert champion.tags["composed_from"] == f"{second.version}+{first.version}"
    reader = BundleReader(bundle_folder(f"models:/{settings.model_name}@{CHAMPION}"))
    assert reader.entry((1, "dominicks")).status == f"fallback:v{first.version}"
    assert reader.entry((3, "dominicks")).status == "passed"


def test_promotion_can_flag_failing_series_instead(tiny_fits, settings, tmp_path, build_bundle, log_bundle):
    flagging = settings.with_config(promotion=settings.config.promotion.model_copy(update={"failing_series": "flag"}))
    log_bundle(flagging, build_bundle(tmp_path / "v1", flagging, tiny_fits, accuracy_override={(5, "minute.maid"): 0.4}))
    report = promote(flagging)
    assert report.statuses[(5, "minute.maid")] == FLAGGED and report.count(FLAGGED) == 1
    reader = BundleReader(bundle_folder(f"models:/{flagging.model_name}@{CHAMPION}"))
    assert reader.entry((5, "minute.maid")).status == FLAGGED


def test_promotion_is_refused_when_too_few_series_pass(tiny_fits, settings, tmp_path, build_bundle, log_bundle):
    poor = {(int(row.Store), row.Brand): 0.5 for row in tiny_fits.head(10).itertuples()}
    version = log_bundle(settings, build_bundle(tmp_path / "v1", settings, tiny_fits, accuracy_override=poor))
    with pytest.raises(PromotionRefused, match="72.2 percent of series pass"):
        promote(settings)
    client = MlflowClient()
    assert client.get_model_version(settings.model_name, version.version).tags["promotion"].startswith("refused")
    with pytest.raises(mlflow.exceptions.MlflowException):
        client.get_model_version_by_alias(settings.model_name, CHAMPION)


def test_the_accelerators_one_model_per_series_way_finds_the_same_model(tiny_fits, settings):
    models = {(int(row.Store), row.Brand): row.model for row in tiny_fits.head(3).itertuples()}
    with mlflow.start_run() as run:
        assert register_per_series(settings.model_name, models, run.info.run_id) == 3
    key = next(iter(models))
    found = find_per_series(settings.model_name, key)
    features = np.ones((1, len(feature_names(4))))
    assert found.predict(features)[0] == pytest.approx(pickle.loads(models[key]).predict(features)[0])
    with pytest.raises(LookupError):
        find_per_series(settings.model_name, (999, "dominicks"))


def test_the_experiment_opens_on_model_training_in_the_mlflow_ui(settings):
    import mlflow

    from {{ cookiecutter.__package }}.core.tracking import EXPERIMENT_KIND, EXPERIMENT_KIND_TAG

    experiment = mlflow.get_experiment_by_name(settings.config.tracking.experiment)
    assert experiment.tags[EXPERIMENT_KIND_TAG] == EXPERIMENT_KIND == "custom_model_development"
