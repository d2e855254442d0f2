"""A transfer run's improvers ranked against its first (the reference, e.g. `paper`): the
leaderboard of issue 22 / experiment 3, read from the run's improver runs.

Pairs are (task, run index) that both the improver and the reference ran: under common random
numbers the same LM stream, so the difference is the improver's, not the samples' luck.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Iterable

from selftaught.analysis.history import seed_scores
from selftaught.analysis.rundata import RunData
from selftaught.analysis.stats import Rate, wilson
from selftaught.runs.events import IMPROVER_RUN, ImproverRun, improver_runs
from selftaught.stats import Interval, mean_interval


@dataclass(frozen=True)
class Standing:
    label: str
    runs: int
    versus_reference: Interval | None  # improver - reference on test, pooled over (task, index); None: the reference
    per_task: dict[str, Interval]  # the same per task
    never_worse: Rate  # runs whose output scored at least the seed program's u(s) on test (of those whose u(s) is known)
    below_seed: tuple[str, ...]  # tasks where its runs' mean output scored under u(s) on test
    seed_unknown: tuple[str, ...]  # tasks it ran whose u(s) the run has not journalled (a killed transfer)
    crashed: Rate  # runs whose status is not ok
    completion_tokens: float  # mean per run (0 for runs journalled before tokens were)
    wall_time_s: float  # mean per run


def paired_runs(run: RunData) -> tuple[list[str], dict[str, dict[tuple[str, int], ImproverRun]]]:
    """(labels in the run's order, the reference first; each label's runs by (task, index))."""
    labels = run.improver_labels()
    cells: dict[str, dict[tuple[str, int], ImproverRun]] = {}
    for r in improver_runs(run.of(IMPROVER_RUN)):
        if r.improver in labels:
            cells.setdefault(labels[r.improver], {})[(r.task, r.index)] = r
    return [label for label in dict.fromkeys(labels.values()) if label in cells], cells


def differences(run: RunData) -> dict[str, dict[tuple[str, int], float]]:
    """Each improver but the reference: its test score minus the reference's, by (task, index)."""
    order, cells = paired_runs(run)
    if not order:
        return {}
    reference = cells[order[0]]
    return {label: {k: r.test - reference[k].test for k, r in cells[label].items() if k in reference}
            for label in order[1:]}


def standings(run: RunData) -> list[Standing]:
    """The reference first, then the others by pooled paired difference, best first."""
    order, cells = paired_runs(run)
    if not order:
        return []
    pairs_of = differences(run)
    seed = seed_programs_on_test(run)

    def standing(label: str) -> Standing:
        pairs = pairs_of.get(label, {})
        by_task: dict[str, list[float]] = {}
        for (task, _), d in sorted(pairs.items()):
            by_task.setdefault(task, []).append(d)
        runs = list(cells[label].values())
        outputs: dict[str, list[float]] = {}
        for r in runs:
            outputs.setdefault(r.task, []).append(r.test)
        judged = [r for r in runs if r.task in seed]  # an unknown u(s) is no evidence either way
        return Standing(
            label=label, runs=len(runs),
            versus_reference=mean_interval(list(pairs.values())) if pairs else None,
            per_task={t: mean_interval(d) for t, d in by_task.items()},
            never_worse=wilson(sum(r.test >= seed[r.task] - 1e-9 for r in judged), len(judged)),
            below_seed=tuple(t for t, scores in sorted(outputs.items())
                             if t in seed and statistics.fmean(scores) < seed[t] - 1e-9),
            seed_unknown=tuple(t for t in sorted(outputs) if t not in seed),
            crashed=wilson(sum(r.status != "ok" for r in runs), len(runs)),
            completion_tokens=statistics.fmean(r.completion_tokens for r in runs),
            wall_time_s=statistics.fmean(r.wall_time_s for r in runs),
        )

    rest = sorted((standing(label) for label in order[1:]),
                  key=lambda s: s.versus_reference.mean if s.versus_reference else 0.0, reverse=True)
    return [standing(order[0])] + rest


def seed_programs_on_test(run: RunData) -> dict[str, float]:
    """u(s) on test per task: from the task's transfer row, else (a run killed before its rows)
    from the seed program's journalled test evaluation; tasks with neither are left out."""
    found = {task: test for task, (_, test) in seed_scores(run).items() if test is not None}
    found.update({str(e.get("key")): float(e["seed_program"]) for e in run.of("transfer_row")
                  if _is_score(e.get("seed_program"))})
    return found


def _is_score(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def clearly_above_zero(interval: Interval) -> bool:
    """The registered test: the paired 95% interval lies above 0. One pair has no interval; pairs
    that all agree give a t interval of zero width, which claims more than a few pairs show, so
    there the two-sided sign test decides: n equal positive pairs give p = 2^(1 - n), below 0.05
    from n = 6."""
    if interval.n < 2:
        return False
    if interval.hi - interval.lo < 1e-12:
        return interval.mean > 0 and 2.0 ** (1 - interval.n) < 1 - interval.confidence
    return interval.lo > 0


def better_default(board: list[Standing], tasks: Iterable[str]) -> Standing | None:
    """Issue 22's pre-registered decision (RESULTS.md, experiment 3): the improver that replaces
    the reference as the default of `selftaught improve`, if any. It must have been paired with
    the reference on every one of `tasks`, beat it pooled with the paired 95% interval above 0,
    and its mean output must score at least u(s) on every task (so u(s) must be known on every
    task). Of several, the one with the highest pooled difference (the board's order)."""
    wanted = set(tasks)
    return next((s for s in board[1:] if wanted <= set(s.per_task) and s.versus_reference is not None
                 and clearly_above_zero(s.versus_reference) and not s.below_seed and not s.seed_unknown), None)
