"""A small STOP job for the executor tests: two improvers that send the same LM requests (the
seed improver, and the same with a comment), each run on parity at indices 0 and 1, with a
scripted language model whose k-th answer is program k (so which sample a unit gets shows in
its result). Programs and improvers really run in the sandbox."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

from selftaught.improvers import seed_improver
from selftaught.lm.cache import CacheMode, ResponseCache
from selftaught.lm.client import LanguageModelClient
from selftaught.lm.protocol import Completion
from selftaught.lm.usage import UsageLog
from selftaught.meta import MetaUtility
from selftaught.runs.rundir import RunDir
from selftaught.session import Session
from selftaught.settings import PRESETS
from selftaught.tasks.loader import load_task
from selftaught.utility import ScoreMemo

_HEAD = "import numpy as np\n\ndef algorithm(train_samples, train_parity, test_samples):\n"
PROGRAMS = [  # parity programs with different, deterministic scores
    _HEAD + "    return np.zeros(len(test_samples), dtype=int)\n",
    _HEAD + "    return np.ones(len(test_samples), dtype=int)\n",
    _HEAD + "    return np.asarray(test_samples)[:, 0].astype(int)\n",
    _HEAD + "    return (np.asarray(test_samples)[:, :3].sum(axis=1) % 2).astype(int)\n",
    _HEAD + "    return np.full(len(test_samples), int(np.mean(train_parity) > 0.5))\n",
]
SEED = seed_improver()
VARIANT = "# the same improver, other source\n" + SEED
SETTINGS = dataclasses.replace(PRESETS["small"], lm_calls=1, lm_responses=2, utility_budget=2, n_tests=2,
                               improver_time_limit_s=120.0)


class ScriptedModel:
    """Answer k (over the model's life) is PROGRAMS[k % 5] in a code block. With `gate`, each
    request waits until the gate is set; `waiting` counts the requests that have arrived."""

    name, model = "scripted", "scripted"

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate, self.waiting, self.answered = gate, 0, 0
        self._lock = threading.Lock()

    def complete(self, messages, sampling) -> Completion:
        return self.complete_n(messages, sampling, 1)[0]

    def complete_n(self, messages, sampling, n) -> list[Completion]:
        with self._lock:
            self.waiting += 1
        if self.gate is not None:
            self.gate.wait()
        with self._lock:
            first, self.answered = self.answered, self.answered + n
        return [Completion(f"```python\n{PROGRAMS[k % len(PROGRAMS)]}```", 10, 20, self.model, 0.0)
                for k in range(first, first + n)]

    def close(self) -> None:
        pass


def session(root: Path, pools, executor, backend, cache: Path, mode: CacheMode, settings=SETTINGS) -> Session:
    run = RunDir.create(root, "self-improve", {})
    lm = LanguageModelClient(backend, ResponseCache(cache, mode), UsageLog(run.usage_log), settings.lm_budget, 64)
    return Session(run, settings, pools, lm.with_fresh_budget(stream="exec-test"), ScoreMemo(run.journal), executor)


def units():
    task = load_task("parity")
    return [(who, task, i) for i in (0, 1) for who in (SEED, VARIANT)]


def run_job(session: Session) -> list[dict]:
    return MetaUtility(session, [load_task("parity")]).runs(units())


RESULT_FIELDS = ("key", "improver", "task", "index", "status", "solution", "val", "test", "lm_calls",
                 "utility_calls", "blocked", "static_flags")


def results(session: Session) -> dict[str, dict]:
    """What the journal holds of each improver run and program evaluation, less timings."""
    out = {}
    for event in session.journal.events():
        if event["kind"] == "improver_run":
            out[event["key"]] = {f: event.get(f) for f in RESULT_FIELDS}
        elif event["kind"] == "evaluation":
            out[event["key"]] = {"score": event["score"],
                                 "instances": [(i["status"], i["score"]) for i in event["instances"]]}
    return out
