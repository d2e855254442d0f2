"""What happened in a run, from its journal and usage log: the numbers `selftaught show`
prints and RESULTS.md reports."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from selftaught.runs.events import (
    SANDBOXED_IMPROVER_RUNS, Iteration, MetaScore, improver_runs, iterations, listed, meta_scores, sittings,
    was_blocked,
)


@dataclass(frozen=True)
class RunSummary:
    command: str
    wall_time_s: float  # first to last journalled event of each sitting, summed (not the time between sittings)
    sittings: int  # 1 + the times it was resumed
    lm_calls: int
    cached_calls: int  # LM calls answered entirely from the response cache (e.g. a replayed run)
    prompt_tokens: int
    completion_tokens: int
    improver_runs: int
    improver_statuses: dict[str, int]
    meta_scores: list[dict]  # {improver, label, tasks, val, val_std, test, val_ci, test_ci, n}
    iterations: list[Iteration]
    flags: dict[str, int]  # static telemetry flags over improver runs (circumvention attempts)
    blocked: int  # sandboxed improver runs (iterations too) the sandbox stopped for a forbidden action


def summarize(run: Path) -> RunSummary:
    from selftaught.analysis.rundata import load_run

    data = load_run(run)  # read-only: a live run's journal is never repaired under its writer
    events, usage = list(data.events), list(data.usage)
    runs = improver_runs(events)  # downstream runs, as the report and the progress bar count them (runs/events.py)
    sandboxed = [e for e in events if e.get("kind") in SANDBOXED_IMPROVER_RUNS]  # as the safety telemetry does
    flags = Counter(str(flag) for e in sandboxed for flag in listed(e.get("static_flags")))
    spans = sittings(events)
    labels = data.improver_labels()
    return RunSummary(
        command=data.kind,
        wall_time_s=sum(last - first for first, last in spans),
        sittings=max(1, len(spans)),
        lm_calls=len(usage),
        cached_calls=sum(1 for u in usage if u.get("n_responses") and u.get("n_cached") == u["n_responses"]),
        prompt_tokens=sum(u["prompt_tokens"] for u in usage),  # numbers: load_run made them so
        completion_tokens=sum(u["completion_tokens"] for u in usage),
        improver_runs=len(runs),
        improver_statuses=dict(Counter(r.status for r in runs)),
        meta_scores=[_meta_score(score, labels) for score in meta_scores(events)],
        iterations=iterations(events),
        flags=dict(flags),
        blocked=sum(1 for e in sandboxed if was_blocked(e)),  # as the safety telemetry counts them
    )


def _meta_score(score: MetaScore, labels: dict[str, str]) -> dict:
    """A meta_score event as `show` prints it, with 95% intervals recomputed from its runs (so
    journals that predate intervals show them too)."""
    from selftaught.stats import mean_interval

    shown: dict = {"improver": score.improver, "val": score.val, "val_std": score.val_std, "test": score.test}
    shown["label"] = labels.get(score.improver, "")
    shown["tasks"] = score.tasks
    runs = score.improver_runs
    for split in ("val", "test"):
        values = [getattr(r, split) for r in runs]
        interval = mean_interval(values, bounds=(0.0, 1.0)) if values else None
        shown[f"{split}_ci"] = [interval.lo, interval.hi] if interval else None
    shown["n"] = len(runs)
    return shown
