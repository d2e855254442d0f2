"""Keep the incumbent unless the candidate's û is at least as high, on the runs û reports.

These are the runs the improver-of-improvers chose the candidate by, so a lucky candidate
passes more often than it should (the winner's curse); `paired` avoids that."""

from __future__ import annotations

from selftaught.acceptance.decision import Decision
from selftaught.acceptance.paper import zero_meta_utility


class KeepIncumbent:
    name = "incumbent"

    def decide(self, incumbent, candidate, candidate_score, meta) -> Decision:
        rejected = zero_meta_utility(candidate_score)
        if rejected:
            return rejected
        current = meta.score(incumbent)
        if candidate_score.val.mean < current.val.mean:
            return Decision(False, f"incumbent kept: û {candidate_score.val.mean:.3f} < {current.val.mean:.3f}")
        return Decision(True, f"accepted: û {candidate_score.val.mean:.3f} >= {current.val.mean:.3f}")
