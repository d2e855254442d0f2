"""The kinds of events a run's journal holds, named once, so that every reader (`show`, `runs`,
the report, the progress bar, the safety telemetry) counts the same things.

A downstream run is one improver run on a task: the unit û averages, races pair and transfer
tables fill (`improver_run`), or the single run of `selftaught improve` (`improve`). An
iteration is the improver-of-improvers' run of one self-improvement step: sandboxed improver
code too, so the safety telemetry counts it as an attempt, but not a downstream run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

IMPROVER_RUN = "improver_run"
IMPROVE = "improve"
ITERATION = "iteration"
META_SCORE = "meta_score"
EVALUATION = "evaluation"
TRANSFER_ROW = "transfer_row"
ENGINE = "engine"  # which llama.cpp build served the run, and any fallback (lm/local/engines.py)

DOWNSTREAM_RUNS = (IMPROVER_RUN, IMPROVE)
SANDBOXED_IMPROVER_RUNS = DOWNSTREAM_RUNS + (ITERATION,)


def downstream_runs(events: Iterable[dict]) -> list[dict]:
    return [e for e in events if e.get("kind") in DOWNSTREAM_RUNS]


@dataclass(frozen=True)
class ImproverRun:
    """One downstream run as every reader sees it (work.perform writes the event): tolerant of
    fields older journals lack, so `show`, the report and the experiments read alike."""

    key: str
    improver: str  # program id
    task: str
    index: int
    status: str
    val: float
    test: float
    lm_calls: int = 0
    utility_calls: int = 0
    wall_time_s: float = 0.0
    completion_tokens: int = 0  # 0: journalled before improver runs counted their tokens
    solution: str | None = None  # program id of what it returned
    static_flags: tuple[str, ...] = ()
    blocked: str | None = None

    @classmethod
    def from_event(cls, event: dict) -> "ImproverRun":
        def number(key: str, kind: type = float) -> Any:
            value = event.get(key)
            return kind(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else kind(0)

        return cls(key=str(event.get("key", "")), improver=str(event.get("improver", "")),
                   task=str(event.get("task", "")), index=number("index", int), status=str(event.get("status", "")),
                   val=number("val"), test=number("test"), lm_calls=number("lm_calls", int),
                   utility_calls=number("utility_calls", int), wall_time_s=number("wall_time_s"),
                   completion_tokens=number("completion_tokens", int),
                   solution=event.get("solution") if isinstance(event.get("solution"), str) else None,
                   static_flags=tuple(str(f) for f in event.get("static_flags") or ()),
                   blocked=event.get("blocked") if isinstance(event.get("blocked"), str) else None)


def improver_runs(events: Iterable[dict]) -> list[ImproverRun]:
    """Every downstream run of a journal, typed."""
    return [ImproverRun.from_event(e) for e in downstream_runs(events)]
