"""Time the template's inner loop: `cookiecutter --no-input`, then the generated repo's `make test`.

Dependencies are cached after the first run (uv's cache and Spark's Ivy cache), which is
what a developer iterating on the template sees. Run from the repository root with the
root virtualenv:  build/venv/bin/python ci/benchmarks/inner_loop.py [--runs 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    arguments = parser.parse_args()
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    for run in range(1, arguments.runs + 1):
        with tempfile.TemporaryDirectory() as output:
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", output, str(REPO_ROOT)],
                check=True,
                env=env,
                capture_output=True,
            )
            generated = time.perf_counter()
            (project,) = Path(output).iterdir()
            subprocess.run(["make", "setup"], cwd=project, check=True, env=env, capture_output=True)
            set_up = time.perf_counter()
            result = subprocess.run(["make", "test"], cwd=project, env=env, capture_output=True, text=True, check=False)
            done = time.perf_counter()
            summary = [line for line in result.stdout.splitlines() if " passed" in line or " failed" in line]
            print(
                f"run {run}: cookiecutter {generated - started:.1f} s, make setup {set_up - generated:.1f} s, "
                f"make test {done - set_up:.1f} s, total {done - started:.1f} s  ({summary[-1] if summary else 'no summary'})",
                flush=True,
            )


if __name__ == "__main__":
    main()
