"""Trusted scorer of `tsp`: Euclidean travelling salesman on random points in the unit square.

A tour is a permutation of the cities, closed (the last city returns to the first). Its
length L is normalised by a lower bound that needs no search, the length M of a minimum
spanning tree of the cities: deleting one edge of any tour leaves a spanning tree, so every
tour, the optimal one included, has L >= M, and

    score = M / L, in (0, 1]

is monotone (shorter tours score more). 1 is out of reach: for random points at these
sizes an optimal tour is about 1.15-1.2 x M (a score near 0.85). The identity order
scores about 0.15, nearest neighbour about 0.70, nearest neighbour followed by 2-opt 0.81.
Anything but a permutation of range(n) (a list of ints or a 1-D integer array) scores 0.
"""

from dataclasses import dataclass

import numpy as np

from selftaught.tasks.library.validate import permutation

MIN_CITIES, MAX_CITIES = 30, 120


@dataclass(frozen=True)
class TourInstance:
    seed: int
    points: np.ndarray  # float64 (n, 2), uniform in the unit square
    mst_length: float  # length of a minimum spanning tree: a lower bound on every tour


def make_instance(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(MIN_CITIES, MAX_CITIES + 1))
    points = rng.random((n, 2))
    return TourInstance(seed, points, mst_length(points))


def arguments(instance):
    return [instance.points.copy()]


def distances(points: np.ndarray) -> np.ndarray:
    return np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=-1))


def mst_length(points: np.ndarray) -> float:
    """Prim's algorithm on the complete Euclidean graph, O(n^2)."""
    d = distances(points)
    n = len(points)
    in_tree = np.zeros(n, dtype=bool)
    in_tree[0] = True
    nearest = d[0].copy()  # distance from each city to the tree
    total = 0.0
    for _ in range(n - 1):
        candidates = np.where(in_tree, np.inf, nearest)
        j = int(np.argmin(candidates))
        total += float(candidates[j])
        in_tree[j] = True
        nearest = np.minimum(nearest, d[j])
    return total


def tour_length(points: np.ndarray, tour: np.ndarray) -> float:
    """Length of the closed tour visiting points[tour[0]], points[tour[1]], ..., back to the first."""
    ordered = points[tour]
    return float(np.sqrt(((ordered - np.roll(ordered, -1, axis=0)) ** 2).sum(axis=1)).sum())


def score(instance, outcome):
    if not outcome.ok:
        return 0.0
    tour = permutation(outcome.value, len(instance.points))
    if tour is None:
        return 0.0
    length = tour_length(instance.points, tour)
    if length <= 0:
        return 1.0  # all cities at one point: M = L = 0
    return min(instance.mst_length / length, 1.0)  # M <= L; min() only absorbs float rounding
