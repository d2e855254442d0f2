"""Acceptance rules: whether the candidate an improver-of-improvers returned replaces the
incumbent improver. One rule per module, so one can be swapped without reading the loop.

- `paper`: the paper's rule. Keep the candidate unless it fails or scores û = 0.
- `incumbent`: also reject a candidate whose û is below the incumbent's (same runs û uses).
- `paired`: race the candidate against the incumbent on fresh paired runs that the
  improver-of-improvers never saw, and accept only a difference above 0 at a stated confidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from selftaught.errors import ConfigError

if TYPE_CHECKING:
    from selftaught.meta import MetaScore, MetaUtility


@dataclass(frozen=True)
class Decision:
    accepted: bool
    reason: str
    evidence: dict = field(default_factory=dict)  # journalled with the iteration


class AcceptanceRule(Protocol):
    name: str

    def decide(self, incumbent: str, candidate: str, candidate_score: "MetaScore",
               meta: "MetaUtility") -> Decision:
        """Both improvers are source texts; candidate_score is û(candidate) on runs 0..n_tests-1
        (already computed: the improver-of-improvers asked for it)."""
        ...


RULES = ("paper", "incumbent", "paired")


def make_rule(name: str, first_runs: int = 2, max_runs: int = 8, confidence: float = 0.95) -> AcceptanceRule:
    from selftaught.acceptance.incumbent import KeepIncumbent
    from selftaught.acceptance.paired import PairedRace
    from selftaught.acceptance.paper import PaperRule

    if name == "paper":
        return PaperRule()
    if name == "incumbent":
        return KeepIncumbent()
    if name == "paired":
        return PairedRace(first_runs=first_runs, max_runs=max_runs, confidence=confidence)
    raise ConfigError(f"unknown acceptance rule {name!r}", f"use one of: {', '.join(RULES)}")
