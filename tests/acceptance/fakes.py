"""A meta-utility whose runs have known scores, for testing acceptance rules without a model."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable

from selftaught.meta import MetaScore


@dataclass(frozen=True)
class FakeTask:
    name: str


class KnownScores:
    """run(improver, task, i) -> {"val", "test", "solution"} from `scores(improver, task, i)`,
    which returns (val, solution id); every run is counted, so tests can assert what a rule spent."""

    def __init__(self, scores: Callable[[str, str, int], tuple[float, str]], tasks=("a", "b"), n_tests: int = 2):
        self.tasks = [FakeTask(name) for name in tasks]
        self.settings = SimpleNamespace(n_tests=n_tests)
        self._scores = scores
        self.calls: list[tuple[str, str, int]] = []

    def run(self, improver: str, task, index: int) -> dict:
        self.calls.append((improver, task.name, index))
        val, solution = self._scores(improver, task.name, index)
        return {"val": val, "test": val, "solution": solution, "status": "ok"}

    def runs(self, units) -> list[dict]:
        return [self.run(*unit) for unit in units]

    def score(self, improver: str) -> MetaScore:
        runs = [self.run(improver, t, i) for t in self.tasks for i in range(self.settings.n_tests)]
        return MetaScore.from_runs(improver, runs)

    def fresh_indices(self, improver: str) -> list[int]:
        return sorted({i for who, _, i in self.calls if who == improver and i >= self.settings.n_tests})
