from datetime import datetime

import pytest

from {{ cookiecutter.__package }}.batch_scoring.settings import DEFAULT_CONFIG, DateRange, SettingsError, load_settings


def test_packaged_settings_load_and_split_ranges_in_order():
    settings = load_settings(size="small")
    ranges = settings.ranges()
    assert ranges["train"].start == ranges["data"].start
    assert ranges["train"].end == ranges["holdout"].start
    assert ranges["holdout"].end == ranges["score"].start
    assert ranges["score"].end == ranges["data"].end
    assert ranges["ingest"].start < ranges["data"].start


def test_reference_size_is_the_public_reference_scale():
    spec = load_settings(size="reference").size_spec
    hours = (spec.end - spec.start).total_seconds() / 3600
    assert spec.machines * hours == 8_761_000


def test_unknown_size_names_the_choices():
    with pytest.raises(SettingsError, match="size: 'huge' is not defined; use one of: tiny, small, reference"):
        load_settings(size="huge")


def test_invalid_field_is_named(tmp_path):
    text = DEFAULT_CONFIG.read_text().replace("min_f1_weighted: 0.80", "min_f1_weighted: high")
    bad = tmp_path / "bad.yml"
    bad.write_text(text)
    with pytest.raises(SettingsError, match=r"validation\.min_f1_weighted"):
        load_settings(bad)


def test_unknown_field_is_refused(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(DEFAULT_CONFIG.read_text().replace("promotion: auto", "promotion: auto\n  promotoin: manual"))
    with pytest.raises(SettingsError, match=r"validation\.promotoin: Extra inputs are not permitted"):
        load_settings(bad)


def test_missing_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.yml")


def test_date_range_must_move_forward():
    with pytest.raises(SettingsError, match="must be after start"):
        DateRange(datetime(2015, 2, 1), datetime(2015, 1, 1))
    with pytest.raises(SettingsError, match="start: '2015-13-01' is not a date"):
        DateRange.parse("2015-13-01", "2015-14-01")


def test_environment_overrides_the_data_root(monkeypatch):
    monkeypatch.setenv("DATA_ROOT", "abfss://lake@account.dfs.core.windows.net/project/")
    assert load_settings().data_root == "abfss://lake@account.dfs.core.windows.net/project"
