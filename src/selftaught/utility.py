"""Utilities: score a program on a task through the sandbox, and the budgeted utility an
improver receives (the paper's `u`, with `u.str` and `u.budget`, and one extension:
`u.failure(program)`, why a program it scored failed)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Callable, TypeVar

from selftaught.errors import BudgetExceeded, Cancelled, ConfigError
from selftaught.failures import instance_account
from selftaught.ids import program_id
from selftaught.measure import measured
from selftaught.runs.journal import Journal
from selftaught.sandbox.host import SandboxPool
from selftaught.tasks.secret import InstanceSecret, rng_seed, user_secret
from selftaught.tasks.task import ScorerError, Task


T = TypeVar("T")
DIAGNOSTICS_KEPT = 500  # bytes of an instance's diagnostics an evaluation journals (work.py's cap)


@dataclass(frozen=True)
class InstanceResult:
    index: int
    seed: int  # the hidden instance seed (stays in the host)
    status: str
    score: float
    wall_time_s: float
    diagnostics: str
    static_flags: tuple[str, ...]
    blocked: str | None
    cpu_time_s: float = 0.0  # of the entry-point call: what the limit and speed terms use
    rng_seed: int | None = None  # of `random` and numpy inside the sandbox (None: older record)
    measurements: int = 1  # calls made; the least CPU time decided (measure.py)


@dataclass(frozen=True)
class Evaluation:
    task: str
    split: str
    score: float
    instances: tuple[InstanceResult, ...]
    unsafe: bool
    scorer_error: str | None = None  # why the task's finalize failed, when it did (the score is then 0)

    def to_json(self) -> dict:
        data = asdict(self)
        data["n_instances"] = len(self.instances)
        return data

    def failed_statuses(self) -> str:
        """The failed instances by status, most first: "crash on 3, timeout on 1" ("" if none)."""
        counts = Counter(i.status for i in self.instances if i.status != "ok")
        return ", ".join(f"{status} on {n}" for status, n in counts.most_common())

    @classmethod
    def from_json(cls, data: dict) -> "Evaluation":
        instances = tuple(
            InstanceResult(**{**i, "static_flags": tuple(i["static_flags"])}) for i in data["instances"]
        )
        return cls(data["task"], data["split"], data["score"], instances, data["unsafe"], data.get("scorer_error"))


def evaluate(task: Task, source: str, split: str, runner: SandboxPool,
             secret: InstanceSecret | None = None, stop: threading.Event | None = None) -> Evaluation:
    """Score `source` on every instance of a split, instances in parallel over the runner's
    slots. Hidden data (the secret, instances, expected outputs) never leaves this process.

    secret: the instance secret the split's seeds derive from; None uses this user's
    (tasks/secret.py), so scores stay comparable across runs on one machine.
    stop: once set (the improver that asked has returned), no further instance starts and the
    evaluation raises Cancelled: nothing is journalled, the sandbox slots go to the next work."""
    seeds = task.instance_seeds(split, secret or user_secret())
    program = program_id(source)

    def run_one(index: int) -> tuple[InstanceResult, bool]:
        instance = _authored(task, "make_instance(seed)", lambda: task.make_instance(seeds[index]))
        arguments = _authored(task, "arguments(instance)", lambda: task.arguments(instance))
        rng = rng_seed(seeds[index], program)
        def call():
            if stop is not None and stop.is_set():
                raise Cancelled("the improver run that asked for this score has ended", "nothing to do")
            return runner.call(source, task.entry_point, arguments,
                               time_limit_s=task.time_limit_s, memory_limit_mb=task.memory_limit_mb,
                               module_time_limit_s=task.module_time_limit_s, rng_seed=rng)

        outcome, measurements = measured(call, task.time_limit_s, task.speed_scored)
        status, score, diagnostics = outcome.status, 0.0, outcome.diagnostics
        if outcome.ok:
            try:
                score = task.score(instance, outcome)
            except ScorerError as exc:  # it returned something that is not a score
                status, diagnostics = "scorer_error", f"the task's {exc}"
            except Exception as exc:  # a scorer surprised by an output must not end the run
                status, diagnostics = "scorer_error", f"the task's scorer raised {type(exc).__name__}: {exc}"
        return InstanceResult(
            index=index, seed=seeds[index], status=status, score=score,
            wall_time_s=round(outcome.wall_time_s, 6), diagnostics=diagnostics[:DIAGNOSTICS_KEPT],
            static_flags=tuple(outcome.telemetry.static_flags), blocked=outcome.telemetry.blocked,
            cpu_time_s=round(outcome.cpu_time_s, 6), rng_seed=rng, measurements=measurements,
        ), outcome.unsafe

    with ThreadPoolExecutor(max_workers=runner.config.slots) as pool:
        results = list(pool.map(run_one, range(len(seeds))))
    instances = tuple(r for r, _ in results)
    scorer_error = None
    try:
        score = task.finalize([r.score for r in instances], source)
    except Exception as exc:  # as for score(): the run goes on, and the evaluation says why it is 0
        why = str(exc) if isinstance(exc, ScorerError) else f"finalize() raised {type(exc).__name__}: {exc}"
        score, scorer_error = 0.0, f"the task's {why}"[:DIAGNOSTICS_KEPT]
    return Evaluation(task.name, split, score, instances, any(u for _, u in results), scorer_error)


def _authored(task: Task, call: str, make: Callable[[], T]) -> T:
    """A step of the task's scorer that does not depend on the program (an instance, its
    arguments): an error there is the task's, the same for every program, so it stops the run
    with a message for the task's author instead of scoring every program 0."""
    try:
        return make()
    except Exception as exc:
        raise ConfigError(f"{task.directory / 'scorer.py'}: {call} raised {type(exc).__name__}: {exc}",
                          f"fix {call.split('(')[0]} in the task's scorer.py; `selftaught evaluate "
                          f"{task.directory} --program {task.directory / 'seed.py'}` reproduces it") from exc


