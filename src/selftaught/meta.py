"""The meta-utility û(I): how good an improver is at improving programs.

û(I) runs improver I on each downstream task `n_tests` times, each run from the task's seed
program with a fresh language-model budget and a fresh utility budget, and averages the
`val` score of what it returns (a failed run scores 0). The same runs are also scored on
`test`, for reporting only. Every run is journalled, so a resumed run repeats none.

Run i of task τ draws its LM samples from the stream (τ, i), whatever the improver: common
random numbers, so two improvers are compared on the same luck. Runs 0..n_tests-1 are the
ones û reports (and the improver-of-improvers sees); acceptance rules confirm a candidate on
later indices, which nobody has seen (see selftaught/acceptance).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from selftaught.ids import program_id
from selftaught.runs import events
from selftaught.work import RunSpec, attempt, task_ref
from selftaught.settings import RunSettings
from selftaught.stats import Interval, mean_interval
from selftaught.tasks.task import Task
from selftaught.utility import BudgetedUtility
from selftaught.session import Session


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
class MetaScore:
    improver_id: str
    val: Interval  # mean over the improver runs, with its 95% interval
    test: Interval
    runs: tuple[dict, ...]  # one journal event per improver run

    @classmethod
    def from_runs(cls, improver_id: str, runs: Sequence[dict]) -> MetaScore:
        return cls(improver_id, mean_interval([r["val"] for r in runs], bounds=(0.0, 1.0)),
                   mean_interval([r["test"] for r in runs], bounds=(0.0, 1.0)), tuple(runs))

    def to_json(self) -> dict:
        """The meta_score event's data (runs/events.py holds its shape)."""
        # val/test/val_std/test_std keep the journal readable by older readers
        return events.MetaScore(
            improver=self.improver_id, val=self.val.mean, test=self.test.mean,
            val_std=_std([r["val"] for r in self.runs]), test_std=_std([r["test"] for r in self.runs]),
            val_ci=(self.val.lo, self.val.hi), test_ci=(self.test.lo, self.test.hi), n=len(self.runs),
            runs=self.runs).to_event()


class MetaUtility:
    def __init__(self, session: Session, tasks: Sequence[Task], settings: RunSettings | None = None) -> None:
        # û reads n_tests, meta_budget and the improver runs' limits of the run settings
        self.session, self.tasks = session, list(tasks)
        self.settings = settings or session.settings

    @property
    def description(self) -> str:
        s, limits = self.settings, self.settings.improver_limits()
        return GREY_BOX.format(
            task_names=", ".join(t.name for t in self.tasks), n_tasks=len(self.tasks),
            budget=s.meta_budget, n_tests=s.n_tests, utility_budget=limits.utility_budget,
            max_calls=limits.lm_budget.max_calls, max_responses=limits.lm_budget.max_responses_per_call,
            time_limit=limits.time_limit_s,
        )

    def score(self, improver: str) -> MetaScore:
        """û on val (and test) of one improver: runs 0..n_tests-1 of every task. Journalled, so
        each improver is scored once per run directory, however many threads ask."""
        iid = program_id(improver)
        key = f"{iid}@{'+'.join(t.name for t in self.tasks)}"

        def compute() -> dict:
            units = [(improver, task, i) for task in self.tasks for i in range(self.settings.n_tests)]
            return MetaScore.from_runs(iid, self.runs(units)).to_json()

        recorded = events.MetaScore.from_event(self.session.journal.once(events.META_SCORE, key, compute))
        return MetaScore.from_runs(iid, recorded.runs)

    def spec(self, improver: str, task: Task, index: int) -> RunSpec:
        """Improver run `index` of `task`, with the LM samples of stream (task, index)."""
        return RunSpec("improver_run", f"{program_id(improver)}/{task.name}/{index}", improver,
                       task_ref(task), f"{task.name}/{index}", (("index", index),))

    def run(self, improver: str, task: Task, index: int) -> dict:
        return attempt(self.session, self.spec(improver, task, index), task)

    def runs(self, units: Sequence[tuple[str, Task, int]]) -> list[dict]:
        """Improver runs (improver, task, index), on the session's executor, results in order."""
        by_ref = {task_ref(task): task for _, task, _ in units}
        for improver, _, _ in units:
            self.session.run.save_program(improver)  # every candidate's source stays in the run
        return self.session.executor.perform(self.session, [self.spec(*unit) for unit in units], by_ref)

    def as_utility(self, feedback_on: str | None = None) -> BudgetedUtility:
        """û as the budgeted utility an improver-of-improvers receives. With `feedback_on` (an
        improver's source), its description also says how that improver's runs went."""
        description = self.description
        if feedback_on is not None:
            description += self.feedback(feedback_on)
        return BudgetedUtility(lambda improver: self.score(improver).val.mean, description, self.settings.meta_budget)

    def feedback(self, improver: str) -> str:
        """What happened in the improver's û runs, as comment lines for the LM: how often what
        it returned scored below the seed program it started from, and how runs failed."""
        memo, programs = self.session.memo, self.session.pools.programs
        seed_val = {t.name: memo.evaluation(t, t.seed_program, "val", programs).score for t in self.tasks}
        runs = self.score(improver).runs
        worse = sum(1 for r in runs if r["val"] < seed_val[r["task"]])
        failed = Counter(r["status"] for r in runs if r["status"] != "ok")
        lines = [f"# Observed for the current improve_algorithm over {len(runs)} runs:",
                 f"# - the returned program scored below the initial_solution it started from in {worse} "
                 f"of {len(runs)} runs (mean score {statistics.fmean(r['val'] for r in runs):.3f}; the "
                 f"initial solutions score {statistics.fmean(seed_val.values()):.3f})."]
        if failed:
            lines.append("# - runs that failed: " + ", ".join(f"{k} x{n}" for k, n in failed.most_common()))
        return "\n" + "\n".join(lines) + "\n"


def _std(values: list[float]) -> float:
    return statistics.pstdev(values) if len(values) > 1 else 0.0
