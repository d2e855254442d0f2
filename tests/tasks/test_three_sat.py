import random

import numpy as np
import pytest

from selftaught.tasks.loader import load_task


@pytest.fixture(scope="module")
def task():
    return load_task("three_sat")


@pytest.fixture(scope="module")
def small(task):
    """(x1 or x2 or x3) and (not x1 or x2 or not x3) and (x1 or not x2 or x3)."""
    formula = ((1, 2, 3), (-1, 2, -3), (1, -2, 3))
    return task.scorer.SatInstance(seed=0, n_vars=3, formula=formula, planted=(True, True, True))


def walksat(formula, n, seed=0, max_flips=20000):
    """A plain WalkSAT: a proper local search solves these planted formulas."""
    rng = random.Random(seed)
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


def test_metadata(task, arity):
    assert (task.name, task.entry_point, task.time_limit_s) == ("three_sat", "algorithm", 0.1)
    assert task.split("val").instances == task.split("test").instances == 30
    assert arity(task) == 1
    assert "100 milliseconds" in task.utility_text and "n + 1" in task.utility_text


def test_formulas_are_planted_3sat_with_4n_clauses(task):
    sizes = set()
    for seed in task.split("val").seeds():
        inst = task.make_instance(seed)
        (formula,) = task.arguments(inst)
        assert 5 <= inst.n_vars <= 50 and len(formula) % 4 == 0 and len(formula) >= 4 * inst.n_vars
        assert inst.n_vars == max(abs(l) for c in formula for l in c)
        for clause in formula:
            assert type(clause) is list and len({abs(l) for l in clause}) == 3
            assert all(type(l) is int and 1 <= abs(l) <= inst.n_vars for l in clause)
        assert task.scorer.satisfies(inst.formula, (None, *inst.planted))
        sizes.add(inst.n_vars)
    assert len(sizes) > 5  # n varies across instances


def test_instances_are_deterministic_per_seed(task):
    assert task.make_instance(11) == task.make_instance(11)
    assert task.make_instance(11).formula != task.make_instance(12).formula


def test_hand_made_formula(task, small, ok):
    assert task.scorer.score(small, ok([None, True, True, True])) == 1.0
    assert task.scorer.score(small, ok([0, 1, 0, 0])) == 1.0  # every clause has a true literal
    assert task.scorer.score(small, ok([0, 0, 0, 0])) == 0.0  # first clause is false
    assert task.scorer.score(small, ok([0, 1, 1, 0])) == 1.0
    assert task.scorer.score(small, ok([0, 0, 1, 0])) == 0.0  # third clause is false
    assert task.scorer.score(small, ok(np.array([0, 1, 0, 0]))) == 1.0
    assert task.scorer.score(small, ok(np.array([False, True, False, False]))) == 1.0


@pytest.mark.parametrize("bad", [
    None, [True, True, True], [0, True, True, True, True], [0, 2, 1, 1], [0, -1, 1, 1],
    [0, 1, 1, float("nan")], [0, "1", 1, 1], [0, None, 1, 1], {"1": True, "2": True, "3": True},
    "0111", 1, np.ones((4, 1)), np.array(1),
])
def test_malformed_assignments_score_zero(task, small, ok, bad):
    assert task.scorer.score(small, ok(bad)) == 0.0


def test_failed_calls_score_zero(task, small, failed):
    assert task.scorer.score(small, failed([0, 1, 1, 1])) == 0.0


def test_planted_and_walksat_assignments_score_one(task, ok):
    for seed in range(4321, 4326):
        inst = task.make_instance(seed)
        assert task.score(inst, ok([False, *inst.planted])) == 1.0
        found = walksat(inst.formula, inst.n_vars)
        assert found is not None and task.score(inst, ok(found)) == 1.0
