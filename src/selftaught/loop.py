"""Recursive self-improvement: I_t = I_{t-1}(û, I_{t-1}, L).

Each iteration runs the current improver, in the sandbox, on its own source with the
meta-utility û as its utility. An improver run that fails or returns nothing keeps the
incumbent; otherwise an acceptance rule (selftaught/acceptance) decides whether the candidate
replaces it: the paper's rule keeps anything with û > 0, `paired` demands evidence on fresh
paired runs. Every iteration is journalled; a resumed run continues where it stopped.

At the end, I_T is compared with I_0 on the test split, on paired runs that neither the
improvers nor the acceptance rule saw (`final_runs` per task), so the report says by how much
self-improvement helped, with an interval.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from selftaught.acceptance import make_rule
from selftaught.acceptance.paired import PairedComparison, compare
from selftaught.ids import program_id
from selftaught.runs import events
from selftaught.work import run_improver
from selftaught.meta import MetaUtility
from selftaught.settings import RunSettings
from selftaught.stats import Interval
from selftaught.session import Session



@dataclass(frozen=True)
class Iteration:
    t: int
    improver: str  # id of I_t
    candidate: str | None  # id of what I_{t-1} returned, if anything
    accepted: bool
    reason: str
    val: Interval  # û(I_t) on val
    test: Interval
    evidence: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SelfImprovement:
    """What `self_improve` returns: I_0..I_T, and I_T against I_0 on fresh test runs."""

    iterations: list[Iteration]
    final: PairedComparison | None  # None when final_runs = 0 or I_T is I_0
    run_dir: Path | None = None  # where improver_<t>.py and the journal are
    settings: RunSettings | None = None  # what the run computed with (a resumed run's own)
    seed_programs: dict[str, tuple[float, float]] = field(default_factory=dict)  # u(s) per task: (val, test)

    @property
    def improved(self) -> bool:
        """I_T beat I_0 on fresh paired test runs: the 95% interval of the difference is above 0."""
        return self.final is not None and self.final.difference.lo > 0

    def to_json(self) -> dict:
        return {
            "iterations": [{"t": it.t, "improver": it.improver, "candidate": it.candidate,
                            "accepted": it.accepted, "reason": it.reason, "val": it.val.to_json(),
                            "test": it.test.to_json(), "evidence": it.evidence} for it in self.iterations],
            "final": self.final.to_json() if self.final is not None else None,
            "improved": self.improved,
        }

    def save(self, directory: Path) -> Path:
        target = directory / "self_improvement.json"
        target.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        return target


def self_improve(session: Session, seed: str, meta: MetaUtility, settings: RunSettings) -> SelfImprovement:
    """Run T = settings.iterations iterations from `seed` (I_0)."""
    run = session.run
    current, score = seed, meta.score(seed)
    run.save_program(seed)
    run.write_result("improver_0.py", seed)
    history = [Iteration(0, program_id(seed), None, True, "seed improver", score.val, score.test)]
    for t in range(1, settings.iterations + 1):
        recorded = events.Iteration.from_event(session.journal.once(events.ITERATION, str(t), lambda: _iterate(
            session, t, current, meta, settings)))
        if recorded.accepted:
            current = run.load_program(recorded.improver)
        score = meta.score(current)
        history.append(Iteration(t, recorded.improver, recorded.candidate, recorded.accepted,
                                 recorded.reason, score.val, score.test, recorded.evidence))
        run.write_result(f"improver_{t}.py", current)
    final = None
    if settings.final_runs > 0 and current != seed:
        offset = settings.fresh_offset()
        final = compare(meta, current, seed, range(offset, offset + settings.final_runs), "test")
        session.journal.once("final_comparison", program_id(current), lambda: {
            "improver": program_id(current), "seed": program_id(seed), **final.to_json()})
    return SelfImprovement(history, final)


def _iterate(session: Session, t: int, current: str, meta: MetaUtility, settings: RunSettings) -> dict:
    session.journal.record(events.ITERATION_STARTED, key=None, t=t, improver=program_id(current))
    limits = settings.meta_limits(len(meta.tasks))
    utility = meta.as_utility(feedback_on=current if settings.meta_feedback else None)
    result = run_improver(session.pools.improvers, current, current, utility,
                          session.lm.with_fresh_budget(limits.lm_budget, stream=f"iteration/{t}"), limits)
    candidate, evidence = result.solution, {}
    if candidate is None:
        accepted, reason = False, f"improver run failed ({result.status}): {result.diagnostics[:200]}"
    elif candidate == current:
        accepted, reason = False, "the improver returned the incumbent unchanged"
    else:
        session.run.save_program(candidate)
        rule = make_rule(settings.accept, settings.race_first_runs, settings.race_max_runs)
        decision = rule.decide(current, candidate, meta.score(candidate), meta)
        accepted, reason, evidence = decision.accepted, decision.reason, decision.evidence
    kept = meta.score(candidate if accepted else current)  # û(I_t), for readers of the journal
    return events.Iteration(
        t=t, accepted=accepted, reason=reason, val=kept.val.mean, test=kept.test.mean,
        val_ci=(kept.val.lo, kept.val.hi), test_ci=(kept.test.lo, kept.test.hi),
        improver=program_id(candidate) if accepted else program_id(current),
        candidate=program_id(candidate) if candidate is not None else None,
        status=result.status, lm_calls=result.lm_calls,
        meta_calls=result.utility_calls, wall_time_s=round(result.wall_time_s, 3),
        static_flags=tuple(result.static_flags), runtime_events=tuple(result.runtime_events),
        blocked=result.blocked, evidence=evidence, rule=settings.accept,
    ).to_event()

