"""Trusted scorer of `mqap`: the modified quadratic assignment problem, minimised.

Facility i goes to location a[i] (a is a permutation of range(n)); the cost is

    cost(a) = sum_ij F[i, j] * D[a[i], a[j]] - 0.5 * sum_i P[i, a[i]]   (lower is better)

with F, D, P uniform on [0, 1) and n = 15. Per instance,

    score = (expected - cost) / (expected - reference), clamped to [0, 1]

where `expected` is the exact mean cost of a uniformly random permutation (so random
guessing scores about 0) and `reference` the best cost found by the host's own search
(steepest-descent swap local search from 200 random starts, seeded by the instance).
A program may beat the reference on an instance; it then scores 1 there.
"""

from dataclasses import dataclass

import numpy as np

from selftaught.tasks.library.assignment import (expected_random_cost, mqap_cost, mqap_matrices,
                                                 reference_cost)
from selftaught.tasks.library.validate import permutation


@dataclass(frozen=True)
class AssignmentInstance:
    seed: int
    flow: np.ndarray  # F, float64 (n, n)
    distance: np.ndarray  # D, float64 (n, n)
    preference: np.ndarray  # P, float64 (n, n)
    expected_cost: float  # mean cost of a uniformly random permutation
    reference_cost: float  # best cost of the host's reference search


def make_instance(seed):
    flow, distance, preference = mqap_matrices(seed)
    return AssignmentInstance(seed, flow, distance, preference,
                              expected_random_cost(flow, distance, preference), reference_cost(seed))


def arguments(instance):
    return [instance.flow, instance.distance, instance.preference]


def score(instance, outcome):
    if not outcome.ok:
        return 0.0
    assignment = permutation(outcome.value, len(instance.flow))
    if assignment is None:
        return 0.0
    cost = mqap_cost(instance.flow, instance.distance, instance.preference, assignment)
    span = instance.expected_cost - instance.reference_cost
    return min(max((instance.expected_cost - cost) / span, 0.0), 1.0)
