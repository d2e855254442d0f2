"""What an acceptance rule decides, and the interface every rule implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from selftaught.meta import MetaScore, MetaUtility


@dataclass(frozen=True)
class Decision:
    accepted: bool
    reason: str
    evidence: dict = field(default_factory=dict)  # journalled with the iteration


class AcceptanceRule(Protocol):
    name: str

    def decide(self, incumbent: str, candidate: str, candidate_score: MetaScore,
               meta: MetaUtility) -> Decision:
        """Both improvers are source texts; candidate_score is û(candidate) on runs 0..n_tests-1
        (already computed: the improver-of-improvers asked for it)."""
        ...
