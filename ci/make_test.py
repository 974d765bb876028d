"""`make test`: every suite of this repository, arranged so 2 cores stay busy without fighting.

Phase 1 runs three suites together. Each is one Python process at a time (template CI's
subprocesses, the template tests, Pulumi's mocks), so together they fill both cores:

- template CI, shown as it runs;
- the template tests except the generated projects', into build/test-template.log;
- the infra tests, into build/test-infra.log.

Phase 2 runs the generated projects' own `make test` (Spark and MLflow in JVMs and servers of
their own), alone. Started beside the other template tests on a fresh clone, the machine was
busier (88 % against 73 %) and the whole run no shorter: the same results cost a fifth more
CPU time, most likely because a JVM whose background JIT compiler has no free core runs its
code interpreted for longer.

Each logged suite prints its summary line when it ends, or the end of its log when it fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LOGS = REPO_ROOT / "build"
GENERATED_PROJECT_TESTS = "tests/test_generated_project.py"
FAILURE_TAIL_LINES = 80


@dataclass
class Suite:
    name: str
    command: Sequence[str]
    log: Path | None = None
    process: subprocess.Popen | None = None
    started: float = 0.0

    def start(self) -> None:
        output = self.log.open("w", encoding="utf-8") if self.log else None
        # A session of its own, so an interrupt stops the whole tree (make, pytest, their children).
        self.process = subprocess.Popen(
            self.command, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT if output else None, start_new_session=True
        )
        self.started = time.monotonic()

    def wait(self) -> int:
        assert self.process is not None
        return self.report(self.process.wait())

    def report(self, code: int) -> int:
        """What a person needs from a logged suite: its summary line, or the end of its log."""
        seconds = time.monotonic() - self.started
        if self.log is not None:
            lines = self.log.read_text(encoding="utf-8", errors="replace").rstrip().splitlines()
            shown = [line for line in lines if " passed" in line or " failed" in line][-1:] if code == 0 else lines[-FAILURE_TAIL_LINES:]
            verdict = "passed" if code == 0 else f"FAILED (exit {code})"
            print(f"\n== {self.name}: {verdict} in {seconds:.0f} s; full output: {self.log.relative_to(REPO_ROOT)} ==")
            print("\n".join(shown), flush=True)
        return code

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)


def suites(python: str, make: str) -> tuple[list[Suite], Suite]:
    phase_one = [
        Suite("Template CI", [python, "-m", "ci.template_ci"]),
        Suite("Template tests", [python, "-m", "pytest", "tests", f"--ignore={GENERATED_PROJECT_TESTS}"], LOGS / "test-template.log"),
        Suite("Infra tests", [make, "--no-print-directory", "test-infra"], LOGS / "test-infra.log"),
    ]
    return phase_one, Suite("Generated projects' own make test", [python, "-m", "pytest", GENERATED_PROJECT_TESTS])


def wait_all(running: Sequence[Suite], poll_seconds: float = 0.5) -> list[int]:
    """Each suite's exit code; each is reported as soon as it ends, so its time is its own."""
    codes: dict[int, int] = {}
    while True:
        for index, suite in enumerate(running):
            if index not in codes and suite.process is not None and (code := suite.process.poll()) is not None:
                codes[index] = suite.report(code)
        if len(codes) == len(running):
            return [codes[index] for index in range(len(running))]
        time.sleep(poll_seconds)


def main(argv: list[str] | None = None) -> int:
    del argv
    LOGS.mkdir(exist_ok=True)
    phase_one, phase_two = suites(sys.executable, os.environ.get("MAKE", "make"))
    started = time.monotonic()
    try:
        for suite in phase_one:
            suite.start()
        print(
            "Template tests and infra tests run alongside template CI; their logs: build/test-template.log, build/test-infra.log",
            flush=True,
        )
        codes = wait_all(phase_one)
        print("\n== Generated projects' own make test (about 10 minutes on 2 cores) ==", flush=True)
        phase_two.start()
        codes.append(phase_two.wait())
    except KeyboardInterrupt:
        for suite in (*phase_one, phase_two):
            suite.stop()
        return 130
    failed = [suite.name for suite, code in zip((*phase_one, phase_two), codes, strict=True) if code != 0]
    total = time.monotonic() - started
    print(f"\nmake test: {'all suites passed' if not failed else 'FAILED: ' + ', '.join(failed)} ({total:.0f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
