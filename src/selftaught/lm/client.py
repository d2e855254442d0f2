"""`LanguageModelClient`: the paper's language model, with budget, cache and accounting.

One client serves one improver run; `with_fresh_budget()` gives the next run its own
budget while sharing the backend, the cache (so sample numbering continues) and the log.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Sequence

from selftaught.errors import ConfigError
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
        self.budget.charge(len(messages))
        sampling = Sampling(temperature=temp, max_tokens=self.max_tokens)
        chats = [_chat(expertise, m) for m in messages]
        started = time.perf_counter()

        # Identical messages share a key; each gets its own occurrence index.
        claimed: dict[str, int] = {}
        keys = [request_key(self.backend.model, chat, sampling, self.stream) for chat in chats]
        for key in keys:
            claimed[key] = claimed.get(key, 0) + 1
        ranges = {key: iter(self.cache.reserve(key, n)) for key, n in claimed.items()}
        slots = [(key, next(ranges[key])) for key in keys]

        results: list[Completion | None] = [
            self.cache.get(key, idx, describe=_describe(chat, sampling))
            for (key, idx), chat in zip(slots, chats)
        ]
        missing = [i for i, r in enumerate(results) if r is None]
        futures = {i: self._pool.submit(self.backend.complete, chats[i], sampling) for i in missing}
        for i, fut in futures.items():
            completion = fut.result()
            key, idx = slots[i]
            request = {"model": self.backend.model, "messages": chats[i], "sampling": asdict(sampling),
                       "stream": self.stream}
            self.cache.put(key, idx, request, completion)
            results[i] = completion

        done = [r for r in results if r is not None]
        self.usage.record(
            CallRecord(
                method=method,
                backend=self.backend.name,
                model=self.backend.model,
                n_responses=len(done),
                n_cached=len(done) - len(missing),
                prompt_tokens=sum(c.prompt_tokens for c in done),
                completion_tokens=sum(c.completion_tokens for c in done),
                latency_s=time.perf_counter() - started,
                temperature=temp,
                max_tokens=self.max_tokens,
            )
        )
        return CallResult([c.text for c in done], done)

    def close(self) -> None:
        if self._owns_pool:
            self._pool.shutdown(wait=False, cancel_futures=True)


def _chat(expertise: str, message: str) -> list[Message]:
    return [{"role": "system", "content": expertise}, {"role": "user", "content": message}]


def _describe(chat: list[Message], sampling: Sampling) -> str:
    user = chat[-1]["content"].replace("\n", " ")
    return f"user message {user[:60]!r}..., temperature {sampling.temperature}, max_tokens {sampling.max_tokens}"
