"""The kinds of events a run's journal holds, named once, so that every reader (`show`, `runs`,
the report, the progress bar, the safety telemetry) counts the same things.

A downstream run is one improver run on a task: the unit û averages, races pair and transfer
tables fill (`improver_run`), or the single run of `selftaught improve` (`improve`). An
iteration is the improver-of-improvers' run of one self-improvement step: sandboxed improver
code too, so the safety telemetry counts it as an attempt, but not a downstream run.

The events readers pick fields from are typed here (ImproverRun, MetaScore, Iteration):
`from_event` reads every journal so far, with defaults for the fields older ones lack; where
one writer builds the event, `to_event` is what it journals, so its shape lives in one place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

IMPROVER_RUN = "improver_run"
IMPROVE = "improve"
ITERATION = "iteration"
ITERATION_STARTED = "iteration_started"  # no key: a resumed run writes it again for the step it resumes
META_SCORE = "meta_score"
EVALUATION = "evaluation"
TRANSFER_ROW = "transfer_row"
ENGINE = "engine"  # which llama.cpp build served the run, and any fallback (lm/local/engines.py)
RESUMED = "resumed"  # no key: each resume journals the placement the run continues with (api.open_run)

DOWNSTREAM_RUNS = (IMPROVER_RUN, IMPROVE)
SANDBOXED_IMPROVER_RUNS = DOWNSTREAM_RUNS + (ITERATION,)


def event_time(event: dict) -> float | None:
    # Journals written before "ts" used "t", which iteration events reuse for the iteration number.
    if isinstance(event.get("ts"), (int, float)):
        return float(event["ts"])
    if event.get("kind") not in (ITERATION, ITERATION_STARTED) and isinstance(event.get("t"), (int, float)):
        return float(event["t"])
    return None


def sittings(events: Iterable[dict]) -> list[tuple[float, float]]:
    """(first, last) journalled time of each sitting. A resume journals RESUMED first, so a
    sitting ends with the last event before it: a run stopped overnight did not work overnight."""
    spans: list[list[float]] = []
    for e in events:
        ts = event_time(e)
        if ts is None:
            continue
        if not spans or e.get("kind") == RESUMED:
            spans.append([ts, ts])
        spans[-1][1] = max(spans[-1][1], ts)
    return [(first, last) for first, last in spans]


def downstream_runs(events: Iterable[dict]) -> list[dict]:
    return [e for e in events if e.get("kind") in DOWNSTREAM_RUNS]


def was_blocked(event: dict) -> bool:
    """A sandboxed improver run (an iteration too) the sandbox stopped: `show` and the safety
    telemetry count these alike."""
    return bool(event.get("blocked")) or event.get("status") == "blocked"


def _optional(event: dict, key: str, kind: type = float) -> Any:
    """A numeric field some journals lack: None then, so a reader can fall back on something."""
    value = event.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    try:
        finite = math.isfinite(value)  # an int beyond a float raises here
    except OverflowError:
        return None
    return kind(value) if finite else None  # inf and nan: int() of them raises; neither is a count or a time


def _number(event: dict, key: str, kind: type = float) -> Any:
    """A numeric field of a journal event; 0 when missing or not a number (older journals)."""
    value = _optional(event, key, kind)
    return kind(0) if value is None else value


def _text(event: dict, key: str) -> str | None:
    value = event.get(key)
    return value if isinstance(value, str) else None


def _strings(event: dict, key: str) -> tuple[str, ...]:
    return tuple(str(v) for v in listed(event.get(key)))


def listed(value: object) -> list | tuple:
    """A journal field that should be a list: empty when damaged (null, a number, a string)."""
    return value if isinstance(value, (list, tuple)) else ()


def _pair(value: object) -> tuple[float, float] | None:
    """A journalled 95% interval: [lo, hi], or an object with lo/hi (or low/high); None when
    the event predates intervals or holds something else."""
    if isinstance(value, dict):
        value = [value.get("lo", value.get("low")), value.get("hi", value.get("high"))]
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return float(value[0]), float(value[1])
    return None


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
        return cls(key=str(event.get("key", "")), improver=str(event.get("improver", "")),
                   task=str(event.get("task", "")), index=_number(event, "index", int),
                   status=str(event.get("status", "")), val=_number(event, "val"), test=_number(event, "test"),
                   lm_calls=_number(event, "lm_calls", int), utility_calls=_number(event, "utility_calls", int),
                   wall_time_s=_number(event, "wall_time_s"),
                   completion_tokens=_number(event, "completion_tokens", int), solution=_text(event, "solution"),
                   static_flags=_strings(event, "static_flags"), blocked=_text(event, "blocked"))


def improver_runs(events: Iterable[dict]) -> list[ImproverRun]:
    """Every downstream run of a journal, typed."""
    return [ImproverRun.from_event(e) for e in downstream_runs(events)]


@dataclass(frozen=True)
class MetaScore:
    """û of one improver on a set of tasks, as meta.py journals it (`to_event`) and every reader
    reads it (`from_event`). Journals from before intervals lack val_ci, test_ci and n."""

    improver: str  # program id
    val: float  # mean over `runs`
    test: float
    val_std: float = 0.0  # population std over `runs`
    test_std: float = 0.0
    val_ci: tuple[float, float] | None = None  # 95% interval of the mean; None: not journalled
    test_ci: tuple[float, float] | None = None
    n: int | None = None  # as journalled (len(runs)); None: journalled before it was
    runs: tuple[dict, ...] = ()  # the improver_run events û averaged, whole (sources and all)
    key: str = ""  # <improver>@<task>+<task>...: the journal's key, not part of the event's data

    @property
    def tasks(self) -> list[str]:
        return self.key.split("@", 1)[1].split("+") if "@" in self.key else []

    @property
    def improver_runs(self) -> list[ImproverRun]:
        return [ImproverRun.from_event(r) for r in self.runs]

    @classmethod
    def from_event(cls, event: dict) -> "MetaScore":
        return cls(improver=str(event.get("improver") or ""), val=_number(event, "val"), test=_number(event, "test"),
                   val_std=_number(event, "val_std"), test_std=_number(event, "test_std"),
                   val_ci=_pair(event.get("val_ci")), test_ci=_pair(event.get("test_ci")),
                   n=_optional(event, "n", int),
                   runs=tuple(r for r in listed(event.get("runs")) if isinstance(r, dict)),
                   key=str(event.get("key", "")))

    def to_event(self) -> dict:
        """The event's data, as `Journal.once` takes it (the journal adds ts, kind and key); the
        keys in the order the journal has always held them."""
        return {"improver": self.improver, "val": self.val, "test": self.test,
                "val_std": self.val_std, "test_std": self.test_std,
                "val_ci": list(self.val_ci) if self.val_ci is not None else None,
                "test_ci": list(self.test_ci) if self.test_ci is not None else None,
                "n": self.n, "runs": list(self.runs)}


def meta_scores(events: Iterable[dict]) -> list[MetaScore]:
    """Every meta_score event of a journal, typed, in journal order."""
    return [MetaScore.from_event(e) for e in events if e.get("kind") == META_SCORE]


@dataclass(frozen=True)
class Iteration:
    """Self-improvement step t as loop.py journals it (`to_event`) and every reader reads it
    (`from_event`): the decision, û(I_t), and the improver-of-improvers' own run with its
    sandbox telemetry (an attempt, not a downstream run)."""

    t: int
    accepted: bool
    reason: str
    val: float  # û(I_t) on val
    test: float
    improver: str  # id of I_t; "" in a journal that lacks it
    candidate: str | None  # id of what I_{t-1} returned, if anything
    val_ci: tuple[float, float] | None = None  # None: journalled before intervals were
    test_ci: tuple[float, float] | None = None
    status: str = ""  # of the improver-of-improvers' run
    lm_calls: int = 0
    meta_calls: int = 0  # calls of û it made
    wall_time_s: float | None = None  # None: not journalled (readers fall back on event times)
    static_flags: tuple[str, ...] = ()
    runtime_events: tuple[str, ...] = ()
    blocked: str | None = None
    evidence: dict = field(default_factory=dict)  # what the acceptance rule measured
    rule: str | None = None  # the acceptance rule; None: journalled before there were rules
    key: str = ""  # str(t): the journal's key, not part of the event's data

    @classmethod
    def from_event(cls, event: dict) -> "Iteration":
        evidence = event.get("evidence")
        return cls(t=_number(event, "t", int), accepted=bool(event.get("accepted")),
                   reason=str(event.get("reason", "")), val=_number(event, "val"), test=_number(event, "test"),
                   improver=str(event.get("improver") or ""), candidate=_text(event, "candidate"),
                   val_ci=_pair(event.get("val_ci")), test_ci=_pair(event.get("test_ci")),
                   status=str(event.get("status", "")), lm_calls=_number(event, "lm_calls", int),
                   meta_calls=_number(event, "meta_calls", int),
                   wall_time_s=_optional(event, "wall_time_s"),
                   static_flags=_strings(event, "static_flags"), runtime_events=_strings(event, "runtime_events"),
                   blocked=_text(event, "blocked"), evidence=evidence if isinstance(evidence, dict) else {},
                   rule=_text(event, "rule"), key=str(event.get("key", "")))

    def to_event(self) -> dict:
        """The event's data, as `Journal.once` takes it (the journal adds ts, kind and key); the
        keys in the order the journal has always held them."""
        return {"t": self.t, "accepted": self.accepted, "reason": self.reason, "val": self.val, "test": self.test,
                "val_ci": list(self.val_ci) if self.val_ci is not None else None,
                "test_ci": list(self.test_ci) if self.test_ci is not None else None,
                "improver": self.improver, "candidate": self.candidate, "status": self.status,
                "lm_calls": self.lm_calls, "meta_calls": self.meta_calls, "wall_time_s": self.wall_time_s,
                "static_flags": list(self.static_flags), "runtime_events": list(self.runtime_events),
                "blocked": self.blocked, "evidence": self.evidence, "rule": self.rule}


def iterations(events: Iterable[dict]) -> list[Iteration]:
    """Every iteration event of a journal, typed, in journal order."""
    return [Iteration.from_event(e) for e in events if e.get("kind") == ITERATION]
