"""Paired acceptance with racing: is the candidate really better than the incumbent?

Both improvers run on the same (task, run index) pairs, with the same LM samples (common random
numbers, see meta.py), on indices after the n_tests runs û reports, so the pairs are fresh:
the improver-of-improvers chose the candidate without seeing them (no winner's curse).

The race adds pairs in stages (first_runs per task, doubling up to max_runs) and stops as
soon as the evidence decides:
- accept when the mean paired difference (candidate - incumbent, val) is above 0 by BOTH a
  one-sided paired t bound and a one-sided sign test, at the stated confidence split evenly
  over the stages (Bonferroni), so peeking at every stage keeps the error rate stated. The
  sign test guards the t bound where scores are bimodal (0 on failure) and pairs are few;
- reject early when the candidate returned the same program as the incumbent in every pair
  (it behaves identically: dead code, comments), or when the difference is below 0 by the
  mirrored t bound (a clear loser);
- otherwise reject after max_runs: not shown to be better.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from scipy.stats import binomtest

from selftaught.acceptance.decision import Decision
from selftaught.acceptance.paper import zero_meta_utility
from selftaught.stats import Interval, lower_bound, mean_interval, upper_bound
from selftaught.meta import MetaUtility



@dataclass(frozen=True)
class PairedComparison:
    """Candidate a against b on shared (task, index) pairs of one split."""

    split: str
    indices: tuple[int, ...]
    differences: tuple[float, ...]  # a - b per pair, tasks in order, indices within
    a: Interval
    b: Interval
    difference: Interval  # two-sided interval of the mean difference
    identical: bool  # every pair: both returned the same program (or both failed)
    wins: int
    losses: int

    def to_json(self) -> dict:
        return {"split": self.split, "indices": list(self.indices), "differences": list(self.differences),
                "a": self.a.to_json(), "b": self.b.to_json(), "difference": self.difference.to_json(),
                "identical": self.identical, "wins": self.wins, "losses": self.losses}


def compare(meta: MetaUtility, a: str, b: str, indices: Sequence[int], split: str = "val",
            confidence: float = 0.95) -> PairedComparison:
    """Run (or look up) both improvers on every task at `indices` and pair their scores."""
    units = [(who, task, i) for task in meta.tasks for i in indices for who in (a, b)]
    done = meta.runs(units)
    runs_a, runs_b = done[0::2], done[1::2]
    d = [ra[split] - rb[split] for ra, rb in zip(runs_a, runs_b)]
    return PairedComparison(
        split=split, indices=tuple(indices), differences=tuple(d),
        a=mean_interval([r[split] for r in runs_a], confidence, (0.0, 1.0)),
        b=mean_interval([r[split] for r in runs_b], confidence, (0.0, 1.0)),
        difference=mean_interval(d, confidence, (-1.0, 1.0)),
        identical=all(ra["solution"] == rb["solution"] for ra, rb in zip(runs_a, runs_b)),
        wins=sum(x > 0 for x in d), losses=sum(x < 0 for x in d),
    )


def race_stages(first_runs: int, max_runs: int) -> list[int]:
    """Runs per task at each look: first_runs, doubling, ending exactly at max_runs."""
    stages, n = [], first_runs
    while n < max_runs:
        stages.append(n)
        n *= 2
    return stages + [max_runs]


class PairedRace:
    name = "paired"

    def __init__(self, first_runs: int = 2, max_runs: int = 8, confidence: float = 0.95) -> None:
        if not 1 <= first_runs <= max_runs:
            raise ValueError(f"need 1 <= first_runs ({first_runs}) <= max_runs ({max_runs})")
        self.first_runs, self.max_runs, self.confidence = first_runs, max_runs, confidence

    def decide(self, incumbent, candidate, candidate_score, meta) -> Decision:
        rejected = zero_meta_utility(candidate_score)
        if rejected:
            return rejected
        stages = race_stages(self.first_runs, self.max_runs)
        level = 1 - (1 - self.confidence) / len(stages)  # per look, so the race as a whole keeps `confidence`
        offset = meta.settings.n_tests  # fresh indices: after the runs û reported
        for look, n in enumerate(stages, 1):
            c = compare(meta, candidate, incumbent, range(offset, offset + n), "val", self.confidence)
            d = list(c.differences)
            evidence = {"rule": self.name, "look": look, "looks": len(stages), "level": level,
                        "comparison": c.to_json(), "lower_bound": _finite(lower_bound(d, level)),
                        "sign_test_p": _sign_test(c.wins, c.losses)}
            summary = (f"{len(d)} fresh pairs, mean difference {c.difference.mean:+.3f} "
                       f"[{c.difference.lo:+.3f}, {c.difference.hi:+.3f}], {c.wins} wins / {c.losses} losses")
            if c.identical:
                return Decision(False, f"same behaviour as the incumbent: identical programs on {len(d)} pairs",
                                evidence)
            if lower_bound(d, level) > 0 and evidence["sign_test_p"] < 1 - level:
                return Decision(True, f"accepted: better on {summary}", evidence)
            if upper_bound(d, level) < 0:
                return Decision(False, f"rejected early: worse on {summary}", evidence)
        return Decision(False, f"not shown better at {self.confidence:.0%} after {summary}", evidence)


def _sign_test(wins: int, losses: int) -> float:
    """One-sided p-value that wins outnumber losses (ties dropped); 1 when there are none."""
    if wins + losses == 0:
        return 1.0
    return float(binomtest(wins, wins + losses, 0.5, alternative="greater").pvalue)


def _finite(x: float) -> float | None:
    return x if x not in (float("inf"), float("-inf")) else None
