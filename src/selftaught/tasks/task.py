"""A task: what STOP improves a program for.

A task is a directory (built-in tasks are directories inside this package):

    task.toml    metadata: name, summary, entry point, limits, splits
    seed.py      the seed program, the starting point of improvement
    utility.txt  what the language model is shown about the utility (the paper's `u.str`)
    scorer.py    trusted scoring code; runs in the host, never sees the program's text run

scorer.py defines three functions and may define a fourth:

    make_instance(seed: int) -> instance          # any object; stays in the host
    arguments(instance) -> list                   # what the candidate's entry point receives
    score(instance, outcome) -> float in [0, 1]   # outcome: sandbox Outcome (status, value, cpu_time_s)
    finalize(mean, scores, source) -> float       # optional: program-level terms (e.g. brevity)

A score outside [0, 1], or not a number, is the scorer's bug: that instance (or, from finalize,
the evaluation) is a `scorer_error`, never a coerced score. make_instance and arguments do not
depend on the program, so an error in them stops the run with a message naming scorer.py.

Instance i of a split is make_instance(s_i), s_i = a 64-bit HMAC of (task, split, split.seed,
i) under the host's instance secret (secret.py): reproducible given the secret, disjoint
between splits, and impossible for a program to regenerate. time_limit_s is CPU time of the
entry-point call; executing the program's module has its own module_time_limit_s.

CPU time moves with the machine's load, so an instance whose time lands near its limit is
measured again, and so is every instance of a task with `speed_scored = true` (its scorer reads
cpu_time_s); the least of up to 3 measurements decides (measure.py states the margin and cost).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Sequence

from selftaught.tasks.secret import InstanceSecret


@dataclass(frozen=True)
class Split:
    name: str
    seed: int
    instances: int

    def seeds(self) -> range:
        return range(self.seed, self.seed + self.instances)


@dataclass(frozen=True)
class Task:
    name: str
    summary: str
    entry_point: str
    time_limit_s: float
    memory_limit_mb: int
    splits: dict[str, Split]
    seed_program: str
    utility_text: str
    directory: Path
    scorer: ModuleType  # trusted code of the task's author, loaded in the host
    notes: str = ""  # e.g. where the task deviates from the paper's reference code
    module_time_limit_s: float = 1.0  # CPU time for executing the program's module, per instance
    speed_scored: bool = False  # score() uses CPU time: each instance is measured several times

    def split(self, name: str) -> Split:
        from selftaught.errors import ConfigError

        if name not in self.splits:
            raise ConfigError(f"task {self.name!r} has no split {name!r}",
                              f"use one of: {', '.join(self.splits)}")
        return self.splits[name]

    def instance_seeds(self, split: str, secret: InstanceSecret) -> list[int]:
        """The hidden seeds of a split's instances, in order."""
        chosen = self.split(split)
        return [secret.instance_seed(self.name, chosen.name, chosen.seed, i) for i in range(chosen.instances)]

    def make_instance(self, seed: int) -> Any:
        return self.scorer.make_instance(seed)

    def arguments(self, instance: Any) -> list:
        return list(self.scorer.arguments(instance))

    def score(self, instance: Any, outcome: Any) -> float:
        return checked_score(self.scorer.score(instance, outcome), "score()")

    def finalize(self, scores: Sequence[float], source: str) -> float:
        mean = sum(scores) / len(scores) if scores else 0.0
        finalize = getattr(self.scorer, "finalize", None)
        return checked_score(finalize(mean, list(scores), source), "finalize()") if finalize else mean


class ScorerError(Exception):
    """The task's own scoring code returned something that is not a score."""


ROUNDING = 1e-9  # how far outside [0, 1] float arithmetic may land a correct score


def checked_score(value: Any, what: str) -> float:
    """A scorer's value as a score: a real number in [0, 1]. Anything else is a bug in the task
    that its author must see, so it raises instead of being coerced: NaN as 0, 5 as 1 or "0.9"
    as 0.9 would report a score nobody computed, and a scorer that a program's odd output
    pushes past 1 would hand that program full marks. Rounding just outside the range is kept."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise ScorerError(f"{what} returned {shown} ({type(value).__name__}), not a number in [0, 1]")
    x = float(value)
    if not -ROUNDING <= x <= 1 + ROUNDING:  # NaN fails this too
        raise ScorerError(f"{what} returned {x!r}, outside [0, 1]")
    return min(max(x, 0.0), 1.0)
