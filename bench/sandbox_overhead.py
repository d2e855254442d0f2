"""Per-evaluation overhead of running a program: in-process exec vs fresh process vs sandbox.

Run:  PYTHONPATH=src python bench/sandbox_overhead.py [--n 500] [--no-write]

Prints a markdown table and replaces the "Sandbox overhead" section of BENCHMARKS.md
(between the sandbox_overhead markers; the rest of the file is left alone). The whole run
is pinned to one CPU so that "evaluations per second" means "on one core".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time

from selftaught.sandbox import SandboxConfig, SandboxPool
from report import write_section
from selftaught.tasks.loader import load_task

TRIVIAL = "def f(x):\n    return x + 1\n"
NUMPY = "import numpy as np\n\ndef f(x):\n    return float(np.arange(x).sum())\n"
FRESH_RUNNER = (
    "import json, sys\n"
    "job = json.load(sys.stdin)\n"
    "namespace = {}\n"
    "exec(compile(job['program'], '<candidate>', 'exec'), namespace)\n"
    "print(json.dumps(namespace[job['entry']](*job['args'])))\n"
)


def in_process(n: int) -> list[float]:
    """The unsafe floor: compile and exec the text in this process, call it."""
    times = []
    for i in range(n):
        start = time.perf_counter()
        namespace: dict = {}
        exec(compile(TRIVIAL, "<candidate>", "exec"), namespace)
        assert namespace["f"](i) == i + 1
        times.append(time.perf_counter() - start)
    return times


def fresh_process(n: int, python: str) -> list[float]:
    """One new interpreter per program (no isolation), talking JSON over stdin/stdout."""
    times = []
    for i in range(n):
        start = time.perf_counter()
        job = json.dumps({"program": TRIVIAL, "entry": "f", "args": [i]})
        done = subprocess.run([python, "-I", "-S", "-c", FRESH_RUNNER], input=job, capture_output=True,
                              text=True, check=True)
        assert json.loads(done.stdout) == i + 1
        times.append(time.perf_counter() - start)
    return times


def sandboxed(pool: SandboxPool, program: str, n: int, args=None, cpu: list | None = None) -> list[float]:
    """Full round trip as a caller sees it (send, run, result, child reaped); `cpu` collects
    the CPU time charged to each call (what time limits and speed terms see)."""
    times = []
    for i in range(n):
        start = time.perf_counter()
        outcome = pool.call(program, "f" if args is None else "algorithm", [i] if args is None else args)
        times.append(time.perf_counter() - start)
        assert outcome.ok, outcome
        if cpu is not None:
            cpu.append(outcome.cpu_time_s)
    return times


def row(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    median = statistics.median(ordered)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    rate = len(times) / sum(times)
    return f"| {name} | {median * 1e3:.2f} | {p90 * 1e3:.2f} | {rate:.0f} | {len(times)} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="evaluations per setup (fresh process: n/5)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    options = parser.parse_args()
    load_before = os.getloadavg()[0]
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # children inherit: one core
    config = SandboxConfig(slots=1)
    rows = [row("in-process exec (unsafe floor)", in_process(options.n)),
            row("fresh process per program (no isolation)", fresh_process(max(options.n // 5, 20), config.python))]
    task = load_task("parity")
    parity_args = task.arguments(task.make_instance(4321))
    with SandboxPool(config) as pool:
        sandboxed(pool, TRIVIAL, 50)  # warm up
        charged: list[float] = []
        rows.append(row("sandbox: bwrap + seccomp fork-server, trivial program",
                        sandboxed(pool, TRIVIAL, options.n, cpu=charged)))
        rows.append(row("sandbox: numpy-importing program (warm)", sandboxed(pool, NUMPY, options.n // 2)))
        seed_times = sandboxed(pool, task.seed_program, options.n // 2, parity_args)
        rows.append(row("sandbox: parity seed program, one instance", seed_times))
    start = time.perf_counter()
    with SandboxPool(SandboxConfig(slots=1)) as pool:
        started = time.perf_counter()
        outcome = pool.call(TRIVIAL, "f", [1])
        first = time.perf_counter() - started
    startup = started - start
    assert outcome.ok
    table = "\n".join([
        "| setup | median ms | p90 ms | evals/s (1 core) | n |",
        "|---|---|---|---|---|",
        *rows,
    ])
    section = (
        "Pinned to one core. "
        f"1-minute load average when the run started: {load_before:.2f} (other work on the machine\n"
        "adds noise to every row).\n"
        "Latency is the full round trip seen by the caller of `SandboxPool.call` (send program and\n"
        "arguments, run, receive and type-check the result, child reaped). Targets (issue 3):\n"
        "median < 5 ms, >= 150 evals/s on one core, numpy program < 10 ms warm.\n\n"
        f"{table}\n\n"
        f"CPU time charged to the trivial program's call (what time limits and speed terms see;\n"
        f"the round trip is not part of it): median {statistics.median(charged) * 1e3:.2f} ms.\n\n"
        f"Starting a one-slot pool (bwrap + interpreter + preloading numpy): {startup * 1e3:.0f} ms;\n"
        f"the first call after it: {first * 1e3:.1f} ms. A fork-server is recycled every\n"
        f"{config.recycle_after} programs by default, so start-up is amortised.\n"
    )
    print(section)
    if not options.no_write:
        write_section("sandbox_overhead", "Sandbox overhead", section)


if __name__ == "__main__":
    main()
