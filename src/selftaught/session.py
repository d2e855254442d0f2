"""A session: everything one run directory's work shares (run directory, settings, sandbox
pools, the run's language model, the score memo). Library functions take the session, not
its parts."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from selftaught.config import Config
from selftaught.executors import Executor, SerialExecutor, make_executor
from selftaught.work import Pools, open_pools
from selftaught.lm import open_language_model
from selftaught.lm.client import LanguageModelClient
from selftaught.lm.local.embedded import Progress
from selftaught.runs.journal import Journal
from selftaught.runs.rundir import RunDir
from selftaught.settings import RunSettings
from selftaught.utility import ScoreMemo


@dataclass(frozen=True)
class Session:
    """A Workplace (improve.py) for executors, and everything else a run's algorithms share."""

    run: RunDir
    settings: RunSettings
    pools: Pools
    lm: LanguageModelClient
    memo: ScoreMemo
    executor: Executor = field(default_factory=SerialExecutor)

    @property
    def journal(self) -> Journal:
        return self.run.journal


@contextmanager
def open_session(run: RunDir, config: Config, progress: Progress | None = None) -> Iterator[Session]:
    settings, placement = config.run, config.placement
    executor = make_executor(placement)
    replicas = None
    try:
        lm_config = config.lm
        if placement.lm_replicas:  # engines on the cluster's nodes; this client spreads requests over them
            replicas = executor.start_replicas(config.lm, config.session_budget().max_responses_per_call,  # type: ignore[attr-defined]
                                               placement.lm_replicas)
            lm_config = replicas.lm_config(config.lm)
        with open_pools(placement.improver_slots, placement.program_slots, config.unsafe) as pools, \
                open_language_model(lm_config, config.session_budget(), run.usage_log, progress) as lm:
            served = getattr(lm.backend, "served", None)
            if served is not None:  # which llama.cpp build served, and why (a fallback on this CPU)
                run.journal.record("engine", **served.to_json())
            runs_lm = lm.with_fresh_budget(stream=settings.sample_seed)  # every stream of the run nests here
            yield Session(run, settings, pools, runs_lm, ScoreMemo(run.journal, run.instance_secret), executor)
    finally:
        if replicas is not None:
            replicas.stop()
        executor.close()
