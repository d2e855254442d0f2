"""Run one improver, I(u, s, L), inside the sandbox, and one downstream improvement,
u(I(u, s, L)), the unit that the meta-utility, `improve` and transfer all count.

The improver gets proxies; their calls come back here, to `lm_handler` and the utility,
which enforce the budgets in the host. This module is the only place that wires the three.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Protocol

from selftaught.errors import CacheMiss, EndpointError, EngineError
from selftaught.improvers import ENTRY_POINT, helpers_modules
from selftaught.lm.client import LanguageModelClient
from selftaught.runs.journal import Journal
from selftaught.sandbox.config import SandboxConfig
from selftaught.sandbox.host import SandboxPool
from selftaught.settings import ImproverLimits, RunSettings
from selftaught.tasks.task import Task
from selftaught.utility import BudgetedUtility, ScoreMemo

__all__ = ["ImproverLimits", "Pools", "RunSpec", "Workplace", "attempt", "open_pools", "perform", "run_improver"]


@dataclass(frozen=True)
class Pools:
    """Two sandbox pools, so that nested work cannot deadlock: improvers (in `improvers`) wait
    for program evaluations (in `programs`), and programs never wait for anything."""

    improvers: SandboxPool
    programs: SandboxPool


@contextmanager
def open_pools(improver_slots: int = 2, program_slots: int = 2, unsafe: bool = False) -> Iterator[Pools]:
    helpers = helpers_modules()
    with SandboxPool(SandboxConfig(slots=program_slots, unsafe=unsafe)) as programs, \
            SandboxPool(SandboxConfig(slots=improver_slots, unsafe=unsafe, helper_modules=helpers)) as improvers:
        yield Pools(improvers=improvers, programs=programs)


@dataclass(frozen=True)
class ImprovementResult:
    status: str  # the sandbox Outcome's status; "ok" means a string came back
    solution: str | None
    diagnostics: str
    lm_calls: int
    utility_calls: int
    wall_time_s: float
    static_flags: tuple[str, ...]
    runtime_events: tuple[str, ...]
    blocked: str | None
    completion_tokens: int = 0  # of every answer the improver received, cached or decoded


def lm_handler(lm: LanguageModelClient) -> Callable[[str, dict], Any]:
    """Turn proxy requests from inside the sandbox into budgeted calls on `lm`."""

    def handle(method: str, kwargs: dict) -> list[str]:
        expertise = kwargs.get("expertise", "")
        temperature = kwargs.get("temperature")
        if not isinstance(expertise, str) or not (temperature is None or isinstance(temperature, (int, float))):
            raise TypeError("expertise must be a string and temperature a number")
        if method == "batch_prompt":
            messages = kwargs.get("messages")
            if isinstance(messages, str):
                messages = [messages]
            if not isinstance(messages, list) or not all(isinstance(m, str) for m in messages):
                raise TypeError("batch_prompt(expertise, messages, temperature): messages must be a list of strings")
            return lm.batch_prompt(expertise, messages, temperature)
        if method == "prompt":
            message, n = kwargs.get("message"), kwargs.get("n_responses", 1)
            if not isinstance(message, str) or not isinstance(n, int) or n < 1:
                raise TypeError("prompt(expertise, message, n_responses, temperature): message must be a "
                                "string and n_responses a positive integer")
            return lm.prompt(expertise, message, n, temperature)
        raise TypeError(f"the language model has no method {method!r}; use batch_prompt or prompt")

    return handle


# What one improver run may add to the run's journal: its own event (the returned program, at
# most SandboxConfig.max_program_bytes = 256 KiB, diagnostics 4 KB, 64 runtime events) and one
# evaluation per program it scored (utility budget x instances x utility.DIAGNOSTICS_KEPT bytes
# of diagnostics each): under 0.9 MiB for the paper's budget of 25 on a 50-instance task.
# Failures of the machinery, not of the improver: they must stop the run, not score 0.
# A RequestError (the endpoint refused the improver's own request, e.g. a prompt longer than
# the context window) is not one: the improver sees it as an exception, and the run goes on.
INFRASTRUCTURE_ERRORS = (EngineError, EndpointError, CacheMiss)


def run_improver(pool: SandboxPool, improver: str, initial_solution: str, utility: BudgetedUtility,
                 lm: LanguageModelClient, limits: ImproverLimits) -> ImprovementResult:
    """Raises an infrastructure error (engine crashed, endpoint down, replay miss) that happened
    in one of the improver's proxy calls, once the improver has stopped."""
    started = time.perf_counter()
    budget = lm.budget.budget
    failures: list[Exception] = []

    def guarded(handler: Callable) -> Callable:
        def call(*args: Any) -> Any:
            try:
                return handler(*args)
            except INFRASTRUCTURE_ERRORS as exc:
                failures.append(exc)  # the improver sees a HostError; the run is then stopped
                raise

        return call

    outcome = pool.run_improver(
        improver, initial_solution, guarded(utility), utility.description, guarded(lm_handler(lm)),
        limits.time_limit_s, entry_point=ENTRY_POINT, memory_limit_mb=limits.memory_limit_mb,
        utility_attributes={"budget": utility.budget, "uses": 0},
        lm_attributes={"budget": budget.max_calls, "max_responses_per_call": budget.max_responses_per_call},
        failure_handler=guarded(utility.failure),
    )
    lm.cancel()  # requests the improver left running (e.g. in its own threads) stop here
    utility.cancel()  # ...and so does scoring it left running: the next evaluation's slots are free
    if failures:
        raise failures[0]
    status, solution, diagnostics = outcome.status, outcome.value if outcome.ok else None, outcome.diagnostics
    size = len(solution.encode("utf-8", "surrogatepass")) if isinstance(solution, str) else 0
    if size > pool.config.max_program_bytes:
        # It could not be scored (the sandbox refuses such text unread), and the journal keeps
        # what a run returns: past the cap, neither holds it (the journal cap above).
        status, solution = "bad_output", None
        diagnostics = (f"the improver returned a program of {size:,} bytes; a program may have at most "
                       f"{pool.config.max_program_bytes:,}")
    return ImprovementResult(
        status=status, solution=solution,
        diagnostics=diagnostics[:4000], lm_calls=lm.budget.calls_used,
        utility_calls=utility.calls, wall_time_s=time.perf_counter() - started,
        static_flags=tuple(outcome.telemetry.static_flags),
        runtime_events=tuple(outcome.telemetry.runtime_events), blocked=outcome.telemetry.blocked,
        completion_tokens=lm.completion_tokens,
    )


