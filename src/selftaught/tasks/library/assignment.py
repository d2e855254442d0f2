"""The modified quadratic assignment problem (MQAP): cost, random baseline, reference search.

Facility i goes to location a[i]; cost(a) = sum_ij F[i,j] D[a[i],a[j]] - lam sum_i P[i,a[i]],
lower is better. Kept in the library (imported once per process) rather than in the task's
scorer.py (loaded afresh by every load_task) so the reference-search cache survives.
"""

from functools import lru_cache

import numpy as np

N = 15
LAMBDA = 0.5
REFERENCE_RESTARTS = 200  # about 0.2 s per instance, once per seed per process


def mqap_matrices(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """F, D, P for an instance seed: float64 (N, N), uniform on [0, 1)."""
    rng = np.random.default_rng(seed)
    return rng.random((N, N)), rng.random((N, N)), rng.random((N, N))


def mqap_cost(flow, distance, preference, assignment, lam: float = LAMBDA) -> float:
    a = np.asarray(assignment)
    quadratic = np.sum(flow * distance[np.ix_(a, a)])
    return float(quadratic - lam * preference[np.arange(len(a)), a].sum())


def expected_random_cost(flow, distance, preference, lam: float = LAMBDA) -> float:
    """E[cost] over uniform permutations: a[i] = a[j] iff i = j, and each a[i] is uniform."""
    n = len(flow)
    mean_diagonal = np.trace(distance) / n
    mean_off_diagonal = (distance.sum() - np.trace(distance)) / (n * (n - 1))
    quadratic = np.trace(flow) * mean_diagonal + (flow.sum() - np.trace(flow)) * mean_off_diagonal
    return float(quadratic - lam * preference.sum() / n)


@lru_cache(maxsize=1024)
def reference_cost(seed: int) -> float:
    """Best cost of steepest-descent swap local search from REFERENCE_RESTARTS random starts."""
    flow, distance, preference = mqap_matrices(seed)
    rng = np.random.default_rng([seed, 1])  # a stream apart from the instance's own
    return min(_descend(flow, distance, preference, rng.permutation(N))
               for _ in range(REFERENCE_RESTARTS))


def _descend(flow, distance, preference, a) -> float:
    """Move to the best swap of two facilities' locations until none improves; its cost."""
    n = len(a)
    i, j = np.triu_indices(n, k=1)
    rows = np.arange(len(i))
    cost = mqap_cost(flow, distance, preference, a)
    while True:
        neighbours = np.repeat(a[None, :], len(i), axis=0)
        neighbours[rows, i], neighbours[rows, j] = a[j], a[i]
        quadratic = (flow[None] * distance[neighbours[:, :, None], neighbours[:, None, :]]).sum(axis=(1, 2))
        costs = quadratic - LAMBDA * preference[np.arange(n)[None, :], neighbours].sum(axis=1)
        best = int(np.argmin(costs))
        if costs[best] >= cost - 1e-12:
            return cost
        a, cost = neighbours[best], float(costs[best])
