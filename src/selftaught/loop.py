"""Recursive self-improvement: I_t = I_{t-1}(û, I_{t-1}, L).

Each iteration runs the current improver, in the sandbox, on its own source with the
meta-utility û as its utility. An improver that fails to load, crashes, returns nothing or
scores û = 0 is reverted to its predecessor, as in the paper. With `keep_incumbent`, a
candidate that scores below the current improver is rejected too (not the paper's default).
Every iteration is journalled; a resumed run continues where it stopped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from selftaught.ids import program_id
from selftaught.improve import ImproverLimits, Pools, run_improver
from selftaught.lm.client import LanguageModelClient
from selftaught.meta import MetaScore, MetaUtility
from selftaught.runs.rundir import RunDir


@dataclass(frozen=True)
class LoopSettings:
    iterations: int = 3
    keep_incumbent: bool = False  # the paper keeps whatever the improver returns (unless it fails)
    # The improver-of-improvers' own limits: û is its utility, so its run lasts many improver runs.
    limits: ImproverLimits = field(default_factory=lambda: ImproverLimits(time_limit_s=6 * 3600))


@dataclass(frozen=True)
class Iteration:
    t: int
    improver: str  # id of I_t
    candidate: str | None  # id of what I_{t-1} returned, if anything
    accepted: bool
    reason: str
    val: float  # û(I_t) on val
    test: float


def self_improve(seed: str, meta: MetaUtility, pools: Pools, lm: LanguageModelClient,
                 settings: LoopSettings, run: RunDir) -> list[Iteration]:
    """Run T iterations from `seed` (I_0); returns I_0..I_T as Iterations (t = 0 is the seed)."""
    current, score = seed, meta.score(seed)
    run.save_program(seed)
    run.write_result("improver_0.py", seed)
    history = [Iteration(0, program_id(seed), None, True, "seed improver", score.val, score.test)]
    for t in range(1, settings.iterations + 1):
        recorded = run.journal.get("iteration", str(t))
        if recorded is None:
            recorded = _iterate(t, current, score, meta, pools, lm, settings, run)
        if recorded["accepted"]:
            current = run.load_program(recorded["improver"])
            score = meta.score(current)
        history.append(Iteration(t, recorded["improver"], recorded["candidate"], recorded["accepted"],
                                 recorded["reason"], recorded["val"], recorded["test"]))
        run.write_result(f"improver_{t}.py", current)
    return history


def _iterate(t: int, current: str, score: MetaScore, meta: MetaUtility, pools: Pools,
             lm: LanguageModelClient, settings: LoopSettings, run: RunDir) -> dict:
    run.journal.record("iteration_started", key=None, t=t, improver=program_id(current))
    utility = meta.as_utility()
    limits = settings.limits
    result = run_improver(pools.improvers, current, current, utility,
                          lm.with_fresh_budget(limits.lm_budget, stream=f"iteration/{t}"), limits)
    candidate = result.solution
    if candidate is None:
        accepted, reason = False, f"improver run failed ({result.status}): {result.diagnostics[:200]}"
    else:
        run.save_program(candidate)
        cand_score = meta.score(candidate)
        if cand_score.val == 0.0:
            statuses = Counter(run["status"] for run in cand_score.runs)
            accepted, reason = False, "û = 0; runs: " + ", ".join(f"{k} x{n}" for k, n in statuses.most_common())
        elif settings.keep_incumbent and cand_score.val < score.val:
            accepted, reason = False, f"incumbent kept: û {cand_score.val:.3f} < {score.val:.3f}"
        else:
            accepted, reason = True, "accepted"
        if accepted:
            score = cand_score
    return run.journal.record(
        "iteration", str(t), t=t, accepted=accepted, reason=reason,
        improver=program_id(candidate) if accepted else program_id(current),
        candidate=program_id(candidate) if candidate is not None else None,
        val=score.val, test=score.test, status=result.status, lm_calls=result.lm_calls,
        meta_calls=result.utility_calls, wall_time_s=round(result.wall_time_s, 3),
        static_flags=list(result.static_flags), runtime_events=list(result.runtime_events),
        blocked=result.blocked,
    )
