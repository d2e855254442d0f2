"""The paper's rule: a candidate that fails (û = 0) is reverted; anything else is kept."""

from __future__ import annotations

from collections import Counter

from selftaught.acceptance.decision import Decision


class PaperRule:
    name = "paper"

    def decide(self, incumbent, candidate, candidate_score, meta) -> Decision:
        return zero_meta_utility(candidate_score) or Decision(True, "accepted (paper rule: û > 0)")


def zero_meta_utility(score) -> Decision | None:
    """A rejection when û = 0 (every run failed or scored nothing), naming the runs' statuses."""
    if score.val.mean > 0.0:
        return None
    statuses = Counter(run["status"] for run in score.runs)
    return Decision(False, "û = 0; runs: " + ", ".join(f"{k} x{n}" for k, n in statuses.most_common()))
