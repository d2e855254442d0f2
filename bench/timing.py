"""Timing under load: the spread of a speed-scored program's score, alone and next to busy
processes, measured once per instance (the old rule) and by measure.py's rule (the least of up
to RUNS measurements).

The program is the fibonacci task's seed (naive recursion: 0.1-1 s of CPU per call, so its
speed term is in play on every instance), scored on the test split (10 instances). Rounds
interleave the four cells (alone/loaded x once/least-of-RUNS) so machine drift hits all alike;
"loaded" runs two busy loops, one per core of a 2-core machine, beside the scoring.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from report import write_section
from selftaught import measure
from selftaught.lm.local.engines import cpu_features, cpu_model
from selftaught.sandbox import SandboxConfig, SandboxPool
from selftaught.tasks.loader import load_task
from selftaught.tasks.secret import InstanceSecret
from selftaught.utility import evaluate

SECRET = InstanceSecret(bytes(range(32)))  # fixed instances, so every cell scores the same work


def score(pool: SandboxPool, runs: int, loaded: bool) -> tuple[float, float, int]:
    """(score, CPU seconds of the calls that decided, calls made) with measure.RUNS = runs."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True:\n    pass\n"]) for _ in range(2)] if loaded else []
    saved, measure.RUNS = measure.RUNS, runs
    try:
        task = load_task("fibonacci")
        result = evaluate(task, task.seed_program, "test", pool, SECRET)
    finally:
        measure.RUNS = saved
        for hog in hogs:
            hog.kill()
            hog.wait()
    return result.score, sum(i.cpu_time_s for i in result.instances), sum(i.measurements for i in result.instances)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()
    cells = [(loaded, runs) for loaded in (False, True) for runs in (1, measure.RUNS)]
    got: dict[tuple[bool, int], list[tuple[float, float, int, float]]] = {c: [] for c in cells}
    with SandboxPool(SandboxConfig(slots=2)) as pool:
        for r in range(args.rounds):
            for loaded, runs in cells:
                started = time.perf_counter()
                s, cpu, calls = score(pool, runs, loaded)
                got[(loaded, runs)].append((s, cpu, calls, time.perf_counter() - started))
                print(f"round {r + 1}/{args.rounds} {'loaded' if loaded else 'alone '} runs={runs}: score {s:.4f} "
                      f"cpu {cpu:.2f} s calls {calls}", flush=True)
    lines = [
        f"CPU: {cpu_model()} [{cpu_features()}]. The fibonacci seed program on the test split (10 instances, "
        f"fixed key), {args.rounds} interleaved rounds per cell; loaded = two busy loops beside the scoring. "
        f"measure.py: re-measure at or above {measure.MARGIN:.0%} of the limit, and every call of a "
        f"speed-scored task; the least of up to {measure.RUNS} decides.",
        "",
        "| machine | measurements per instance | score: mean | score: min-max | score: sd | CPU s deciding "
        "(mean) | calls | wall s (mean) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for loaded, runs in cells:
        rows = got[(loaded, runs)]
        scores = [x[0] for x in rows]
        sd = statistics.stdev(scores) if len(scores) > 1 else 0.0
        lines.append(f"| {'loaded' if loaded else 'alone'} | {'1' if runs == 1 else f'least of {runs}'} | "
                     f"{statistics.mean(scores):.4f} | {min(scores):.4f}-{max(scores):.4f} | {sd:.4f} | "
                     f"{statistics.mean(x[1] for x in rows):.2f} | {rows[0][2]} | {statistics.mean(x[3] for x in rows):.1f} |")
    alone = {runs: statistics.mean(x[0] for x in got[(False, runs)]) for runs in (1, measure.RUNS)}
    loaded = {runs: statistics.mean(x[0] for x in got[(True, runs)]) for runs in (1, measure.RUNS)}
    lines += ["", f"Shift of the mean score under load: {loaded[1] - alone[1]:+.4f} measured once, "
                  f"{loaded[measure.RUNS] - alone[measure.RUNS]:+.4f} with the least of {measure.RUNS}."]
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        write_section("timing", "Timing under load: a speed-scored score, alone and loaded", table)


if __name__ == "__main__":
    main()
