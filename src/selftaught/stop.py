"""The STOP recipe as a Python API: improve a task's program, self-improve the improver,
transfer improvers to new tasks. Each function works in a run directory and resumes from it.

    with open_session(run, lm_config, settings) as session:
        report = improve_task(session, load_task("fibonacci"), seed_improver())
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from selftaught.ids import program_id
from selftaught.improve import Pools, open_pools
from selftaught.lm import open_language_model
from selftaught.lm.client import LanguageModelClient
from selftaught.lm.config import LMConfig
from selftaught.lm.local.embedded import Progress
from selftaught.loop import Iteration, self_improve
from selftaught.meta import MetaUtility, attempt
from selftaught.runs.rundir import RunDir
from selftaught.settings import RunSettings
from selftaught.tasks.task import Task
from selftaught.transfer import TransferRow, transfer
from selftaught.utility import ScoreMemo


@dataclass(frozen=True)
class Session:
    run: RunDir
    settings: RunSettings
    pools: Pools
    lm: LanguageModelClient
    memo: ScoreMemo


@contextmanager
def open_session(run: RunDir, lm_config: LMConfig, settings: RunSettings, unsafe: bool = False,
                 progress: Progress | None = None) -> Iterator[Session]:
    with open_pools(settings.improver_slots, settings.program_slots, unsafe) as pools, \
            open_language_model(lm_config, usage_log=run.usage_log, progress=progress) as lm:
        runs_lm = lm.with_fresh_budget(stream=settings.sample_seed)  # every stream of the run nests here
        yield Session(run, settings, pools, runs_lm, ScoreMemo(run.journal))


def run_record(lm_config: LMConfig, settings: RunSettings, unsafe: bool, **extra: object) -> dict:
    """What config.json keeps about a run (no secrets: only the name of the key's variable)."""
    lm = dataclasses.asdict(lm_config)
    lm["budget"] = dataclasses.asdict(lm_config.budget)
    lm["cache"] = lm_config.cache.value
    return {"run": dataclasses.asdict(settings), "lm": lm, "unsafe_no_sandbox": unsafe, **extra}


@dataclass(frozen=True)
class ImproveReport:
    task: str
    seed_val: float
    seed_test: float
    status: str
    improved: str | None
    improved_val: float
    improved_test: float
    diagnostics: str
    wall_time_s: float


def improve_task(session: Session, task: Task, improver: str) -> ImproveReport:
    """One run of `improver` on the task's seed program, scored on val and test."""
    s, journal, memo, programs = session.settings, session.run.journal, session.memo, session.pools.programs
    seed_val = memo.evaluation(task, task.seed_program, "val", programs).score
    seed_test = memo.evaluation(task, task.seed_program, "test", programs).score
    recorded = attempt(improver, task, f"{program_id(improver)}/{task.name}", session.pools, session.lm, memo,
                       journal, s.improver_limits(), kind="improve")
    solution = recorded["solution_source"]
    if solution is not None:
        session.run.save_program(solution)
        session.run.write_result("improved_program.py", solution)
    return ImproveReport(task.name, seed_val, seed_test, recorded["status"], solution,
                         recorded["val"], recorded["test"], recorded["diagnostics"], recorded["wall_time_s"])


def meta_utility(session: Session, tasks: Sequence[Task]) -> MetaUtility:
    return MetaUtility(tasks, session.pools, session.lm, session.settings.meta(), session.memo,
                       session.run.journal)


def self_improvement(session: Session, tasks: Sequence[Task], seed: str) -> list[Iteration]:
    """I_0 = seed, then T steps of I_t = I_{t-1}(û, I_{t-1}, L); improver_t.py files in the run."""
    return self_improve(seed, meta_utility(session, tasks), session.pools, session.lm,
                        session.settings.loop(len(tasks)), session.run)


def transfer_improvers(session: Session, improvers: Sequence[tuple[str, str]],
                       tasks: Sequence[Task]) -> list[TransferRow]:
    return transfer(improvers, tasks, session.pools, session.lm, session.settings.meta(), session.memo,
                    session.run.journal)


def lm_config_from_record(record: dict) -> LMConfig:
    from selftaught.lm.config import from_sources

    values = dict(record)
    budget = values.pop("budget")
    return from_sources(None, **values, max_calls=budget["max_calls"],
                        max_responses_per_call=budget["max_responses_per_call"])


def improver_files(run: Path) -> list[Path]:
    """improver_0.py, improver_1.py, ... of a self-improve run, in order of t."""
    from selftaught.errors import ConfigError

    found = [p for p in run.glob("improver_*.py") if p.stem.split("_", 1)[1].isdigit()] if run.is_dir() else []
    if not found:
        raise ConfigError(f"{run} holds no improver_<t>.py files", "pass a self-improve run directory")
    return sorted(found, key=lambda p: int(p.stem.split("_", 1)[1]))


def load_improver(path: Path) -> str:
    """An improver from a .py file, or the last improver_<t>.py of a self-improve run."""
    from selftaught.errors import ConfigError

    if path.is_dir():
        path = improver_files(path)[-1]
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read improver {path}: {exc.strerror}", "pass an improver .py file") from None
