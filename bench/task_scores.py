"""Scores of each built-in task's seed program and a reference solver, on val and test,
alone and next to two busy loops (one per core of a 2-core machine).

Run:  PYTHONPATH=src python bench/task_scores.py [--tasks lpn max_cut] [--instance-secret FILE]

Prints a markdown table. Instances come from the instance secret (default: this user's,
see selftaught/tasks/secret.py), so the numbers are comparable with `selftaught evaluate`
on the same machine. The reference solvers are the ones the task tests use (tests/tasks/),
written as sandbox programs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from selftaught.sandbox import SandboxConfig, SandboxPool
from selftaught.tasks.loader import builtin_names, load_task
from selftaught.tasks.secret import read_secret, user_secret
from selftaught.utility import evaluate

FAST_FIB = "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n"

GF2 = '''import numpy as np

def algorithm(train_samples, train_parity, test_samples):
    A = np.concatenate([train_samples, train_parity[:, None]], axis=1) % 2
    row, pivots = 0, []
    for col in range(A.shape[1] - 1):
        hits = np.nonzero(A[row:, col])[0]
        if len(hits) == 0:
            continue
        A[[row, row + hits[0]]] = A[[row + hits[0], row]]
        others = A[:, col].astype(bool)
        others[row] = False
        A[others] ^= A[row]
        pivots.append(col)
        row += 1
    weights = np.zeros(A.shape[1] - 1, dtype=np.int64)
    for i, col in enumerate(pivots):
        weights[col] = A[i, -1]
    return test_samples @ weights % 2
'''

BEST_SUBSET = '''import numpy as np

def algorithm(train_samples, train_parity, test_samples):
    masks = (np.arange(1 << 10)[:, None] >> np.arange(10)) & 1
    errors = ((masks @ train_samples.T) % 2 != train_parity).sum(axis=1)
    return test_samples @ masks[int(np.argmin(errors))] % 2
'''

WALKSAT = '''import random

def algorithm(formula, max_flips=20000):
    n = max(abs(l) for c in formula for l in c)
    rng = random.Random(0)
    value = [False] + [rng.random() < 0.5 for _ in range(n)]
    for _ in range(max_flips):
        unsat = [c for c in formula if not any(value[abs(l)] == (l > 0) for l in c)]
        if not unsat:
            return value
        clause = rng.choice(unsat)
        if rng.random() < 0.5:
            var = abs(rng.choice(clause))
        else:
            def broken(v):
                value[v] = not value[v]
                count = sum(not any(value[abs(l)] == (l > 0) for l in c) for c in formula)
                value[v] = not value[v]
                return count
            var = min((abs(l) for l in clause), key=broken)
        value[var] = not value[var]
    return None
'''

MAX_CUT_SEARCH = '''import time
import numpy as np

def algorithm(adjacency, budget_s=0.06):
    start, rng = time.process_time(), np.random.default_rng()
    best, best_x = -1.0, None
    while best_x is None or time.process_time() - start < budget_s:
        x = rng.integers(0, 2, len(adjacency)) * 2 - 1
        while True:
            gain = x * (adjacency @ x)
            i = int(np.argmax(gain))
            if gain[i] <= 0:
                break
            x[i] = -x[i]
        cut = float(adjacency.sum() - x @ adjacency @ x)
        if cut > best:
            best, best_x = cut, x
    return (best_x + 1) // 2
'''

MQAP_SEARCH = '''import time
import numpy as np

def algorithm(F, D, P, budget_s=0.35):
    start, rng, n = time.process_time(), np.random.default_rng(), len(F)
    i, j = np.triu_indices(n, k=1)
    rows = np.arange(len(i))

    def cost(a):
        return float(np.sum(F * D[np.ix_(a, a)]) - 0.5 * P[np.arange(n), a].sum())

    best, best_a = None, None
    while best is None or time.process_time() - start < budget_s:
        a = rng.permutation(n)
        c = cost(a)
        while True:
            nb = np.repeat(a[None, :], len(i), axis=0)
            nb[rows, i], nb[rows, j] = a[j], a[i]
            q = (F[None] * D[nb[:, :, None], nb[:, None, :]]).sum(axis=(1, 2))
            costs = q - 0.5 * P[np.arange(n)[None, :], nb].sum(axis=1)
            k = int(np.argmin(costs))
            if costs[k] >= c - 1e-12:
                break
            a, c = nb[k], float(costs[k])
        if best is None or c < best:
            best, best_a = c, a
    return [int(v) for v in best_a]
'''

GRID_DP = '''def algorithm(t, dist):
    target = dist - sum(a != b for a, b in zip(t, t[1:]))
    came_from = [{c: {int(c != t[0]): None} for c in "AB"}]
    for i in range(1, len(t)):
        came_from.append({c: {} for c in "AB"})
        for c in "AB":
            for prev in "AB":
                for d in came_from[i - 1][prev]:
                    came_from[i][c].setdefault(d + (c != t[i]) + (c != prev), prev)
    for c in "AB":
        if target in came_from[-1][c]:
            s, d = [c], target
            for i in range(len(t) - 1, 0, -1):
                prev = came_from[i][c][d]
                d -= (c != t[i]) + (c != prev)
                s.append(prev)
                c = prev
            return "".join(reversed(s))
    return t
'''

def _from_tests(module: str, function: str):
    """A reference program the task's tests hold (tests/tasks/test_<task>.py), loaded when it
    is used (the test modules need pytest)."""

    def load() -> str:
        import importlib

        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        tests = importlib.import_module(f"tests.tasks.{module}")
        return importlib.import_module("tests.tasks.conftest").program(getattr(tests, function))

    return load


REFERENCES = {  # task: (name, program, or a function that loads it)
    "fibonacci": ("iterative fib", FAST_FIB),
    "parity": ("GF(2) elimination", GF2),
    "lpn": ("best of all 2^10 subsets", BEST_SUBSET),
    "three_sat": ("WalkSAT (tests/tasks)", WALKSAT),
    "max_cut": ("local search restarts, 60 ms CPU", MAX_CUT_SEARCH),
    "mqap": ("swap local search restarts, 0.35 s CPU", MQAP_SEARCH),
    "string_grid_distance": ("exact dynamic program", GRID_DP),
    "knapsack": ("dynamic program over capacity", _from_tests("test_knapsack", "dynamic_program")),
    "bin_packing": ("first-fit decreasing", _from_tests("test_bin_packing", "first_fit_decreasing")),
    "tsp": ("nearest neighbour + 2-opt", _from_tests("test_tsp", "nearest_neighbour_2opt")),
}


class BusyLoops:
    """Two busy loops for the duration of a `with` block."""

    def __enter__(self) -> BusyLoops:
        self.hogs = [subprocess.Popen([sys.executable, "-c", "while True:\n    pass\n"]) for _ in range(2)]
        return self

    def __exit__(self, *exc_info: object) -> None:
        for hog in self.hogs:
            hog.kill()
            hog.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="*", default=builtin_names())
    parser.add_argument("--instance-secret", type=Path, help="instance secret file [default: this user's]")
    options = parser.parse_args()
    secret = read_secret(options.instance_secret) if options.instance_secret else user_secret()
    rows = []
    with SandboxPool(SandboxConfig(slots=2)) as pool:
        for name in options.tasks:
            task = load_task(name)
            reference, source = REFERENCES[name]
            source = source() if callable(source) else source
            for label, program in (("seed", task.seed_program), (reference, source)):
                cells, timeouts = [], []
                for loaded in (False, True):
                    for split in ("val", "test"):
                        started = time.perf_counter()
                        if loaded:
                            with BusyLoops():
                                result = evaluate(task, program, split, pool, secret)
                        else:
                            result = evaluate(task, program, split, pool, secret)
                        cells.append(f"{result.score:.3f}")
                        timeouts.append(sum(i.status == "timeout" for i in result.instances))
                        print(f"{name} {label} {split} {'loaded' if loaded else 'alone'}: {result.score:.3f} "
                              f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
                rows.append(f"| {name} | {label} | {' | '.join(cells)} | {'/'.join(map(str, timeouts))} |")
    print("| task | program | val | test | val, loaded | test, loaded | timeouts (val/test/val/test) |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
