"""`LanguageModelClient`: the paper's language model, with budget, cache and accounting.

One client serves one improver run; `with_fresh_budget()` gives the next run its own
budget and its own sample numbering (its k-th identical request is sample #k of its stream)
while sharing the backend, the cache and the log.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Sequence

from selftaught.errors import Cancelled, ConfigError, EngineError
from selftaught.lm.backends.separate import complete_separately
from selftaught.lm.budget import Budget, BudgetTracker
from selftaught.lm.cache import ResponseCache, request_key
from selftaught.lm.protocol import Backend, Completion, Message, Sampling
from selftaught.lm.usage import CallRecord, UsageLog

MAX_TEMPERATURE = 2.0


def check_temperature(temperature: float) -> float:
    if not 0.0 <= temperature <= MAX_TEMPERATURE:
        raise ConfigError(
            f"temperature {temperature} is out of range",
            f"use a temperature between 0 and {MAX_TEMPERATURE} (the paper uses 0.7)",
        )
    return float(temperature)


@dataclass(frozen=True)
class CallResult:
    texts: list[str]
    completions: list[Completion]


class LanguageModelClient:
    def __init__(
        self,
        backend: Backend,
        cache: ResponseCache,
        usage: UsageLog,
        budget: Budget,
        max_tokens: int,
        default_temperature: float = 0.7,
        stream: str = "",
        pool: ThreadPoolExecutor | None = None,
    ) -> None:
        self.backend = backend
        self.stream = stream
        self.cache = cache
        self.usage = usage
        self.budget = BudgetTracker(budget)
        self.max_tokens = max_tokens
        self._occurrences: Counter[str] = Counter()  # per client: one improver run's k-th request
        self._occurrence_lock = threading.Lock()
        self.cancelled = threading.Event()  # set when the improver run using this client ends
        # Completion tokens of every sample this client returned (cached or drawn): what one
        # improver run's answers cost to decode, the cost an improver leaderboard reports.
        self.completion_tokens = 0
        self.default_temperature = check_temperature(default_temperature)
        # The n requests of a call go out at once so the server can batch them. Clients made
        # by with_fresh_budget share this pool: one per run, not one per improver run.
        self._owns_pool = pool is None
        self._pool = pool or ThreadPoolExecutor(
            max_workers=max(budget.max_responses_per_call, 6), thread_name_prefix="lm-request"
        )

    def with_fresh_budget(self, budget: Budget | None = None, stream: str | None = None) -> "LanguageModelClient":
        """A client for the next improver run: its own budget and, optionally, its own sample
        stream in the cache, nested in this client's; the backend, cache and log are shared."""
        if stream is None:
            stream = self.stream
        elif self.stream:
            stream = f"{self.stream}/{stream}"
        return LanguageModelClient(
            self.backend, self.cache, self.usage, budget or self.budget.budget,
            self.max_tokens, self.default_temperature, stream, self._pool,
        )

    # The paper's interface -------------------------------------------------------------

    def batch_prompt(
        self, expertise: str, messages: Sequence[str], temperature: float | None = None
    ) -> list[str]:
        if isinstance(messages, str):
            messages = [messages]
        return self.call("batch_prompt", expertise, list(messages), temperature).texts

    def prompt(
        self, expertise: str, message: str, n_responses: int = 1, temperature: float | None = None
    ) -> list[str]:
        self.budget.check(n_responses)  # before building the list: n comes from untrusted code
        return self.call("prompt", expertise, [message] * n_responses, temperature).texts

    # ----------------------------------------------------------------------------------

    def call(
        self, method: str, expertise: str, messages: list[str], temperature: float | None
    ) -> CallResult:
        temp = check_temperature(self.default_temperature if temperature is None else temperature)
        if self.cancelled.is_set():
            raise Cancelled("the improver run that asked has ended", "nothing to do")
        self.budget.charge(len(messages))
        sampling = Sampling(temperature=temp, max_tokens=self.max_tokens)
        chats = [_chat(expertise, m) for m in messages]
        started = time.perf_counter()

        # Identical messages share a key; each gets this client's next occurrence index, so an
        # improver run's k-th identical request is sample #k of its stream, whoever else asks.
        keys = [request_key(self.backend.model, chat, sampling, self.stream) for chat in chats]
        with self._occurrence_lock:
            slots = []
            for key in keys:
                slots.append((key, self._occurrences[key]))
                self._occurrences[key] += 1
        positions: dict[str, list[int]] = {}
        for i, (key, _) in enumerate(slots):
            positions.setdefault(key, []).append(i)

        results: list[Completion | None] = [None] * len(chats)
        to_draw: dict[str, list[int]] = {}  # key -> positions this client draws
        waiting: list[tuple[int, Future]] = []
        for key, group in positions.items():
            recorded, mine, others = self.cache.claim(key, [slots[i][1] for i in group],
                                                      _describe(chats[group[0]], sampling))
            for i in group:
                idx = slots[i][1]
                if idx in recorded:
                    results[i] = recorded[idx]
                elif idx in others:
                    waiting.append((i, others[idx]))
                else:
                    to_draw.setdefault(key, []).append(i)
        # What is missing of each group of identical messages goes out as one request for n
        # samples (one prompt pass); the k-th sample returned fills the k-th missing slot.
        futures = {key: self._pool.submit(self._complete_n, chats[group[0]], sampling, len(group))
                   for key, group in to_draw.items()}
        failure: BaseException | None = None
        for key, fut in futures.items():
            group = to_draw[key]
            try:
                completions = fut.result()
                if len(completions) != len(group):
                    raise EngineError(
                        f"the {self.backend.name} backend returned {len(completions)} samples for {len(group)}",
                        "this is a bug in the backend's complete_n; report it",
                    )
            except BaseException as exc:  # every claim must end, or other clients would wait forever
                self.cache.fail(key, [slots[i][1] for i in group], exc)
                failure = failure or exc
                continue
            request = self._request(chats[group[0]], sampling)
            for i, completion in zip(group, completions):
                results[i] = self.cache.fulfil(key, slots[i][1], request, completion)
        if failure is not None:
            raise failure
        drawn = sum(len(group) for group in to_draw.values())
        for i, future in waiting:
            results[i], drew = self._await(future, slots[i], chats[i], sampling)
            drawn += drew

        done = [r for r in results if r is not None]
        with self._occurrence_lock:
            self.completion_tokens += sum(c.completion_tokens for c in done)
        self.usage.record(
            CallRecord(
                method=method,
                backend=self.backend.name,
                model=self.backend.model,
                n_responses=len(done),
                n_cached=len(done) - drawn,
                prompt_tokens=sum(c.prompt_tokens for c in done),
                completion_tokens=sum(c.completion_tokens for c in done),
                latency_s=time.perf_counter() - started,
                temperature=temp,
                max_tokens=self.max_tokens,
                stream=self.stream,
                endpoints=dict(Counter(c.endpoint for c in done if c.endpoint)),
            )
        )
        return CallResult([c.text for c in done], done)

    def _await(self, future: Future, slot: tuple[str, int], chat: list[Message],
               sampling: Sampling) -> tuple[Completion, bool]:
        """A sample another client is drawing, and whether this client drew it after all: if that
        client's improver run ended and cancelled the draw, this run still needs the sample, so
        it claims it again and draws it if nobody else is."""
        key, idx = slot
        while True:
            try:
                return future.result(), False
            except Cancelled:
                if self.cancelled.is_set():
                    raise
            recorded, _mine, others = self.cache.claim(key, [idx], _describe(chat, sampling))
            if idx in recorded:
                return recorded[idx], False
            if idx in others:
                future = others[idx]
                continue
            try:
                (completion,) = self._complete_n(chat, sampling, 1)
            except BaseException as exc:
                self.cache.fail(key, [idx], exc)
                raise
            return self.cache.fulfil(key, idx, self._request(chat, sampling), completion), True

    def _request(self, chat: list[Message], sampling: Sampling) -> dict:
        """What the cache records a drawn sample under."""
        return {"model": self.backend.model, "messages": chat, "sampling": asdict(sampling), "stream": self.stream}

    def _complete_n(self, chat: list[Message], sampling: Sampling, n: int) -> list[Completion]:
        complete_n = getattr(self.backend, "complete_n", None)
        if complete_n is None:  # a backend written before complete_n: n separate requests
            return complete_separately(self.backend.complete, chat, sampling, n)
        if getattr(self.backend, "cancellable", False):
            return complete_n(chat, sampling, n, cancelled=self.cancelled)
        return complete_n(chat, sampling, n)

    def cancel(self) -> None:
        """End this client's work: later calls raise Cancelled, and streamed requests in flight
        stop (their server-side generation with them). For the client of an improver run that
        has returned: LM work it left running would be lost anyway."""
        self.cancelled.set()

    def close(self) -> None:
        if self._owns_pool:
            self._pool.shutdown(wait=False, cancel_futures=True)


def _chat(expertise: str, message: str) -> list[Message]:
    return [{"role": "system", "content": expertise}, {"role": "user", "content": message}]


def _describe(chat: list[Message], sampling: Sampling) -> str:
    user = chat[-1]["content"].replace("\n", " ")
    return f"user message {user[:60]!r}..., temperature {sampling.temperature}, max_tokens {sampling.max_tokens}"
