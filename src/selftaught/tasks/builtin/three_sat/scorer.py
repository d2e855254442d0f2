"""Trusted scorer of `three_sat`: planted satisfiable random 3-SAT; 1 if the assignment
satisfies every clause, else 0.

A formula is a list of clauses, each a list of 3 nonzero ints: literal v means variable v
is true, -v that it is false (variables 1..n, DIMACS style). An assignment is a list
(or 1-D array) of length n + 1 whose entry v is the value of variable v; entry 0 is
ignored, as in the reference code, where `assignment[abs(lit)]` is read directly.
"""

import random
from dataclasses import dataclass

import numpy as np

from selftaught.tasks.library.validate import binary_vector

MIN_VARS, MAX_VARS = 5, 50
CLAUSES_PER_VAR = 4  # m = 4n: near the 3-SAT phase transition (about 4.27n)


@dataclass(frozen=True)
class SatInstance:
    seed: int
    n_vars: int  # the largest variable index in the formula
    formula: tuple[tuple[int, int, int], ...]
    planted: tuple[bool, ...]  # hidden: a satisfying assignment of variables 1..n


def make_instance(seed):
    rng = random.Random(seed)
    n = rng.randint(MIN_VARS, MAX_VARS)
    planted = [rng.random() < 0.5 for _ in range(n)]
    clauses = []
    while len(clauses) < CLAUSES_PER_VAR * n:
        variables = rng.sample(range(1, n + 1), 3)
        clause = tuple(v if rng.random() < 0.5 else -v for v in variables)
        # Keep only clauses the planted assignment satisfies: the formula is satisfiable.
        if any(planted[abs(lit) - 1] == (lit > 0) for lit in clause):
            clauses.append(clause)
    n_vars = max(abs(lit) for clause in clauses for lit in clause)
    return SatInstance(seed, n_vars, tuple(clauses), tuple(planted[:n_vars]))


def arguments(instance):
    return [[list(clause) for clause in instance.formula]]


def satisfies(formula, values) -> bool:
    """values[v] is the truth value of variable v (values[0] unused)."""
    return all(any(bool(values[abs(lit)]) == (lit > 0) for lit in clause) for clause in formula)


def score(instance, outcome):
    if not outcome.ok:
        return 0.0
    value = outcome.value
    if isinstance(value, np.ndarray) and value.ndim != 1:
        return 0.0
    if not isinstance(value, np.ndarray) and type(value) not in (list, tuple):
        return 0.0  # None (the seed's "gave up"), a dict, a string...
    if len(value) != instance.n_vars + 1:
        return 0.0
    values = binary_vector(value[1:], instance.n_vars)
    if values is None:
        return 0.0
    return 1.0 if satisfies(instance.formula, [0, *values.tolist()]) else 0.0
