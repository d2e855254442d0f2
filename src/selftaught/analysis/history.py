"""What a run measured, step by step: û per self-improvement iteration with intervals, the
candidates scored in each step, LM usage per step, the transfer table with intervals, and an
improve run's before and after. Built from the journal and the usage log alone."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Iterable

from selftaught.analysis.rundata import IMPROVER_RUN_KINDS, RunData, number
from selftaught.analysis.stats import interval_from_summary, score_interval
from selftaught.runs.events import ITERATION, ITERATION_STARTED, Iteration, MetaScore, event_time, meta_scores, sittings
from selftaught.ids import program_id
from selftaught.stats import Interval


@dataclass(frozen=True)
class Usage:
    calls: int = 0
    responses: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0


@dataclass(frozen=True)
class ImproverScore:
    """û of one improver: mean over its downstream runs, with 95% t intervals."""

    improver: str
    val: Interval
    test: Interval
    statuses: dict[str, int]
    run_vals: tuple[float, ...]


@dataclass(frozen=True)
class Step:
    """Self-improvement step t (t = 0: scoring the seed improver I_0)."""

    t: int
    improver: str  # I_t
    parent: str | None  # I_{t-1}
    candidate: str | None  # what I_{t-1} returned
    accepted: bool
    reason: str
    score: ImproverScore | None  # û(I_t)
    candidates: tuple[ImproverScore, ...]  # every improver û scored during the step
    usage: Usage
    wall_time_s: float


@dataclass(frozen=True)
class TransferRow:
    task: str
    seed_program: float  # u(s) on test
    cells: dict[str, Interval]  # I_t label -> û(I_t) on test
    usage: Usage
    versus: dict[str, Interval] = field(default_factory=dict)  # label -> paired û(I_t) - û(I_0), if logged


@dataclass(frozen=True)
class FinalComparison:
    """I_T against I_0 on fresh paired runs that neither the improvers nor the acceptance saw."""

    improver: str
    seed: str
    split: str
    final: Interval
    first: Interval
    difference: Interval
    wins: int
    losses: int


@dataclass(frozen=True)
class ImproveOutcome:
    task: str
    seed_val: float | None
    seed_test: float | None
    status: str
    solution: str | None
    val: float
    test: float
    usage: Usage


def usage_of(records: Iterable[dict]) -> Usage:
    records = list(records)
    return Usage(len(records), int(sum(number(r.get("n_responses"), 1) for r in records)),
                 int(sum(number(r.get("n_cached")) for r in records)),
                 int(sum(number(r.get("prompt_tokens")) for r in records)),
                 int(sum(number(r.get("completion_tokens")) for r in records)),
                 sum(number(r.get("latency_s")) for r in records))


def split_usage(run: RunData, starts: list[float]) -> list[Usage]:
    """Usage per window: window i holds the calls logged from starts[i] up to starts[i + 1];
    calls before starts[0] go to the first window."""
    buckets: list[list[dict]] = [[] for _ in starts] or [[]]
    for record in run.usage:
        ts = number(record.get("ts"), float("-inf"))
        buckets[max(0, bisect.bisect_right(starts, ts) - 1)].append(record)
    return [usage_of(b) for b in buckets]


def improver_score(score: MetaScore) -> ImproverScore:
    runs = score.improver_runs
    statuses: dict[str, int] = {}
    for r in runs:
        statuses[r.status or "?"] = statuses.get(r.status or "?", 0) + 1
    return ImproverScore(score.improver or "?", _interval(score, "val"), _interval(score, "test"),
                         statuses, tuple(r.val for r in runs))


def _interval(score: MetaScore, split: str) -> Interval:
    mean, runs = getattr(score, split), score.improver_runs
    given = explicit_interval(getattr(score, f"{split}_ci"), mean, len(runs))
    if given is not None:
        return given
    if runs:
        return score_interval([getattr(r, split) for r in runs])
    # journals before intervals: from the mean's spread over n runs (n unknown: one)
    return interval_from_summary(mean, getattr(score, f"{split}_std"), score.n if score.n is not None else 1)


def explicit_interval(value: object, mean: float, n: int) -> Interval | None:
    """An interval a newer journal wrote itself: [lo, hi], or an object with lo/hi (or low/high),
    and optionally its own mean and n."""
    if isinstance(value, dict):
        mean = number(value.get("mean"), mean)
        n = int(number(value.get("n"), n))
        value = [value.get("lo", value.get("low")), value.get("hi", value.get("high"))]
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return Interval(mean, float(value[0]), float(value[1]), n)
    return None


def self_improvement(run: RunData) -> list[Step]:
    events = list(run.events)
    scored = meta_scores(events)
    scores: dict[str, ImproverScore] = {}
    for score in scored:
        scores.setdefault(score.improver, improver_score(score))
    starts = {}
    for i, e in enumerate(events):
        if e.get("kind") == ITERATION_STARTED and isinstance(e.get("t"), int):
            starts.setdefault(e["t"], i)
    # positions in the journal: each step's window runs from its start to its iteration event
    ends = {e["t"]: i for i, e in enumerate(events) if e.get("kind") == ITERATION and isinstance(e.get("t"), int)}
    ts = sorted(ends)
    first = scored[0].improver if scored else ""
    seed = events[starts[1]].get("improver") if 1 in starts else first or None
    if seed is None:
        return []
    windows = [(0, 0, starts.get(ts[0], len(events)) if ts else len(events))]
    windows += [(t, starts.get(t, ends[t]), ends[t]) for t in ts]
    times = [event_time(events[lo]) if lo < len(events) else None for _, lo, _ in windows]
    times = [x if x is not None else float("-inf") for x in times]
    usage = split_usage(run, times)
    steps, current = [], str(seed)
    for (t, lo, hi), used in zip(windows, usage):
        window = events[lo:hi + 1]
        if t == 0:
            steps.append(Step(0, current, None, None, True, "seed improver", scores.get(current), (), used,
                              span(window)))
            continue
        it = Iteration.from_event(events[hi])
        parent = str(events[starts[t]].get("improver", current)) if t in starts else current
        seen = [score.improver for score in meta_scores(window)]
        seen += [str(e.get("improver") or e.get("candidate")) for e in run.of("candidate", "candidate_score")
                 if e.get("t") == t]
        if it.candidate:
            seen.append(it.candidate)
        candidates = tuple(scores[c] for c in dict.fromkeys(seen) if c in scores and c != parent)
        current = it.improver or current
        steps.append(Step(t, current, parent, it.candidate, it.accepted, it.reason, scores.get(current), candidates,
                          used, _step_wall(window if t in starts else [], it)))
    return steps


def _step_wall(window: list[dict], it: Iteration) -> float:
    """A step's working time: its window, from its start to its verdict, so the race is counted
    too. The iteration's own wall_time_s is the improver-of-improvers' run only (and on a resumed
    step, its replay), so it stands in only where an older journal has no step start."""
    return span(window) if window else (it.wall_time_s or 0.0)


def span(window: list[dict]) -> float:
    """The time a stretch of the journal worked: its sittings, not the time between them."""
    return sum(last - first for first, last in sittings(window))


def seed_scores(run: RunData) -> dict[str, tuple[float | None, float | None]]:
    """u(s), the seed program's val and test score, for each task of the run that scored it."""
    found = {}
    scores = {e.get("key"): number(e.get("score"), None) for e in run.of("evaluation")}  # one per key (load_run)
    for task, source in run.seed_programs().items():
        pid = program_id(source)
        val, test = scores.get(f"{task}/val/{pid}"), scores.get(f"{task}/test/{pid}")
        if val is not None or test is not None:
            found[task] = (val, test)
    return found


