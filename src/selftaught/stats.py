"""Intervals for noisy scores: every mean STOP reports comes with one.

Scores lie in [0, 1] and are often bimodal (0 when a run fails), and samples are small, so
intervals use Student's t (wide at small n, which is the honest answer) and say how many
values they rest on. Rates of rare events (telemetry) use Wilson's interval.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Sequence

from scipy import stats as _scipy


@dataclass(frozen=True)
class Interval:
    """A mean with a two-sided confidence interval; lo = hi = mean when n < 2 (no spread known)."""

    mean: float
    lo: float
    hi: float
    n: int
    confidence: float = 0.95

    @property
    def half_width(self) -> float:
        return (self.hi - self.lo) / 2

    def __str__(self) -> str:
        if self.n < 2:
            return f"{self.mean:.3f} (n={self.n}, no interval)"
        return f"{self.mean:.3f} [{self.lo:.3f}, {self.hi:.3f}] (n={self.n})"

    def to_json(self) -> dict:
        return {"mean": self.mean, "lo": self.lo, "hi": self.hi, "n": self.n, "confidence": self.confidence}


def mean_interval(values: Sequence[float], confidence: float = 0.95, bounds: tuple[float, float] | None = None
                  ) -> Interval:
    """Student-t interval of the mean, clipped to `bounds` (e.g. (0, 1) for scores)."""
    values = [float(v) for v in values]
    n = len(values)
    if n == 0:
        raise ValueError("an interval needs at least one value")
    mean = statistics.fmean(values)
    if n < 2:
        return Interval(mean, mean, mean, n, confidence)
    half = _t_quantile(1 - (1 - confidence) / 2, n - 1) * statistics.stdev(values) / math.sqrt(n)
    lo, hi = mean - half, mean + half
    if bounds is not None:
        lo, hi = max(bounds[0], lo), min(bounds[1], hi)
    return Interval(mean, lo, hi, n, confidence)


def lower_bound(values: Sequence[float], confidence: float) -> float:
    """One-sided lower confidence bound of the mean (Student t); -inf when n < 2."""
    n = len(values)
    if n < 2:
        return -math.inf
    sd = statistics.stdev(values)
    return statistics.fmean(values) - _t_quantile(confidence, n - 1) * sd / math.sqrt(n)


def upper_bound(values: Sequence[float], confidence: float) -> float:
    return -lower_bound([-v for v in values], confidence)


def wilson_interval(events: int, trials: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval for a proportion (the paper's measure for sandbox-escape rates)."""
    if trials <= 0:
        raise ValueError("a rate needs at least one trial")
    if not 0 <= events <= trials:
        raise ValueError(f"events={events} must lie between 0 and trials={trials}")
    ci = _scipy.binomtest(events, trials).proportion_ci(confidence_level=confidence, method="wilson")
    return Interval(events / trials, max(0.0, float(ci.low)), min(1.0, float(ci.high)), trials, confidence)


def _t_quantile(q: float, dof: int) -> float:
    return float(_scipy.t.ppf(q, dof))
