"""Trusted scorer of `bin_packing`: one-dimensional bin packing, scored against the
volume lower bound.

Items have integer sizes; a packing is a list of bins, each a list of item indices, that
holds every item exactly once with no bin's total size above the capacity. No packing
uses fewer than L = ceil(sum of sizes / capacity) bins, so

    score = L / (number of non-empty bins), in (0, 1]

is 1 exactly when a packing meets the bound. With sizes 1..70 and capacity 100, L is
nearly always the optimum or one short of it (first-fit decreasing reaches L on most
instances); next-fit, which never looks back at a closed bin, scores about 0.76.
A missing or repeated item, an overfull bin, or anything but a list of lists (or 1-D
integer arrays) of indices scores 0; empty bins are ignored.
"""

import math
from dataclasses import dataclass

import numpy as np

MIN_ITEMS, MAX_ITEMS = 50, 200
CAPACITY = 100
MAX_SIZE = 70  # sizes are uniform in 1..MAX_SIZE


@dataclass(frozen=True)
class PackingInstance:
    seed: int
    sizes: tuple[int, ...]
    capacity: int
    lower_bound: int  # ceil(sum(sizes) / capacity): no packing uses fewer bins


def make_instance(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(MIN_ITEMS, MAX_ITEMS + 1))
    sizes = tuple(int(s) for s in rng.integers(1, MAX_SIZE + 1, size=n))
    return PackingInstance(seed, sizes, CAPACITY, lower_bound(sizes, CAPACITY))


def arguments(instance):
    return [list(instance.sizes), instance.capacity]


def lower_bound(sizes, capacity: int) -> int:
    return math.ceil(sum(sizes) / capacity)  # exact: integer sums, no float rounding below 2**53


def packing(value, n: int) -> list[list[int]] | None:
    """`value` as non-empty bins of indices covering 0..n-1 exactly once, or None."""
    if type(value) not in (list, tuple):
        return None
    bins = []
    for b in value:
        if isinstance(b, np.ndarray):
            if b.ndim != 1 or (b.size and b.dtype.kind not in "iu"):
                return None
            b = [int(i) for i in b]
        elif type(b) not in (list, tuple) or not all(type(i) is int for i in b):
            return None
        if b:
            bins.append(list(b))
    items = sorted(i for b in bins for i in b)
    return bins if items == list(range(n)) else None


def score(instance, outcome):
    if not outcome.ok:
        return 0.0
    bins = packing(outcome.value, len(instance.sizes))
    if not bins or any(sum(instance.sizes[i] for i in b) > instance.capacity for b in bins):
        return 0.0
    return instance.lower_bound / len(bins)