def transfer_rows(run: RunData) -> list[TransferRow]:
    events = list(run.events)
    last = {str(e.get("key")): i for i, e in enumerate(events) if e.get("kind") == "transfer_row"}
    rows_at = sorted(last.values())  # a resumed run writes its rows again: the last one counts
    streams = [r.get("stream") for r in run.usage]
    if streams and all(isinstance(s, str) and s.count("/") >= 1 for s in streams):
        # each call names its run's stream (<seed>/<task>/<index>): exact, even with cells in parallel
        usage = [usage_of(r for r in run.usage if r["stream"].split("/")[-2] == str(events[i].get("key")))
                 for i in rows_at]
    else:  # older logs: calls between one row and the next (right while cells ran one task at a time)
        times = [event_time(events[0]) or float("-inf") if events else float("-inf")]
        times += [event_time(events[i]) or float("-inf") for i in rows_at[:-1]]
        usage = split_usage(run, times) if rows_at else []
    n_tests = int(number(run.run_settings.get("n_tests"), 1))
    rows, lo = [], 0
    for index, used in zip(rows_at, usage):
        row = events[index]
        window = meta_scores(events[lo:index])
        means = row.get("improvers") if isinstance(row.get("improvers"), dict) else {}
        stds = row.get("improvers_std") if isinstance(row.get("improvers_std"), dict) else {}
        given = _mapping(row.get("intervals")) or _mapping(row.get("improvers_ci"))
        versus = {str(k): i for k, v in _mapping(row.get("versus_first")).items()
                  if (i := explicit_interval(v, 0.0, n_tests)) is not None}
        cells = {}
        for label, mean in means.items():
            mean, std = number(mean), number(stds.get(label))
            match = next((s for s in window if s.test == mean and s.test_std == std), None)
            cells[str(label)] = (explicit_interval(given.get(label), mean, n_tests)
                                 or (improver_score(match).test if match and match.runs else None)
                                 or interval_from_summary(mean, std, n_tests))
        rows.append(TransferRow(str(row.get("key", "?")), number(row.get("seed_program")), cells, used, versus))
        lo = index + 1
    return rows


def _mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def final_comparison(run: RunData) -> FinalComparison | None:
    """The last I_T-versus-I_0 comparison a self-improve run journalled, if any."""
    event = next(iter(reversed(run.of("final_comparison"))), None)
    if event is None:
        return None
    parts = [explicit_interval(event.get(k), 0.0, 0) for k in ("a", "b", "difference")]
    if any(p is None for p in parts):
        return None
    return FinalComparison(str(event.get("improver", "?")), str(event.get("seed", "?")), str(event.get("split", "test")),
                           *parts, int(number(event.get("wins"))), int(number(event.get("losses"))))


def improve_outcome(run: RunData) -> ImproveOutcome | None:
    event = next(iter(run.of("improve")), None)
    if event is None:
        return None
    task = str(event.get("task", run.tasks[0] if run.tasks else "?"))
    seed = seed_scores(run).get(task, (None, None))
    return ImproveOutcome(task, seed[0], seed[1], str(event.get("status", "?")), event.get("solution"),
                          number(event.get("val")), number(event.get("test")), usage_of(run.usage))


def best_runs(run: RunData) -> dict[str, dict]:
    """The best downstream run (by test score) of each task, with what it returned."""
    best: dict[str, dict] = {}
    for e in run.of(*IMPROVER_RUN_KINDS):
        task = str(e.get("task", "?"))
        if e.get("solution_source") and (task not in best or number(e.get("test")) > number(best[task].get("test"))):
            best[task] = e
    return best
