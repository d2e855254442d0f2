"""The meta-utility û(I): how good an improver is at improving programs.

û(I) runs improver I on each downstream task `n_tests` times, each run from the task's seed
program with a fresh language-model budget and a fresh utility budget, and averages the
`val` score of what it returns (a failed run scores 0). The same runs are also scored on
`test`, for reporting only. Every run is journalled, so a resumed run repeats none.
"""

from __future__ import annotations

import statistics
import threading
from dataclasses import dataclass, field
from typing import Sequence

from selftaught.ids import program_id
from selftaught.improve import ImproverLimits, Pools, run_improver
from selftaught.lm.client import LanguageModelClient
from selftaught.runs.journal import Journal
from selftaught.tasks.task import Task
from selftaught.utility import BudgetedUtility, ScoreMemo, task_utility

GREY_BOX = '''def meta_utility(improve_str: str) -> float:
    """Scores an improver: the mean downstream utility of the programs it produces.

    improve_str must define improve_algorithm(initial_solution, utility, language_model) and
    return the improved program as a string. The evaluation harness provides the tasks
    ({task_names}; each has a seed program `algorithm_str` and its `utility`) and
    `LanguageModel`; improve_str receives them as arguments and cannot import them.
    This meta-utility can be called {budget} times.
    """
    n_tests = {n_tests}
    expected_utility = 0.0
    for task in [{task_names}]:
        for _ in range(n_tests):
            # A fresh utility (at most {utility_budget} calls) and a fresh language model (at
            # most {max_calls} calls of at most {max_responses} responses each) for every run.
            # The run happens in a sandbox and is stopped after {time_limit:g} s.
            utility = task.utility
            language_model = LanguageModel(budget={max_calls})
            improved_algorithm_str = improve_algorithm(task.algorithm_str, utility, language_model)
            expected_utility += utility(improved_algorithm_str) / (n_tests * {n_tasks})  # failure: 0
    return expected_utility
'''


@dataclass(frozen=True)
class MetaSettings:
    n_tests: int = 5  # the paper's setting
    limits: ImproverLimits = field(default_factory=ImproverLimits)
    budget: int = 25  # calls to û allowed to one improver-of-improvers run


@dataclass(frozen=True)
class MetaScore:
    improver_id: str
    val: float
    val_std: float
    test: float
    test_std: float
    runs: tuple[dict, ...]  # one journal event per improver run


class MetaUtility:
    def __init__(self, tasks: Sequence[Task], pools: Pools, lm: LanguageModelClient,
                 settings: MetaSettings, memo: ScoreMemo, journal: Journal) -> None:
        self.tasks, self.pools, self.lm = list(tasks), pools, lm
        self.settings, self.memo, self.journal = settings, memo, journal
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    @property
    def description(self) -> str:
        s, limits = self.settings, self.settings.limits
        return GREY_BOX.format(
            task_names=", ".join(t.name for t in self.tasks), n_tasks=len(self.tasks),
            budget=s.budget, n_tests=s.n_tests, utility_budget=limits.utility_budget,
            max_calls=limits.lm_budget.max_calls, max_responses=limits.lm_budget.max_responses_per_call,
            time_limit=limits.time_limit_s,
        )

    def score(self, improver: str) -> MetaScore:
        """û on val (and test) of one improver; journalled, so each run happens once per run dir."""
        iid = program_id(improver)
        key = f"{iid}@{'+'.join(t.name for t in self.tasks)}"
        with self._locks_lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # an improver may score one candidate from several threads: run it once
            return self._score(improver, iid, key)

    def _score(self, improver: str, iid: str, key: str) -> MetaScore:
        recorded = self.journal.get("meta_score", key)
        if recorded:
            return MetaScore(iid, recorded["val"], recorded["val_std"], recorded["test"],
                             recorded["test_std"], tuple(recorded["runs"]))
        runs = [self._run(improver, task, i) for task in self.tasks for i in range(self.settings.n_tests)]
        vals, tests = [r["val"] for r in runs], [r["test"] for r in runs]
        result = MetaScore(iid, statistics.fmean(vals), _std(vals), statistics.fmean(tests), _std(tests),
                           tuple(runs))
        self.journal.record("meta_score", key, improver=iid, val=result.val, val_std=result.val_std, test=result.test,
                            test_std=result.test_std, runs=list(runs))
        return result

    def as_utility(self) -> BudgetedUtility:
        """û as the budgeted utility an improver-of-improvers receives."""
        return BudgetedUtility(lambda improver: self.score(improver).val, self.description, self.settings.budget)

    def _run(self, improver: str, task: Task, index: int) -> dict:
        key = f"{program_id(improver)}/{task.name}/{index}"
        return attempt(improver, task, key, self.pools, self.lm, self.memo, self.journal, self.settings.limits,
                       index=index)


def attempt(improver: str, task: Task, key: str, pools: Pools, lm: LanguageModelClient, memo: ScoreMemo,
            journal: Journal, limits: ImproverLimits, kind: str = "improver_run", **extra: object) -> dict:
    """One downstream improvement, u(I(u, s, L)): the improver on the task's seed program with
    fresh budgets, what it returns scored on val and test. Journalled under (kind, key), so a
    resumed run does it once; `key` also names its sample stream, so it replays the same samples."""
    recorded = journal.get(kind, key)
    if recorded:
        return recorded
    journal.record(f"{kind}_started", key=None, run=key)
    utility = task_utility(task, pools.programs, memo, "val", limits.utility_budget)
    result = run_improver(pools.improvers, improver, task.seed_program, utility,
                          lm.with_fresh_budget(limits.lm_budget, stream=key), limits)
    val = test = 0.0
    if result.solution is not None:
        val = memo.evaluation(task, result.solution, "val", pools.programs).score
        test = memo.evaluation(task, result.solution, "test", pools.programs).score
    return journal.record(
        kind, key, improver=program_id(improver), task=task.name, status=result.status,
        solution=program_id(result.solution) if result.solution is not None else None,
        solution_source=result.solution, val=val, test=test, lm_calls=result.lm_calls,
        utility_calls=result.utility_calls, wall_time_s=round(result.wall_time_s, 3),
        diagnostics=result.diagnostics, static_flags=list(result.static_flags),
        runtime_events=list(result.runtime_events), blocked=result.blocked, **extra,
    )


def _std(values: list[float]) -> float:
    return statistics.pstdev(values) if len(values) > 1 else 0.0
