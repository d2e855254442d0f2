"""Rates and intervals as the analyses need them, on top of `selftaught.stats` (the project's
one Interval type): Wilson intervals for telemetry rates, which may have no trials at all, and
t intervals rebuilt from what older journals logged (a mean and a population std)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from selftaught.stats import Interval, mean_interval, wilson_interval

SCORE_BOUNDS = (0.0, 1.0)


@dataclass(frozen=True)
class Rate:
    """k events in n trials, with the 95% Wilson score interval of k / n ([0, 1] when n = 0)."""

    k: int
    n: int
    interval: Interval

    @property
    def rate(self) -> float:
        return self.interval.mean


def wilson(k: int, n: int) -> Rate:
    if n == 0 and k == 0:
        return Rate(0, 0, Interval(0.0, 0.0, 1.0, 0))
    return Rate(k, n, wilson_interval(k, n))


def score_interval(values: Sequence[float]) -> Interval:
    """Mean score with its 95% t interval, clipped to [0, 1]."""
    return mean_interval(values, bounds=SCORE_BOUNDS)


def interval_from_summary(mean: float, std: float, n: int, population_std: bool = True) -> Interval:
    """The t interval of a mean logged with its standard deviation over n values (journals
    before intervals were logged kept the population std), clipped to [0, 1]."""
    from scipy import stats

    if n < 2:
        return Interval(mean, mean, mean, max(n, 0))
    sd = std * math.sqrt(n / (n - 1)) if population_std else std
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return Interval(mean, max(SCORE_BOUNDS[0], mean - half), min(SCORE_BOUNDS[1], mean + half), n)
