"""`make test`'s orchestration (ci/make_test.py): a logged suite shows its summary when it passes
and the end of its log when it fails, and the arrangement keeps the generated projects apart."""

from __future__ import annotations

import re
import sys

from ci import make_test


def run_suite(tmp_path, capsys, code: str) -> tuple[int, str]:
    """Run one logged suite (the log is named relative to REPO_ROOT, which the tests point at tmp_path)."""
    suite = make_test.Suite("Fake suite", [sys.executable, "-c", code], tmp_path / "fake.log")
    suite.start()
    status = suite.wait()
    return status, capsys.readouterr().out


def test_a_passing_suite_shows_only_its_summary_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(make_test, "REPO_ROOT", tmp_path)
    status, shown = run_suite(tmp_path, capsys, "print('.' * 40); print('3 passed in 0.1s')")
    assert status == 0
    assert "== Fake suite: passed in" in shown and "full output: fake.log" in shown
    assert "3 passed in 0.1s" in shown and "....." not in shown


def test_a_failing_suite_shows_the_end_of_its_log(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(make_test, "REPO_ROOT", tmp_path)
    status, shown = run_suite(tmp_path, capsys, "import sys; print('\\n'.join(f'line {n}' for n in range(200))); sys.exit(3)")
    assert status == 3
    assert "FAILED (exit 3)" in shown
    assert "line 199" in shown and "line 120" in shown and "line 119\n" not in shown


def test_the_generated_projects_run_alone_after_every_other_suite():
    phase_one, phase_two = make_test.suites("python", "make")
    assert all(
        make_test.GENERATED_PROJECT_TESTS not in " ".join(suite.command) or "--ignore" in " ".join(suite.command) for suite in phase_one
    )
    assert phase_two.command[-1] == make_test.GENERATED_PROJECT_TESTS
    assert {suite.name for suite in phase_one} == {"Template CI", "Template tests", "Infra tests"}


def test_suites_are_reported_as_each_ends_with_their_own_time(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(make_test, "REPO_ROOT", tmp_path)
    slow = make_test.Suite("Slow", [sys.executable, "-c", "import time; time.sleep(2); print('1 passed')"], tmp_path / "slow.log")
    quick = make_test.Suite("Quick", [sys.executable, "-c", "print('2 passed')"], tmp_path / "quick.log")
    for suite in (slow, quick):
        suite.start()
    assert make_test.wait_all([slow, quick], poll_seconds=0.05) == [0, 0]
    shown = capsys.readouterr().out
    assert shown.index("== Quick: passed in") < shown.index("== Slow: passed in")
    quick_seconds, slow_seconds = (int(re.search(rf"== {name}: passed in (\d+) s", shown).group(1)) for name in ("Quick", "Slow"))
    assert quick_seconds <= slow_seconds and slow_seconds >= 2
