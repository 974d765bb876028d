"""Live progress for the pipeline's steps, so a long step is never silent.

Why: a step printed only when it ended, and `train` could run for minutes with no sign of
life. While a step runs, a person at a terminal sees a spinner with the step, the elapsed
time and Spark's task progress (from the status tracker, which costs nothing); a CI log,
which is not a terminal, gets a plain line when the step starts, one every
`PLAIN_INTERVAL_SECONDS` while it runs, and one when it ends, instead of escape codes.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

T = TypeVar("T")
PLAIN_INTERVAL_SECONDS = 30.0
REFRESH_SECONDS = 0.5


def spark_tasks() -> str:
    """'stage 12: 6/8 tasks' for the active Spark stages, or '' when none run (or no Spark)."""
    try:
        from pyspark import SparkContext

        # The process's context, not SparkSession.getActiveSession(): the active session is
        # per thread, and this runs on the progress thread, where it is always None.
        context = SparkContext._active_spark_context
        if context is None:
            return ""
        tracker = context.statusTracker()
        stages = [info for info in (tracker.getStageInfo(stage) for stage in tracker.getActiveStageIds()) if info]
    except Exception:  # noqa: BLE001 - progress must never fail the step it reports on
        return ""
    if not stages:
        return ""
    done = sum(stage.numCompletedTasks for stage in stages)
    total = sum(stage.numTasks for stage in stages)
    label = f"stage {stages[0].stageId}" if len(stages) == 1 else f"{len(stages)} stages"
    return f"{label}: {done}/{total} tasks"


def interactive(stream=None) -> bool:
    stream = stream or sys.stderr
    return stream.isatty() and os.environ.get("TERM") != "dumb" and not os.environ.get("CI")


@dataclass
class StepTimer:
    """Runs named steps with live progress and keeps each one's duration for the summary."""

    seconds: dict[str, float] = field(default_factory=dict)
    stream: object = None
    status: Callable[[], str] = spark_tasks

    def run(self, name: str, step: Callable[[], T]) -> T:
        stream = self.stream or sys.stderr
        started = time.perf_counter()

        def detail() -> str:
            elapsed = time.perf_counter() - started
            progress = self.status()
            return f"[{name}] running, {elapsed:.0f} s" + (f", {progress}" if progress else "")

        if interactive(stream):
            spinner = Spinner("dots", text=Text(detail()))  # Text: "[train]" is not markup
            display = Live(spinner, console=Console(file=stream), refresh_per_second=1 / REFRESH_SECONDS, transient=True)
            interval, tick = REFRESH_SECONDS, lambda: spinner.update(text=Text(detail()))
        else:
            print(f"[{name}] started", file=stream, flush=True)
            display = contextlib.nullcontext()
            interval, tick = PLAIN_INTERVAL_SECONDS, lambda: print(detail(), file=stream, flush=True)
        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(interval):
                tick()

        with display:
            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            try:
                result = step()
            finally:
                stop.set()
                watcher.join()
        self.seconds[name] = time.perf_counter() - started
        print(f"[{name}] done in {self.seconds[name]:.1f} s", flush=True)
        return result

    def line(self) -> str:
        return "Step times: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.seconds.items())
