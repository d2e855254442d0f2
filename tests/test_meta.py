"""The meta-utility with real sandboxed improvers and a deterministic stand-in for the model:
common random numbers make two improvers that differ only in a comment score identically,
without drawing a single new sample; û comes with its interval."""

from __future__ import annotations

import dataclasses
import itertools
import threading

import pytest

from selftaught.work import open_pools
from selftaught.improvers import seed_improver
from selftaught.lm.budget import Budget
from selftaught.lm.cache import CacheMode, ResponseCache
from selftaught.lm.client import LanguageModelClient
from selftaught.lm.usage import UsageLog
from selftaught.lm.protocol import Completion
from selftaught.meta import MetaUtility
from selftaught.runs.rundir import RunDir
from selftaught.session import Session
from selftaught.settings import PRESETS
from selftaught.tasks.loader import load_task
from selftaught.utility import ScoreMemo

PROGRAMS = [
    "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n",
    "def fib(n):\n    return n\n",  # wrong
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",  # right, slow
]


class NumberedPrograms:
    """Sample k of all requests is PROGRAMS[k % 3], fenced: model-shaped, deterministic."""

    name, model = "numbered", "numbered"

    def __init__(self) -> None:
        self.drawn = 0
        self._ids, self._lock = itertools.count(), threading.Lock()

    def complete(self, messages, sampling):
        with self._lock:
            k = next(self._ids)
            self.drawn += 1
        return Completion(f"Idea: try this.\n```python\n{PROGRAMS[k % 3]}```\n", 10, 20, self.model, 0.0)

    def close(self):
        pass


@pytest.fixture(scope="module")
def pools():
    with open_pools() as pools:
        yield pools


def test_improvers_that_differ_only_in_a_comment_get_the_same_meta_utility(tmp_path, pools):
    backend = NumberedPrograms()
    run = RunDir.create(tmp_path, "self-improve", {})
    lm = LanguageModelClient(backend, ResponseCache(tmp_path / "cache.sqlite", CacheMode.READWRITE), UsageLog(None),
                             Budget(1, 2), 64)
    settings = dataclasses.replace(PRESETS["small"], n_tests=3, lm_calls=1, lm_responses=2, utility_budget=2,
                                   improver_time_limit_s=120.0)
    session = Session(run, settings, pools, lm.with_fresh_budget(stream="seed-x"), ScoreMemo(run.journal))
    meta = MetaUtility(session, [load_task("fibonacci")])
    seed = seed_improver()
    commented = seed.replace('"""Improves a solution according to a utility function."""',
                             '"""Improves a solution according to a utility function."""\n    # a comment')
    assert commented != seed
    first = meta.score(seed)
    drawn = backend.drawn
    again = meta.score(commented)
    assert backend.drawn == drawn == 6  # 3 runs x 2 samples; the second improver drew none
    assert [r["solution"] for r in again.runs] == [r["solution"] for r in first.runs]
    assert again.val == first.val and again.test == first.test
    # run i's two samples are PROGRAMS[2i % 3] and PROGRAMS[(2i + 1) % 3]; the seed improver keeps
    # the better: the fast loop in runs 0 and 1, the slow recursion in run 2
    assert [r["solution_source"] for r in first.runs] == [p.strip() for p in (PROGRAMS[0], PROGRAMS[0], PROGRAMS[2])]
    assert first.val.n == 3 and first.val.lo < first.val.mean < first.val.hi
