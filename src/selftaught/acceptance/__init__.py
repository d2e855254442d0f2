"""Acceptance rules: whether the candidate an improver-of-improvers returned replaces the
incumbent improver. One rule per module, so one can be swapped without reading the loop.

- `paper`: the paper's rule. Keep the candidate unless it fails or scores û = 0.
- `incumbent`: also reject a candidate whose û is below the incumbent's (same runs û uses).
- `paired`: race the candidate against the incumbent on fresh paired runs that the
  improver-of-improvers never saw, and accept only a difference above 0 at a stated confidence.
"""

from __future__ import annotations

from selftaught.acceptance.decision import AcceptanceRule, Decision
from selftaught.errors import ConfigError
from selftaught.settings import RULES

__all__ = ["AcceptanceRule", "Decision", "RULES", "make_rule"]


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
