import itertools

import numpy as np
import pytest

from selftaught.tasks.loader import load_task


@pytest.fixture(scope="module")
def task():
    return load_task("max_cut")


@pytest.fixture(scope="module")
def triangle(task):
    """Nodes 0, 1, 2; edges 0-1 weight 1, 0-2 weight 2, 1-2 weight 3; W = 6."""
    adjacency = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], dtype=np.float64)
    # bound set by hand so that scores are easy to compute: (cut - 3) / (7 - 3)
    return task.scorer.CutInstance(seed=0, adjacency=adjacency, total_weight=6.0, bound=7.0)


def local_search(adjacency, seed=0):
    """Single-node moves until none improves the cut."""
    x = np.random.default_rng(seed).integers(0, 2, len(adjacency)) * 2 - 1
    while True:
        gain = x * (adjacency @ x)
        i = int(np.argmax(gain))
        if gain[i] <= 0:
            return (x + 1) // 2
        x[i] = -x[i]


def test_metadata(task, arity):
    assert (task.name, task.entry_point, task.time_limit_s) == ("max_cut", "algorithm", 0.1)
    assert task.split("val").instances == task.split("test").instances == 100
    assert arity(task) == 1
    assert "100 milliseconds" in task.utility_text


def test_graphs(task):
    inst = task.make_instance(4321)
    (adjacency,) = task.arguments(inst)
    n = len(adjacency)
    assert 50 <= n <= 200 and adjacency.shape == (n, n) and adjacency.dtype == np.float64
    assert np.array_equal(adjacency, adjacency.T) and not np.any(np.diag(adjacency))
    weights = adjacency[np.triu_indices(n, 1)]
    assert set(np.unique(weights)) <= set(range(11))
    assert 0.3 < np.mean(weights > 0) < 0.5
    assert inst.total_weight == weights.sum()
    sizes = {len(task.make_instance(s).adjacency) for s in range(4321, 4331)}
    assert len(sizes) > 5


def test_instances_are_deterministic_per_seed(task):
    assert np.array_equal(task.make_instance(5).adjacency, task.make_instance(5).adjacency)
    assert task.make_instance(5).bound == task.make_instance(5).bound


def test_cut_weight_by_hand(task, triangle):
    cut = task.scorer.cut_weight
    assert cut(triangle.adjacency, np.array([0, 0, 1])) == 5.0  # edges 0-2 and 1-2
    assert cut(triangle.adjacency, np.array([1, 1, 0])) == 5.0
    assert cut(triangle.adjacency, np.array([0, 1, 1])) == 3.0  # edges 0-1 and 0-2
    assert cut(triangle.adjacency, np.array([0, 0, 0])) == 0.0


def test_score_by_hand(task, triangle, ok):
    assert task.scorer.score(triangle, ok([0, 0, 1])) == pytest.approx(0.5)  # (5 - 3) / 4
    assert task.scorer.score(triangle, ok([1, 0, 1])) == pytest.approx(0.25)  # cut 1 + 3 = 4
    assert task.scorer.score(triangle, ok([True, False, True])) == pytest.approx(0.25)
    assert task.scorer.score(triangle, ok([0, 0, 0])) == 0.0  # cut 0: below a random cut


def test_bound_holds_by_brute_force(task):
    rng = np.random.default_rng(0)
    for _ in range(5):
        n = 10
        weights = np.triu(rng.integers(1, 11, (n, n)) * (rng.random((n, n)) < 0.4), 1)
        adjacency = (weights + weights.T).astype(np.float64)
        best = max(task.scorer.cut_weight(adjacency, np.array(sides))
                   for sides in itertools.product([0, 1], repeat=n))
        assert best <= task.scorer.cut_bound(adjacency) + 1e-9


@pytest.mark.parametrize("bad", [
    [0, 1], [0, 1, 1, 0], [0, 2, 1], [0, -1, 1], [0, np.nan, 1], [0, np.inf, 1], ["a", "b", "a"],
    [None, 0, 1], None, 3, np.array([[0, 0, 1]]), {"0": 0, "1": 0, "2": 1},
])
def test_malformed_partitions_score_zero(task, triangle, ok, bad):
    assert task.scorer.score(triangle, ok(bad)) == 0.0


def test_failed_calls_score_zero(task, triangle, failed):
    assert task.scorer.score(triangle, failed([0, 0, 1])) == 0.0


def test_random_scores_near_zero_local_search_well(task, ok):
    inst = task.make_instance(4321)
    n = len(inst.adjacency)
    random_sides = np.random.default_rng(1).integers(0, 2, n)
    assert task.score(inst, ok(random_sides)) < 0.2
    assert 0.5 < task.score(inst, ok(local_search(inst.adjacency))) < 1.0
