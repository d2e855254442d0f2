"""Trusted scorer of `string_grid_distance`: given t and a target distance, find s with
grid_dist(s, t) == dist.

grid_dist(s, t) = (positions where s and t differ) + (adjacent changes within s)
                + (adjacent changes within t), for equal-length strings over {A, B}.
The target is the distance from t to a hidden random string, so it is always reachable.
Per instance, as in the reference code: 1 if grid_dist(s, t) == dist, otherwise
0.5 - |grid_dist(s, t) - dist| / (6 * len(t)), which lies in (0, 0.5) for any valid s;
a string of the wrong length or with other letters (or a non-string) scores 0.
"""

import random
from dataclasses import dataclass

MIN_LENGTH, MAX_LENGTH = 1, 30
ALPHABET = "AB"


@dataclass(frozen=True)
class GridInstance:
    seed: int
    t: str
    dist: int
    hidden_s: str  # hidden: one string at exactly `dist` from t


def grid_dist(s: str, t: str) -> int:
    changes = sum(a != b for a, b in zip(s, t))
    changes += sum(a != b for a, b in zip(s, s[1:]))
    changes += sum(a != b for a, b in zip(t, t[1:]))
    return changes


def make_instance(seed):
    rng = random.Random(seed)
    length = rng.randint(MIN_LENGTH, MAX_LENGTH)
    t = "".join(rng.choice(ALPHABET) for _ in range(length))
    s = "".join(rng.choice(ALPHABET) for _ in range(length))
    return GridInstance(seed, t, grid_dist(s, t), s)


def arguments(instance):
    return [instance.t, instance.dist]


def score(instance, outcome):
    s = outcome.value
    if not outcome.ok or type(s) is not str or len(s) != len(instance.t) or set(s) - set(ALPHABET):
        return 0.0
    d = grid_dist(s, instance.t)
    if d == instance.dist:
        return 1.0
    return 0.5 - abs(d - instance.dist) / (6 * len(instance.t))
