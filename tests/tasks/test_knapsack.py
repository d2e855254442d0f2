import itertools

import numpy as np
import pytest

from selftaught.tasks.loader import load_task
from selftaught.tasks.secret import InstanceSecret
from selftaught.utility import evaluate

from .conftest import program

SECRET = InstanceSecret(bytes(range(32)))


def ratio_greedy(weights, values, capacity):
    """Greedy by value/weight ratio: the first better algorithm."""
    order = sorted(range(len(weights)), key=lambda i: values[i] / weights[i], reverse=True)
    chosen, total = [], 0
    for i in order:
        if total + weights[i] <= capacity:
            chosen.append(i)
            total += weights[i]
    return chosen


def dynamic_program(weights, values, capacity):
    """Exact: a table over (items, capacity), then the chosen items by backtracking."""
    n = len(weights)
    dp = [[0] * (capacity + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        w, v = weights[i - 1], values[i - 1]
        prev, row = dp[i - 1], dp[i]
        for c in range(capacity + 1):
            row[c] = prev[c]
            if w <= c and prev[c - w] + v > row[c]:
                row[c] = prev[c - w] + v
    chosen, c = [], capacity
    for i in range(n, 0, -1):
        if dp[i][c] != dp[i - 1][c]:
            chosen.append(i - 1)
            c -= weights[i - 1]
    return chosen


@pytest.fixture(scope="module")
def task():
    return load_task("knapsack")


@pytest.fixture(scope="module")
def small(task):
    """Weights 5, 4, 6, 3; values 10, 40, 30, 50; capacity 10: items 1 and 3 (weight 7, value 90)
    are optimal (the other pairs that fit: 0+1 50, 0+3 60, 2+3 80, 1+2 70; no triple fits)."""
    weights, values = (5, 4, 6, 3), (10, 40, 30, 50)
    return task.scorer.KnapsackInstance(seed=0, weights=weights, values=values, capacity=10, optimum=90)


def test_metadata(task, arity):
    assert (task.name, task.entry_point, task.time_limit_s) == ("knapsack", "algorithm", 0.2)
    assert task.split("val").instances == task.split("test").instances == 30
    assert arity(task) == 3
    assert "200 milliseconds" in task.utility_text and "DISTINCT item" in task.utility_text


def test_optimum_by_hand_and_by_brute_force(task, small):
    assert task.scorer.optimal_value(small.weights, small.values, small.capacity) == 90
    assert task.scorer.optimal_value((5, 4), (10, 40), 3) == 0  # nothing fits
    assert task.scorer.optimal_value((2, 2, 2), (1, 1, 1), 6) == 3  # each item once, not 3 x the best
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(1, 11))
        weights, values = rng.integers(1, 30, n).tolist(), rng.integers(1, 40, n).tolist()
        capacity = int(rng.integers(0, sum(weights) + 1))
        best = max(sum(values[i] for i in subset)
                   for k in range(n + 1) for subset in itertools.combinations(range(n), k)
                   if sum(weights[i] for i in subset) <= capacity)
        assert task.scorer.optimal_value(weights, values, capacity) == best


def test_instances(task):
    sizes = set()
    for seed in range(4321, 4331):
        inst = task.make_instance(seed)
        weights, values, capacity = task.arguments(inst)
        n = len(weights)
        assert 20 <= n <= 60 and len(values) == n and type(capacity) is int
        assert all(type(w) is int and 1 <= w <= 100 for w in weights)
        assert all(type(v) is int and 10 <= v - w <= 30 for w, v in zip(weights, values))
        assert 0.2 * sum(weights) - 1 <= capacity <= 0.35 * sum(weights) and capacity <= 1200
        # the numpy DP agrees with a plain one that also returns the items
        chosen = dynamic_program(weights, values, capacity)
        assert sum(weights[i] for i in chosen) <= capacity
        assert sum(values[i] for i in chosen) == inst.optimum
        sizes.add(n)
    assert len(sizes) > 5


def test_instances_are_deterministic_per_seed(task):
    assert task.make_instance(11) == task.make_instance(11)
    assert task.make_instance(11).weights != task.make_instance(12).weights


def test_score_by_hand(task, small, ok):
    score = task.scorer.score
    assert score(small, ok([1, 3])) == 1.0
    assert score(small, ok([3, 1])) == 1.0  # any order
    assert score(small, ok((3, 1))) == 1.0
    assert score(small, ok(np.array([1, 3]))) == 1.0
    assert score(small, ok(np.array([3], dtype=np.uint8))) == pytest.approx(50 / 90)
    assert score(small, ok([2, 3])) == pytest.approx(80 / 90)
    assert score(small, ok([])) == 0.0  # valid, worth nothing
    assert score(small, ok(np.array([]))) == 0.0


@pytest.mark.parametrize("bad", [
    [0, 1, 3],  # weight 12 > 10
    [1, 1], [4], [-1], [1, 3.0], [1.0, 3.0], [True, False], [1, None], ["1", "3"], "13", None, 3,
    {"1": 1}, np.array([1.0, 3.0]), np.array([[1, 3]]), np.array([False, True, False, True]),
    [0, 1, 0, 1],  # a 0/1 mask is not an index list (repeats)
    [1, 2 ** 70],
])
def test_malformed_selections_score_zero(task, small, ok, bad):
    assert task.scorer.score(small, ok(bad)) == 0.0


def test_failed_calls_score_zero(task, small, failed):
    assert task.scorer.score(small, failed([1, 3])) == 0.0


def test_seed_scores_as_measured_and_better_programs_higher(task, pool):
    # notes: 0.732 on val with the host's secret; the seed greedy takes heavy items first
    seed = evaluate(task, task.seed_program, "val", pool, SECRET)
    assert {i.status for i in seed.instances} == {"ok"}
    assert seed.score == pytest.approx(0.74, abs=0.05)
    ratio = evaluate(task, program(ratio_greedy), "val", pool, SECRET)
    assert 0.95 < ratio.score < 1.0 and ratio.score > seed.score + 0.15
    exact = evaluate(task, program(dynamic_program), "val", pool, SECRET)
    assert exact.score == 1.0
    assert max(i.cpu_time_s for i in exact.instances) < 0.5 * task.time_limit_s
