"""The entry point that jobs call: clear messages and exit codes, never a traceback."""

import pytest

from {{ cookiecutter.__package }}.batch_scoring.cli import main
from {{ cookiecutter.__package }}.core.cli import EXIT_INVALID_INPUT


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["ingest", "--size", "huge"], "size: 'huge' is not defined"),
        (["score", "--size", "tiny", "--start", "2015-13-01"], "start: '2015-13-01' is not a date"),
        (["score", "--size", "tiny", "--start", "2015-03-01", "--end", "2015-02-01"], "must be after start"),
        (["ingest", "--size", "tiny", "--start", "2015-01-01T06:00", "--end", "2015-01-02"], "ingest works on whole days"),
        (["features", "--size", "tiny"], "table 'telemetry' does not exist"),
        (["refresh-features", "--size", "tiny", "--end", "2015-02-01"], "table 'telemetry' does not exist"),
        (["validate", "--size", "tiny", "--version", "7"], "has no version '7'"),
        (["promote", "--size", "tiny", "--version", "7"], "has no version '7'"),
        (["ingest", "--size", "tiny", "--config", "missing.yml"], "does not exist"),
        (["monitor", "--size", "tiny"], "has no 'champion' version"),
        (["generate", "--size", "tiny", "--drift-magnitude", "1"], "--drift-magnitude needs --drift-from"),
        (["generate", "--size", "tiny", "--drift-from", "2015-02-01", "--drift-magnitude", "40"], "outside -10..10"),
    ],
)
def test_bad_input_exits_with_a_message(spark, fresh_settings, monkeypatch, capsys, arguments, message):
    monkeypatch.setenv("DATA_ROOT", fresh_settings.data_root)
    monkeypatch.setenv("PIPELINE_STATE_DIR", str(fresh_settings.state_dir))
    assert main(arguments) == EXIT_INVALID_INPUT
    error = capsys.readouterr().err
    assert message in error
    assert "Traceback" not in error


def test_unknown_step_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["deploy"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'deploy'" in capsys.readouterr().err
