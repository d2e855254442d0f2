"""Several OpenAI-compatible endpoints serving one model, behind one backend: the part of a run
that costs (decoding) spread over every server a user has.

- A request goes to the endpoint with the fewest requests outstanding (ties: the one that has
  served least); a request with n goes to one endpoint whole, so its prompt is processed once.
- An endpoint that fails (cannot be reached, times out, answers 5xx after its own retries) is
  taken out of rotation for `cooldown_s`, with a line in the log, and the request is sent to
  another. Only when every endpoint has failed the same request does the run stop, with an
  EndpointError naming each. A request the endpoint refuses because of the request itself
  (RequestError) or one cancelled by its improver run is not retried elsewhere.
- The response cache, the k-th-sample claims, the budgets and the journal stay in the driver's
  LanguageModelClient above this backend: which endpoint answered changes nothing that is cached
  or replayed. Each completion names its endpoint, and the usage log counts them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import Callable, Sequence, TypeVar

from selftaught.errors import EndpointError
from selftaught.lm.backends.engine_counts import EngineCounts
from selftaught.lm.backends.openai_compat import OpenAIBackend
from selftaught.lm.protocol import Completion, Message, Sampling

log = logging.getLogger(__name__)
T = TypeVar("T")


class EndpointPool:
    name = "openai"
    cancellable = True

    def __init__(self, endpoints: Sequence[OpenAIBackend], cooldown_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not endpoints:
            raise ValueError("an endpoint pool needs at least one endpoint")
        models = {e.model for e in endpoints}
        if len(models) > 1:
            from selftaught.errors import ConfigError

            raise ConfigError(f"the endpoints serve different model names: {sorted(models)}",
                              "give endpoints that serve one model (one --model)")
        self.endpoints = list(endpoints)
        self.model = self.endpoints[0].model
        self.cooldown_s, self._clock = cooldown_s, clock
        self._lock = threading.Lock()
        self._outstanding = [0] * len(self.endpoints)
        self._down_until = [0.0] * len(self.endpoints)
        self.answered: Counter[str] = Counter()  # requests answered, by endpoint URL

    def url(self, i: int) -> str:
        return self.endpoints[i].config.base_url

    def _pick(self, tried: set[int]) -> int | None:
        """The least-loaded endpoint in rotation not yet tried for this request; if every one
        left is out of rotation, the one due back first (a request never waits for nothing)."""
        now = self._clock()
        left = [i for i in range(len(self.endpoints)) if i not in tried]
        if not left:
            return None
        up = [i for i in left if self._down_until[i] <= now] or sorted(left, key=lambda i: self._down_until[i])[:1]
        return min(up, key=lambda i: (self._outstanding[i], self.answered[self.url(i)], i))

    def _send(self, request: Callable[[OpenAIBackend], T]) -> T:
        tried: set[int] = set()
        failures: list[str] = []
        while True:
            with self._lock:
                i = self._pick(tried)
                if i is not None:
                    self._outstanding[i] += 1
            if i is None:
                raise EndpointError("every endpoint failed this request: " + "; ".join(failures),
                                    "check that the servers are running and reachable (--endpoint); "
                                    "--resume continues the run")
            try:
                result = request(self.endpoints[i])
            except EndpointError as exc:
                with self._lock:
                    self._down_until[i] = self._clock() + self.cooldown_s
                tried.add(i)
                failures.append(exc.problem)
                log.warning("endpoint %s failed (%s); out of rotation for %.0f s, the request goes to another",
                            self.url(i), exc.problem, self.cooldown_s)
                continue
            finally:
                with self._lock:
                    self._outstanding[i] -= 1
            with self._lock:
                self.answered[self.url(i)] += 1
            return result

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        return self._send(lambda endpoint: endpoint.complete(messages, sampling))

    def complete_n(self, messages: Sequence[Message], sampling: Sampling, n: int,
                   cancelled: threading.Event | None = None) -> list[Completion]:
        return self._send(lambda endpoint: endpoint.complete_n(messages, sampling, n, cancelled))

    def engine_counts(self) -> EngineCounts:
        total = EngineCounts()
        for endpoint in self.endpoints:
            total = total + endpoint.engine_counts()
        return total

    def close(self) -> None:
        for endpoint in self.endpoints:
            endpoint.close()
