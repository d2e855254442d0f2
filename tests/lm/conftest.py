from __future__ import annotations

import dataclasses
import itertools
import threading
from typing import Sequence

import pytest

from selftaught.lm.budget import Budget
from selftaught.lm.cache import CacheMode, ResponseCache
from selftaught.lm.client import LanguageModelClient
from selftaught.lm.protocol import Completion, Message, Sampling
from selftaught.lm.usage import UsageLog


class CountingBackend:
    """A test double for cache and budget semantics (not for model behaviour): every
    sample that reaches it is a fresh, numbered answer. `requests` has one entry per sample,
    `batches` one (user message, n) per request with n."""

    name = "counting"

    def __init__(self, model: str = "counting-model") -> None:
        self.model = model
        self.requests: list[Sequence[Message]] = []
        self.batches: list[tuple[str, int]] = []
        self._ids = itertools.count()
        self._lock = threading.Lock()

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        with self._lock:
            self.requests.append(messages)
            n = next(self._ids)
        return Completion(f"sample {n} for {messages[-1]['content']}", 3, 5, self.model, 0.001)

    def complete_n(self, messages: Sequence[Message], sampling: Sampling, n: int) -> list[Completion]:
        with self._lock:
            self.batches.append((messages[-1]["content"], n))
        done = [self.complete(messages, sampling) for _ in range(n)]
        # One prompt pass per request: its tokens are charged to the first sample only.
        return [done[0]] + [dataclasses.replace(c, prompt_tokens=0) for c in done[1:]]


class SingleRequestBackend(CountingBackend):
    """A backend written before complete_n: the client must send n separate requests."""

    complete_n = None  # type: ignore[assignment]

    def close(self) -> None:
        pass


@pytest.fixture
def backend() -> CountingBackend:
    return CountingBackend()


class StallingBackend(CountingBackend):
    """A streamed endpoint that generates until its request is cancelled (then it raises, as
    OpenAIBackend does); `stopped` is set once a request has ended that way."""

    cancellable = True

    def __init__(self) -> None:
        super().__init__()
        self.started, self.stopped = threading.Event(), threading.Event()

    def complete_n(self, messages, sampling, n, cancelled=None):
        from selftaught.errors import Cancelled

        self.started.set()
        if cancelled is None or not cancelled.wait(30):
            raise AssertionError("the request was never cancelled")
        self.stopped.set()
        raise Cancelled("cancelled", "")


@pytest.fixture
def make_client(tmp_path, backend):
    clients = []

    def make(mode: CacheMode = CacheMode.READWRITE, budget: Budget = Budget(4, 6), be=None):
        cache = ResponseCache(tmp_path / "cache.sqlite", mode)
        client = LanguageModelClient(be or backend, cache, UsageLog(tmp_path / "usage.jsonl"), budget, 32)
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()
        c.cache.close()
