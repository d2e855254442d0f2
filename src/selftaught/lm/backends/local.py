"""The default backend: the embedded model (or any GGUF) served by a private llama.cpp server.

Requests wait here, not in the server, for a free slot: a request with n takes n of the server's
`slots` before it is sent, so its --timeout measures its own generation, never the queue that
concurrent improver runs built (four prompt(n_responses=6) calls on a 6-slot server once timed
out and stopped a run). A timeout the server survives, healthy, is that request's failure (a
RequestError: its improver fails, the run goes on); a server that died is the run's (EngineError).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Sequence

from selftaught.errors import Cancelled, EndpointError, RequestError
from selftaught.lm.backends.engine_counts import EngineCounts
from selftaught.lm.backends.openai_compat import EndpointConfig, OpenAIBackend
from selftaught.lm.local import speculative
from selftaught.lm.local.engines import Served
from selftaught.lm.local.server import LlamaServer, ServerConfig
from selftaught.lm.protocol import Completion, Message, Sampling


class LocalBackend:
    name = "local"
    cancellable = True

    def __init__(self, server: ServerConfig, timeout_s: float = 600.0) -> None:
        self.model = server.alias
        self.server = LlamaServer(server).start()
        self._slots = SlotQueue(server.slots)
        self._timeout_s = timeout_s
        endpoint = EndpointConfig(
            base_url=self.server.base_url, model=server.alias, api_key=server.api_key or "no-key",
            timeout_s=timeout_s, max_retries=1,
        )
        # On any request failure, first ask whether the server died: that is the real error.
        self._http = OpenAIBackend(endpoint, on_failure=self.server.check_alive)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def served(self) -> Served:
        """Which engine serves, and any fallback taken on the way (engines.py)."""
        assert self.server.served is not None
        return self.server.served

    @property
    def speculative(self) -> str:
        """The speculative-decoding setting in use, with its llama.cpp flags."""
        return speculative.describe(self.server.config.speculative)

    def engine_counts(self) -> EngineCounts:
        return self._http.engine_counts()

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        with self._slots.taken(1):
            return self._judged(lambda: self._http.complete(messages, sampling))

    def complete_n(self, messages: Sequence[Message], sampling: Sampling, n: int,
                   cancelled: threading.Event | None = None) -> list[Completion]:
        with self._slots.taken(n):
            if cancelled is not None and cancelled.is_set():  # its improver run ended while it waited
                raise Cancelled("the improver run ended while this request waited for a server slot",
                                "nothing to do: its samples are not needed")
            return self._judged(lambda: self._http.complete_n(messages, sampling, n, cancelled))

    def _judged(self, send):
        try:
            return send()
        except EndpointError as exc:
            self.server.check_alive()  # a dead server is the run's problem: EngineError
            if self.server.healthy():
                raise RequestError(f"the local server is healthy but this request failed: {exc.problem}",
                                   f"raise --timeout (now {self._timeout_s:g} s) or lower --max-tokens") from exc
            raise

    def close(self) -> None:
        self._http.close()
        self.server.stop()


class SlotQueue:
    """The server's slots, counted on this side: `taken(n)` waits until n are free (a request
    with more than `slots` samples takes them all), first come, first served."""

    def __init__(self, slots: int) -> None:
        self.slots, self.free = slots, slots
        self.busiest = 0  # most slots taken at once: what the server was asked to run in parallel
        self._turns = threading.Condition()
        self._queue: list[object] = []

    @contextmanager
    def taken(self, n: int):
        n, me = min(n, self.slots), object()
        with self._turns:
            self._queue.append(me)
            self._turns.wait_for(lambda: self._queue[0] is me and self.free >= n)
            self._queue.pop(0)
            self.free -= n
            self.busiest = max(self.busiest, self.slots - self.free)
            self._turns.notify_all()
        try:
            yield
        finally:
            with self._turns:
                self.free += n
                self._turns.notify_all()
