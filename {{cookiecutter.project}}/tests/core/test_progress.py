"""Long steps are never silent: plain lines for logs, a live spinner on a terminal."""

from __future__ import annotations

import io
import time

from {{ cookiecutter.__package }}.core import progress
from {{ cookiecutter.__package }}.core.progress import StepTimer


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_a_start_line_periodic_lines_with_spark_progress_and_the_duration(monkeypatch, capsys):
    monkeypatch.setattr(progress, "PLAIN_INTERVAL_SECONDS", 0.05)
    log = io.StringIO()
    timer = StepTimer(stream=log, status=lambda: "stage 3: 5/8 tasks")

    assert timer.run("train", lambda: time.sleep(0.3) or 42) == 42

    lines = log.getvalue().splitlines()
    assert lines[0] == "[train] started"
    assert any(line.startswith("[train] running, ") and line.endswith(", stage 3: 5/8 tasks") for line in lines[1:])
    assert capsys.readouterr().out.startswith("[train] done in 0.")
    assert 0.3 <= timer.seconds["train"] < 5
    assert timer.line().startswith("Step times: train 0.")


def test_a_terminal_gets_a_live_line_that_is_cleared_when_the_step_ends(monkeypatch, capsys):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setattr(progress, "REFRESH_SECONDS", 0.05)
    terminal = _Terminal()
    StepTimer(stream=terminal, status=lambda: "stage 1: 1/2 tasks").run("score", lambda: time.sleep(0.3))
    shown = terminal.getvalue()
    assert "[score] running" in shown and "stage 1: 1/2 tasks" in shown
    assert "[score] started" not in shown
    assert capsys.readouterr().out.startswith("[score] done in ")


def test_a_failing_step_stops_its_progress_and_raises(monkeypatch):
    monkeypatch.setattr(progress, "PLAIN_INTERVAL_SECONDS", 0.05)
    log = io.StringIO()

    def broken() -> None:
        raise ValueError("bad row")

    try:
        StepTimer(stream=log, status=lambda: "").run("ingest", broken)
    except ValueError as error:
        assert str(error) == "bad row"
    else:
        raise AssertionError("the step's error must reach the caller")
    size = len(log.getvalue())
    time.sleep(0.2)
    assert len(log.getvalue()) == size, "no progress lines after the step ended"


def test_spark_task_progress_reaches_the_log_from_the_progress_thread(spark, monkeypatch):
    monkeypatch.setattr(progress, "PLAIN_INTERVAL_SECONDS", 0.3)
    log = io.StringIO()

    def slow_tasks() -> None:
        spark.sparkContext.parallelize(range(2), 2).foreach(lambda _: time.sleep(1.0))

    StepTimer(stream=log).run("score", slow_tasks)
    assert any(line.startswith("[score] running, ") and "tasks" in line for line in log.getvalue().splitlines()), log.getvalue()