class BudgetedUtility:
    """A utility as an improver receives it (the paper's `u`): u(program) -> score, with a call
    budget (the paper's default is 25) and a description (`u.str`). Going over the budget
    raises BudgetExceeded, which reaches the improver inside the sandbox by name. Thread-safe:
    an improver's proxy calls arrive on several host threads."""

    def __init__(self, score: Callable[[str], float], description: str, budget: int,
                 explain: Callable[[str], str] | None = None) -> None:
        self._score, self.description, self.budget = score, description, budget
        self._explain = explain
        self.calls = 0
        self._scored: set[str] = set()
        self._lock = threading.Lock()
        # Set when the improver run ends: scoring it started stops before its next instance.
        self.stop = threading.Event()

    def cancel(self) -> None:
        self.stop.set()

    def __call__(self, solution: str) -> float:
        if not isinstance(solution, str):
            raise TypeError(f"the utility scores a program given as a string, not {type(solution).__name__}")
        with self._lock:
            if self.calls >= self.budget:
                raise BudgetExceeded(f"You have exceeded your utility budget of {self.budget} calls",
                                     "score fewer candidates")
            self.calls += 1
        score = self._score(solution)
        with self._lock:
            self._scored.add(solution)
        return score

    def failure(self, solution: str) -> str:
        """Why `solution` failed when this utility scored it: an extension of the paper's
        interface (`utility.failure(program)` inside the sandbox), so that an improver can send
        a failing program's error back to the model (the library's `repair`). It costs no utility
        call and runs nothing: it explains only programs this utility has scored (at most its
        budget of them), from their recorded evaluation. "" when there is nothing to tell: a
        perfect score, a program it has not scored, or a utility that cannot say."""
        if not isinstance(solution, str):
            raise TypeError(f"utility.failure explains a program given as a string, not {type(solution).__name__}")
        with self._lock:
            scored = solution in self._scored
        return self._explain(solution) if scored and self._explain is not None else ""


class ScoreMemo:
    """Scores by (task, split, program): a program is evaluated once per run, however often
    improvers propose it or threads ask, and, with a run's journal, once across a resumed run.
    `secret`: the run's instance secret (None: this user's; see evaluate)."""

    def __init__(self, journal: Journal | None = None, secret: InstanceSecret | None = None) -> None:
        self.journal = journal if journal is not None else Journal(None)
        self.secret = secret

    def recorded(self, task: Task, source: str, split: str) -> Evaluation | None:
        """The evaluation already made, if any; never evaluates."""
        recorded = self.journal.get("evaluation", f"{task.name}/{split}/{program_id(source)}")
        return Evaluation.from_json(recorded) if recorded is not None else None

    def evaluation(self, task: Task, source: str, split: str, pool: SandboxPool,
                   stop: threading.Event | None = None) -> Evaluation:
        key = f"{task.name}/{split}/{program_id(source)}"
        recorded = self.journal.once("evaluation", key,
                                     lambda: evaluate(task, source, split, pool, self.secret, stop).to_json())
        return Evaluation.from_json(recorded)


def task_utility(task: Task, pool: SandboxPool, memo: ScoreMemo, split: str = "val",
                 budget: int = 25) -> BudgetedUtility:
    """The utility an improver receives for `task`: scores on `split` (memoized) and the
    description the LM sees, with the note on where programs run (environment.py)."""
    from selftaught.environment import described_utility_text

    def explain(source: str) -> str:
        evaluation = memo.recorded(task, source, split)
        return failure_account(evaluation, source) if evaluation is not None else ""

    utility = BudgetedUtility(lambda source: memo.evaluation(task, source, split, pool, utility.stop).score,
                              described_utility_text(task), budget, explain)
    return utility


def failure_account(evaluation: Evaluation, source: str) -> str:
    """What `utility.failure` tells an improver about a scored program (selftaught.failures says
    what may pass): the statuses of the instances that failed, and the first failure in words;
    else how its answers scored; "" for a perfect score."""
    instances = evaluation.instances
    failed = [i for i in instances if i.status != "ok"]
    if evaluation.scorer_error:  # fixed words: a host error's text may hold hidden data (failures.py)
        return "the task's scorer could not score it as a whole (its finalize failed), so its score is 0"
    if not failed:
        if not instances or evaluation.score >= 1.0:
            return ""
        return (f"it ran on all {len(instances)} instances without an error, and its answers scored "
                f"{evaluation.score:.3f} of 1 (wrong or weak answers)")
    return (f"{evaluation.failed_statuses()} of {len(instances)} instances; the first failure: "
            f"{instance_account(failed[0].status, failed[0].diagnostics, source)}")
