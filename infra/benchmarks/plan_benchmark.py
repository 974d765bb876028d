"""Time the offline plan: per project environment, and for many projects in one process.

Wall time and CPU time are both shown: on a shared machine the wall time includes waiting
for a core, the CPU time is what the plan itself costs.

Why in one process: a fleet check (CI validating every project file) imports the provider
SDKs once and then plans stack after stack, so the per-stack figure is what scales. The
one-off start-up (importing the SDKs, first use of each provider module) is reported
separately.

    infra/.venv/bin/python infra/benchmarks/plan_benchmark.py [--projects 100]
"""

from __future__ import annotations

import argparse
import copy
import gc
import platform
import statistics
import time
from pathlib import Path

import yaml

INFRA = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5, help="plans per environment of the example project")
    arguments = parser.parse_args()

    started = time.perf_counter()
    import dsplatform.infra.program  # noqa: F401  (the provider SDKs: the one-off cost)
    from dsplatform.infra.config import parse_project, resolve_environment
    from dsplatform.infra.plan import run_plan, to_json

    import_seconds = time.perf_counter() - started
    example = yaml.safe_load((INFRA / "projects" / "example.yaml").read_text())
    example["environments"].setdefault("staging", {})

    first_started = time.perf_counter()
    run_plan(resolve_environment(parse_project(copy.deepcopy(example)), "dev"))
    first_seconds = time.perf_counter() - first_started

    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"import of program and provider SDKs: {import_seconds:.2f} s; first plan in the process: {first_seconds:.2f} s")
    print()
    print("per project-env (example project, warm process):")
    for environment in ("dev", "staging", "prod"):
        settings = resolve_environment(parse_project(copy.deepcopy(example)), environment)
        timings, cpu_timings = [], []
        for _ in range(arguments.repeats):
            gc.collect()
            begin, cpu_begin = time.perf_counter(), time.process_time()
            plan = run_plan(settings)
            to_json(plan)
            timings.append(time.perf_counter() - begin)
            cpu_timings.append(time.process_time() - cpu_begin)
        print(
            f"  {settings.stack_name:<16} {len(plan.resources):>4} resources  "
            f"wall median {statistics.median(timings):.3f} s (max {max(timings):.3f})  "
            f"cpu median {statistics.median(cpu_timings):.3f} s"
        )

    print()
    print(f"{arguments.projects} projects x 3 environments (plan + JSON rendering):")
    checkpoints: dict[int, tuple[float, float]] = {}
    begin, cpu_begin = time.perf_counter(), time.process_time()
    stacks = resources = 0
    for index in range(arguments.projects):
        data = copy.deepcopy(example)
        data["project"] = f"project-{index:03d}"
        project = parse_project(data)
        for environment in ("dev", "staging", "prod"):
            plan = run_plan(resolve_environment(project, environment))
            to_json(plan)
            stacks += 1
            resources += len(plan.resources)
        if index + 1 in (10, 25, 50, 100, arguments.projects):
            checkpoints[index + 1] = (time.perf_counter() - begin, time.process_time() - cpu_begin)
            wall, cpu = checkpoints[index + 1]
            print(
                f"  after {index + 1:>3} projects ({(index + 1) * 3:>3} stacks): wall {wall:7.1f} s "
                f"({wall / ((index + 1) * 3):.3f} s/stack)  cpu {cpu:7.1f} s ({cpu / ((index + 1) * 3):.3f} s/stack)"
            )
    total, cpu_total = time.perf_counter() - begin, time.process_time() - cpu_begin
    print(
        f"  total: {stacks} stacks, {resources} resources: wall {total:.1f} s = {total / stacks:.3f} s per stack, "
        f"cpu {cpu_total:.1f} s = {cpu_total / stacks:.3f} s per stack"
    )


if __name__ == "__main__":
    main()
