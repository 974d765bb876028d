"""`python -m {{ cookiecutter.__package }}` reaches exactly the samples this project has, and nothing else."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import {{ cookiecutter.__package }}
from {{ cookiecutter.__package }}.core.cli import EXIT_INVALID_INPUT, main, samples

PACKAGE_DIR = Path({{ cookiecutter.__package }}.__file__).parent


def sample_folders() -> set[str]:
    return {folder.name for folder in PACKAGE_DIR.iterdir() if (folder / "cli.py").is_file() and folder.name != "core"}


def test_the_samples_found_are_the_sample_folders_present():
    assert sample_folders(), "a project has at least one sample"
    assert set(samples()) == {name.replace("_", "-") for name in sample_folders()}


def test_each_sample_is_reached_through_the_package_entry_point(capsys):
    for name, module in samples().items():
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0
        assert f"python -m {module} " in capsys.readouterr().out, name


def test_a_sample_that_is_not_there_is_one_line_naming_the_ones_that_are(capsys):
    assert main(["forecasting", "train"]) == EXIT_INVALID_INPUT
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "'forecasting' is not a sample of this project" in error
    assert all(name in error for name in samples())


def test_no_arguments_prints_the_samples_and_fails(capsys):
    assert main([]) == EXIT_INVALID_INPUT
    printed = capsys.readouterr().out
    assert all(f"python -m {module} --help" in printed for module in samples().values())


def test_python_dash_m_runs_the_dispatcher():
    command = [sys.executable, "-m", "{{ cookiecutter.__package }}", "--help"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0 and "<sample> <step>" in result.stdout, result.stderr


def test_the_jvm_start_filter_drops_only_the_start_noise(capfd):
    """The driver JVM's standard error passes through, except the line every start prints."""
    import time

    from {{ cookiecutter.__package }}.core.spark import _jvm_stderr_without_start_noise

    script = "echo 'WARNING: Using incubator modules: jdk.incubator.vector' >&2; echo 'ERROR a real problem' >&2"
    with _jvm_stderr_without_start_noise():
        subprocess.run(["sh", "-c", script], check=True)
    shown = ""
    deadline = time.monotonic() + 10
    while "a real problem" not in shown and time.monotonic() < deadline:
        time.sleep(0.05)
        shown += capfd.readouterr().err
    assert "ERROR a real problem" in shown and "incubator" not in shown, shown
    subprocess.run(["sh", "-c", "echo 'WARNING: Using incubator modules: after' >&2"], check=True)
    assert "incubator modules: after" in capfd.readouterr().err, "outside a start, standard error is untouched"
