"""Trusted scorer of the Fibonacci example: correctness gates, then speed, then brevity.

Speed is the CPU time of the fib(n) call as the sandbox measures it (every thread; the
module's own execution is not part of it), so load on the machine does not move it."""

import math
import random

FASTEST_S = 0.001  # at or below this a test earns the whole speed term
DECADES = 3  # ...and nothing at FASTEST_S * 10**DECADES (1 s)


def make_instance(seed):
    n = random.Random(seed).randint(28, 32)
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return {"n": n, "expected": a}


def arguments(instance):
    return [instance["n"]]


def score(instance, outcome):
    # type() rather than isinstance: a bool or an int subclass with a rigged __eq__ is not an answer
    if not outcome.ok or type(outcome.value) is not int or outcome.value != instance["expected"]:
        return 0.0
    seconds = max(outcome.cpu_time_s, FASTEST_S)
    speed = min(max(1 - math.log10(seconds / FASTEST_S) / DECADES, 0.0), 1.0)
    return 0.5 + 0.4 * speed


def finalize(mean, scores, source):
    if not scores or min(scores) == 0.0:
        return 0.0  # correctness gate
    return mean + 0.1 * min(max(1 - len(source) / 1000, 0.0), 1.0)
