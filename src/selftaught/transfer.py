"""Transfer: how the seed improver and each self-improved I_t do on held-out tasks.

For every task, the paper's Table 1 columns: u(s), the seed program's score; û(I_0), the
mean score of what the seed improver makes of it; û(I_t) for each improved improver.
Reported on the `test` split (val steers the improvers' own choices).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from selftaught.improve import Pools
from selftaught.lm.client import LanguageModelClient
from selftaught.meta import MetaSettings, MetaUtility
from selftaught.runs.journal import Journal
from selftaught.tasks.task import Task
from selftaught.utility import ScoreMemo


@dataclass(frozen=True)
class TransferRow:
    task: str
    seed_program: float  # u(s) on test
    improvers: dict[str, float]  # label (I_0, I_1, ...) -> û on test
    improvers_std: dict[str, float]


def transfer(improvers: Sequence[tuple[str, str]], tasks: Sequence[Task], pools: Pools,
             lm: LanguageModelClient, settings: MetaSettings, memo: ScoreMemo,
             journal: Journal) -> list[TransferRow]:
    rows = []
    for task in tasks:
        seed = memo.evaluation(task, task.seed_program, "test", pools.programs).score
        meta = MetaUtility([task], pools, lm, settings, memo, journal)
        scores = {label: meta.score(source) for label, source in improvers}
        rows.append(TransferRow(task.name, seed, {k: v.test for k, v in scores.items()},
                                {k: v.test_std for k, v in scores.items()}))
        journal.record("transfer_row", task.name, seed_program=seed, improvers=rows[-1].improvers,
                       improvers_std=rows[-1].improvers_std)
    return rows
