"""The kinds of events a run's journal holds, named once, so that every reader (`show`, `runs`,
the report, the progress bar, the safety telemetry) counts the same things.

A downstream run is one improver run on a task: the unit û averages, races pair and transfer
tables fill (`improver_run`), or the single run of `selftaught improve` (`improve`). An
iteration is the improver-of-improvers' run of one self-improvement step: sandboxed improver
code too, so the safety telemetry counts it as an attempt, but not a downstream run.
"""

from __future__ import annotations

from typing import Iterable

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