@dataclass(frozen=True)
class RunSpec:
    """One downstream improvement as plain data, so any executor (a thread here, a Ray task on
    another node) can perform it: which improver, on which task, journalled under which key,
    with the LM samples of which stream."""

    kind: str  # journal kind: improver_run, improve
    key: str  # journal key
    improver: str  # source
    task: str  # built-in name, or a task directory's absolute path (must exist where it runs)
    stream: str  # LM sample stream, nested in the run's
    extra: tuple[tuple[str, object], ...] = ()  # more fields for the journal event


def task_ref(task: Task) -> str:
    """How a RunSpec names a task: a built-in's name, or its directory's absolute path."""
    from selftaught.tasks.loader import builtin_dir

    return task.name if task.directory.parent == builtin_dir() else str(task.directory)


def perform(spec: RunSpec, task: Task, pools: Pools, lm: LanguageModelClient, memo: ScoreMemo,
            limits: ImproverLimits) -> dict:
    """u(I(u, s, L)): the improver on the task's seed program with fresh budgets, what it returns
    scored on val and test (a failed run scores 0). Returns the journal event's data. Runs
    wherever its arguments live; journalling is the caller's."""
    from selftaught.ids import program_id
    from selftaught.utility import task_utility

    programs = pools.programs
    utility = task_utility(task, programs, memo, "val", limits.utility_budget)
    result = run_improver(pools.improvers, spec.improver, task.seed_program, utility,
                          lm.with_fresh_budget(limits.lm_budget, stream=spec.stream), limits)
    val = test = 0.0
    if result.solution is not None:
        val = memo.evaluation(task, result.solution, "val", programs).score
        test = memo.evaluation(task, result.solution, "test", programs).score
    return dict(
        improver=program_id(spec.improver), task=task.name, status=result.status,
        solution=program_id(result.solution) if result.solution is not None else None,
        solution_source=result.solution, val=val, test=test, lm_calls=result.lm_calls,
        utility_calls=result.utility_calls, wall_time_s=round(result.wall_time_s, 3),
        completion_tokens=result.completion_tokens,
        diagnostics=result.diagnostics, static_flags=list(result.static_flags),
        runtime_events=list(result.runtime_events), blocked=result.blocked, **dict(spec.extra),
    )


class Workplace(Protocol):
    """What performing units needs of a run: where results are journalled, the run's LM, score
    memo, sandbox pools and settings. A Session is one; executors depend on this, not on it."""

    @property
    def journal(self) -> Journal: ...
    @property
    def lm(self) -> LanguageModelClient: ...
    @property
    def memo(self) -> ScoreMemo: ...
    @property
    def pools(self) -> Pools: ...
    @property
    def settings(self) -> RunSettings: ...


def attempt(session: Workplace, spec: RunSpec, task: Task) -> dict:
    """Perform `spec` in this process, once per run directory: journalled under (kind, key), so a
    resumed run, or a second thread asking for the same key, gets the recorded result.

    The meta-utility names the stream by task and run index, not by improver (common random
    numbers), so two improvers that send the same requests get the same samples and score the same."""

    def compute() -> dict:
        session.journal.record(f"{spec.kind}_started", key=None, run=spec.key)
        return perform(spec, task, session.pools, session.lm, session.memo, session.settings.improver_limits())

    return session.journal.once(spec.kind, spec.key, compute)
