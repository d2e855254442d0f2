"""Trusted scorer of `max_cut`: weighted Max-Cut on dense random graphs.

The raw objective, the weight of the cut, grows with the graph, so each instance is
normalised between two reference points that need no search:

    score = (cut - W/2) / (bound - W/2), clamped to [0, 1]

W/2 is the expected cut of a uniformly random partition (W = total edge weight), and
bound = W/2 + n * (-lambda_min(A)) / 4 is an upper bound on every cut, since for a
partition x in {-1, +1}^n, cut = W/2 - x^T A x / 4 and x^T A x >= n * lambda_min(A).
So a random partition scores about 0, and 1 would need a cut meeting the bound, which
dense random graphs do not allow; a local optimum of single-node moves scores about 0.65.
"""

from dataclasses import dataclass

import numpy as np

from selftaught.tasks.library.validate import binary_vector

MIN_NODES, MAX_NODES = 50, 200
P_EDGE = 0.4
MAX_WEIGHT = 10


@dataclass(frozen=True)
class CutInstance:
    seed: int
    adjacency: np.ndarray  # float64 (n, n), symmetric, zero diagonal, weights 1..10
    total_weight: float  # W: sum of the weights of all edges
    bound: float  # upper bound on any cut's weight (see the module docstring)


def make_instance(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(MIN_NODES, MAX_NODES + 1))
    edges = np.triu(rng.random((n, n)) < P_EDGE, k=1)
    weights = rng.integers(1, MAX_WEIGHT + 1, size=(n, n)) * edges
    adjacency = (weights + weights.T).astype(np.float64)
    return CutInstance(seed, adjacency, float(weights.sum()), cut_bound(adjacency))


def arguments(instance):
    return [instance.adjacency]


def cut_bound(adjacency: np.ndarray) -> float:
    """W/2 + n * (-lambda_min) / 4: no partition of this graph cuts more."""
    total = adjacency.sum() / 2
    return float(total / 2 - len(adjacency) * np.linalg.eigvalsh(adjacency)[0] / 4)


def cut_weight(adjacency: np.ndarray, sides: np.ndarray) -> float:
    """Total weight of edges between side 1 and side 0 (each edge counted once)."""
    sides = sides.astype(np.float64)
    return float(sides @ adjacency @ (1 - sides))


def score(instance, outcome):
    if not outcome.ok:
        return 0.0
    sides = binary_vector(outcome.value, len(instance.adjacency))
    if sides is None:
        return 0.0
    baseline = instance.total_weight / 2
    gain = (cut_weight(instance.adjacency, sides) - baseline) / (instance.bound - baseline)
    return min(max(gain, 0.0), 1.0)
