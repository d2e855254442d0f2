"""A transfer run's improvers ranked against its first (the reference, e.g. `paper`): the
leaderboard of issue 22 / experiment 3, read from the run's improver runs.

Pairs are (task, run index) that both the improver and the reference ran: under common random
numbers the same LM stream, so the difference is the improver's, not the samples' luck.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from selftaught.analysis.rundata import RunData, number
from selftaught.analysis.stats import Rate, wilson
from selftaught.runs.events import IMPROVER_RUN
from selftaught.stats import Interval, mean_interval


@dataclass(frozen=True)
class Standing:
    label: str
    runs: int
    versus_reference: Interval | None  # improver - reference on test, pooled over (task, index); None: the reference
    per_task: dict[str, Interval]  # the same per task
    never_worse: Rate  # runs whose output scored at least the seed program's u(s) on test
    crashed: Rate  # runs whose status is not ok
    completion_tokens: float  # mean per run (0 for runs journalled before tokens were)
    wall_time_s: float  # mean per run


def standings(run: RunData) -> list[Standing]:
    """The reference first, then the others by pooled paired difference, best first."""
    labels = run.improver_labels()
    seed = {str(e.get("key")): number(e.get("seed_program")) for e in run.of("transfer_row")}
    cells: dict[str, dict[tuple[str, int], dict]] = {}
    for e in run.of(IMPROVER_RUN):
        label = labels.get(str(e.get("improver")))
        if label is not None:
            cells.setdefault(label, {})[(str(e.get("task")), int(number(e.get("index"))))] = e
    order = [label for label in dict.fromkeys(labels.values()) if label in cells]
    if not order:
        return []
    reference = cells[order[0]]

    def standing(label: str) -> Standing:
        mine = cells[label]
        pairs = {k: number(e.get("test")) - number(reference[k].get("test")) for k, e in mine.items() if k in reference}
        by_task: dict[str, list[float]] = {}
        for (task, _), d in sorted(pairs.items()):
            by_task.setdefault(task, []).append(d)
        events = list(mine.values())
        return Standing(
            label=label, runs=len(events),
            versus_reference=None if label == order[0] or not pairs else mean_interval(list(pairs.values())),
            per_task={} if label == order[0] else {t: mean_interval(d) for t, d in by_task.items()},
            never_worse=wilson(sum(number(e.get("test")) >= seed.get(str(e.get("task")), 0.0) - 1e-9 for e in events),
                               len(events)),
            crashed=wilson(sum(e.get("status") != "ok" for e in events), len(events)),
            completion_tokens=statistics.fmean(number(e.get("completion_tokens")) for e in events),
            wall_time_s=statistics.fmean(number(e.get("wall_time_s")) for e in events),
        )

    rest = sorted((standing(label) for label in order[1:]),
                  key=lambda s: s.versus_reference.mean if s.versus_reference else 0.0, reverse=True)
    return [standing(order[0])] + rest
