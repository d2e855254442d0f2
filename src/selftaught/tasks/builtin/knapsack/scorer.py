"""Trusted scorer of `knapsack`: 0/1 knapsack, scored as the fraction of the optimum.

Item i has an integer weight and value; a selection is a list of distinct item indices
whose total weight is at most the capacity. The optimum is computed here, in the host, by
dynamic programming over capacities (O(n * capacity) with numpy, about a millisecond):

    score = value(selection) / optimum, in [0, 1]

The values are correlated with the weights (value = weight + 10..30), the instances on
which greedy orders are weakest: taking the most valuable items first fills the knapsack
with heavy ones (about 0.75), the value/weight ratio order gets about 0.98, and the
dynamic program 1. An overweight selection, a repeated or out-of-range index, or anything
but a list or 1-D integer array of indices scores 0.
"""

from dataclasses import dataclass

import numpy as np

MIN_ITEMS, MAX_ITEMS = 20, 60
MAX_WEIGHT = 100
VALUE_EXTRA = (10, 30)  # value = weight + an integer uniform in this range
CAPACITY_FRACTION = (0.2, 0.35)  # of the total weight; so capacity <= about 1100


@dataclass(frozen=True)
class KnapsackInstance:
    seed: int
    weights: tuple[int, ...]
    values: tuple[int, ...]
    capacity: int
    optimum: int  # hidden: the best total value of any selection that fits


def make_instance(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(MIN_ITEMS, MAX_ITEMS + 1))
    weights = rng.integers(1, MAX_WEIGHT + 1, size=n)
    values = weights + rng.integers(VALUE_EXTRA[0], VALUE_EXTRA[1] + 1, size=n)
    capacity = int(rng.uniform(*CAPACITY_FRACTION) * weights.sum())
    weights, values = tuple(int(w) for w in weights), tuple(int(v) for v in values)
    return KnapsackInstance(seed, weights, values, capacity, optimal_value(weights, values, capacity))


def arguments(instance):
    return [list(instance.weights), list(instance.values), instance.capacity]


def optimal_value(weights, values, capacity: int) -> int:
    """best[c] = the most value that fits in capacity c, item by item (each used once)."""
    best = np.zeros(capacity + 1, dtype=np.int64)
    for w, v in zip(weights, values):
        if w <= capacity:
            # right-hand side is built before the assignment: item i is counted at most once
            best[w:] = np.maximum(best[w:], best[:capacity + 1 - w] + v)
    return int(best[capacity])


def selection(value, n: int) -> list[int] | None:
    """`value` as a list of distinct ints in 0..n-1 (a list, tuple or 1-D integer array), or None."""
    if isinstance(value, np.ndarray):
        if value.ndim != 1 or (value.size and value.dtype.kind not in "iu"):
            return None
        items = [int(i) for i in value]
    elif type(value) in (list, tuple) and all(type(i) is int for i in value):
        items = list(value)
    else:
        return None
    if len(set(items)) != len(items) or any(not 0 <= i < n for i in items):
        return None
    return items


def score(instance, outcome):
    if not outcome.ok:
        return 0.0
    items = selection(outcome.value, len(instance.weights))
    if items is None or sum(instance.weights[i] for i in items) > instance.capacity:
        return 0.0
    value = sum(instance.values[i] for i in items)
    return value / instance.optimum if instance.optimum else 1.0  # nothing fits: empty is optimal
