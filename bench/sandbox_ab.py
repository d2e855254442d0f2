"""A/B of the sandbox's per-call overhead between two source trees (before/after a change).

Run:  python bench/sandbox_ab.py --before /path/to/old/src [--after src] [--rounds 5] [--n 200]

Each round runs both trees once, alternately, in fresh processes pinned to the same core: n
calls of a trivial program in a one-slot pool (after 20 warm-up calls), median per call. On a
shared, noisy machine the per-round ratio after/before is what to read, not absolute times.
Writes the "Sandbox overhead, A/B" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

from report import write_section

MEASURE = """
import statistics, sys, time
from selftaught.sandbox import SandboxConfig, SandboxPool
TRIVIAL = "def f(x):\\n    return x + 1\\n"
with SandboxPool(SandboxConfig(slots=1)) as pool:
    for i in range(20):
        pool.call(TRIVIAL, "f", [i])
    times = []
    for i in range(int(sys.argv[1])):
        started = time.perf_counter()
        outcome = pool.call(TRIVIAL, "f", [i])
        times.append(time.perf_counter() - started)
        assert outcome.value == i + 1, outcome
print(statistics.median(times) * 1000)
"""


def median_ms(src: Path, n: int, core: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(src.resolve())}
    out = subprocess.run(["taskset", "-c", str(core), sys.executable, "-c", MEASURE, str(n)], env=env,
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the old tree's src directory")
    parser.add_argument("--after", type=Path, default=Path(__file__).resolve().parent.parent / "src")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n", type=int, default=200, help="calls per tree per round")
    parser.add_argument("--label", default="", help="what the two trees are, for the section")
    parser.add_argument("--no-write", action="store_true")
    options = parser.parse_args()
    core = max(os.sched_getaffinity(0))
    load_before = os.getloadavg()
    rows, ratios = [], []
    for r in range(1, options.rounds + 1):
        before = median_ms(options.before, options.n, core)
        after = median_ms(options.after, options.n, core)
        ratios.append(after / before)
        rows.append(f"| {r} | {before:.2f} | {after:.2f} | {after / before:.3f} |")
        print(rows[-1], flush=True)
    load_after = os.getloadavg()
    body = (f"{options.label}\n\nTrivial program, one-slot pool pinned to core {core}, {options.n} calls per tree "
            f"per round, trees alternated; load average (1, 5, 15 min) before: "
            f"{', '.join(f'{x:.2f}' for x in load_before)}; after: {', '.join(f'{x:.2f}' for x in load_after)}.\n\n"
            "| round | before: median ms per call | after | after / before |\n|---|---|---|---|\n"
            + "\n".join(rows)
            + f"\n\nMedian ratio after/before: **{statistics.median(ratios):.3f}** "
              f"(range {min(ratios):.3f}-{max(ratios):.3f}).\n")
    print(body)
    if not options.no_write:
        write_section("sandbox_ab", "Sandbox overhead, A/B", body)


if __name__ == "__main__":
    main()
