import itertools
import math

import numpy as np
import pytest
from scipy.sparse.csgraph import minimum_spanning_tree

from selftaught.tasks.loader import load_task
from selftaught.tasks.secret import InstanceSecret
from selftaught.utility import evaluate

from .conftest import program

SECRET = InstanceSecret(bytes(range(32)))


def nearest_neighbour(points):
    """From city 0, always on to the nearest unvisited city."""
    n = len(points)
    pts = [(float(x), float(y)) for x, y in points]
    unvisited = set(range(1, n))
    tour = [0]
    while unvisited:
        x, y = pts[tour[-1]]
        nxt = min(unvisited, key=lambda k: (pts[k][0] - x) ** 2 + (pts[k][1] - y) ** 2)
        unvisited.remove(nxt)
        tour.append(nxt)
    return tour


def nearest_neighbour_2opt(points):
    """Nearest neighbour, then 2-opt moves (reverse a segment) until none shortens the tour."""
    from math import dist

    n = len(points)
    pts = [(float(x), float(y)) for x, y in points]
    d = [[dist(a, b) for b in pts] for a in pts]
    unvisited = set(range(1, n))
    tour = [0]
    while unvisited:
        last = tour[-1]
        nxt = min(unvisited, key=lambda k: d[last][k])
        unvisited.remove(nxt)
        tour.append(nxt)
    improved = True
    while improved:
        improved = False
        for i in range(n - 1):
            for j in range(i + 2, n if i > 0 else n - 1):
                a, b, c, e = tour[i], tour[i + 1], tour[j], tour[(j + 1) % n]
                if d[a][c] + d[b][e] < d[a][b] + d[c][e] - 1e-12:
                    tour[i + 1:j + 1] = reversed(tour[i + 1:j + 1])
                    improved = True
    return tour


@pytest.fixture(scope="module")
def task():
    return load_task("tsp")


@pytest.fixture(scope="module")
def square(task):
    """The corners of the unit square, in order: the MST takes 3 sides (M = 3)."""
    points = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=np.float64)
    return task.scorer.TourInstance(seed=0, points=points, mst_length=task.scorer.mst_length(points))


def test_metadata(task, arity):
    assert (task.name, task.entry_point, task.time_limit_s) == ("tsp", "algorithm", 0.5)
    assert task.split("val").instances == task.split("test").instances == 20
    assert arity(task) == 1
    assert "500 milliseconds" in task.utility_text and "(n, 2)" in task.utility_text


def test_bound_and_lengths_by_hand(task, square):
    scorer = task.scorer
    assert square.mst_length == pytest.approx(3.0)
    assert scorer.tour_length(square.points, np.array([0, 1, 2, 3])) == pytest.approx(4.0)
    assert scorer.tour_length(square.points, np.array([0, 2, 1, 3])) == pytest.approx(2 + 2 * math.sqrt(2))
    line = np.array([[0, 0], [0.25, 0], [1, 0]], dtype=np.float64)
    assert scorer.mst_length(line) == pytest.approx(1.0)
    assert scorer.mst_length(np.array([[0.5, 0.5]])) == 0.0


def test_mst_matches_scipy_and_bounds_the_optimal_tour(task):
    rng = np.random.default_rng(0)
    for n in (2, 3, 5, 7, 8, 40, 120):
        points = rng.random((n, 2))
        expected = minimum_spanning_tree(task.scorer.distances(points)).sum()
        assert task.scorer.mst_length(points) == pytest.approx(expected)
        if n <= 8:  # brute force over tours that start at city 0
            optimum = min(task.scorer.tour_length(points, np.array((0, *rest)))
                          for rest in itertools.permutations(range(1, n)))
            assert task.scorer.mst_length(points) <= optimum + 1e-12


def test_instances(task):
    counts = set()
    for seed in range(4321, 4331):
        inst = task.make_instance(seed)
        (points,) = task.arguments(inst)
        n = len(points)
        assert 30 <= n <= 120 and points.shape == (n, 2) and points.dtype == np.float64
        assert points.min() >= 0 and points.max() < 1
        assert inst.mst_length == pytest.approx(minimum_spanning_tree(task.scorer.distances(points)).sum())
        counts.add(n)
    assert len(counts) > 5


def test_instances_are_deterministic_per_seed(task):
    a, b, c = task.make_instance(11), task.make_instance(11), task.make_instance(12)
    assert np.array_equal(a.points, b.points) and a.mst_length == b.mst_length
    assert not np.array_equal(a.points[:10], c.points[:10])


def test_score_by_hand(task, square, ok):
    score = task.scorer.score
    assert score(square, ok([0, 1, 2, 3])) == pytest.approx(0.75)
    assert score(square, ok([2, 3, 0, 1])) == pytest.approx(0.75)  # any start
    assert score(square, ok([3, 2, 1, 0])) == pytest.approx(0.75)  # either direction
    assert score(square, ok(np.array([0, 1, 2, 3], dtype=np.int32))) == pytest.approx(0.75)
    assert score(square, ok([0, 2, 1, 3])) == pytest.approx(3 / (2 + 2 * math.sqrt(2)))


@pytest.mark.parametrize("bad", [
    [0, 1, 2], [0, 1, 2, 3, 0],  # closing city repeated
    [0, 1, 2, 2], [1, 2, 3, 4], [0, 1, 2, -1], [0.0, 1.0, 2.0, 3.0], [0, 1, 2, 3.0],
    [False, True, 2, 3], ["0", "1", "2", "3"], [0, 1, 2, None], "0123", None, 3,
    np.array([0.0, 1.0, 2.0, 3.0]), np.array([[0, 1, 2, 3]]), [[0, 0], [1, 0], [1, 1], [0, 1]],
    {"0": 1}, [0, 1, 2, 2 ** 70],
])
def test_malformed_tours_score_zero(task, square, ok, bad):
    assert task.scorer.score(square, ok(bad)) == 0.0


def test_failed_calls_score_zero(task, square, failed):
    assert task.scorer.score(square, failed([0, 1, 2, 3])) == 0.0


def test_seed_scores_as_measured_and_better_programs_higher(task, pool):
    # notes: 0.151 on val with the host's secret (index order; long random zigzags)
    seed = evaluate(task, task.seed_program, "val", pool, SECRET)
    assert {i.status for i in seed.instances} == {"ok"}
    assert seed.score == pytest.approx(0.155, abs=0.04)
    nearest = evaluate(task, program(nearest_neighbour), "val", pool, SECRET)
    assert 0.65 < nearest.score < 0.76
    two_opt = evaluate(task, program(nearest_neighbour_2opt), "val", pool, SECRET)
    assert {i.status for i in two_opt.instances} == {"ok"}
    assert 0.77 < two_opt.score < 0.88 and two_opt.score > nearest.score + 0.07
    assert all(a.score >= b.score for a, b in zip(two_opt.instances, nearest.instances))
    assert max(i.cpu_time_s for i in two_opt.instances) < 0.5 * task.time_limit_s
