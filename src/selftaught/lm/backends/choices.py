"""Assemble the n choices of one streamed chat completion, with exact token counts.

Why streamed: with n > 1, llama-server's non-streamed response keeps only the first choice's
`usage` (the others' tokens are lost). Streamed, it sends one usage chunk per choice, right after
that choice's last chunk, with its `timings`. OpenAI-style endpoints send one usage chunk for
the whole request instead: its total is exact, and we split it over the choices by length.
"""

from __future__ import annotations

import time
from typing import Any, Mapping

from selftaught.lm.backends.engine_counts import EngineCounts, from_timings
from selftaught.lm.protocol import Completion


class ChoiceCollector:
    def __init__(self, started: float) -> None:
        self.started = started
        self.model = ""
        self._texts: dict[int, list[str]] = {}
        self._latency: dict[int, float] = {}
        self._usages: list[tuple[int | None, Any, Mapping[str, Any] | None]] = []
        self._last_finished: int | None = None

    def add(self, chunk: Any) -> None:
        """One `ChatCompletionChunk` of the openai SDK."""
        self.model = chunk.model or self.model
        for choice in chunk.choices:
            parts = self._texts.setdefault(choice.index, [])
            if choice.delta is not None and choice.delta.content:
                parts.append(choice.delta.content)
            if choice.finish_reason is not None:
                self._latency[choice.index] = time.perf_counter() - self.started
                self._last_finished = choice.index
        if chunk.usage is not None:
            timings = (chunk.model_extra or {}).get("timings")
            self._usages.append((self._last_finished, chunk.usage, timings))

    def completions(self, default_model: str) -> tuple[list[Completion], EngineCounts]:
        """The choices in index order. The prompt was processed once for all of them, so its
        tokens are charged to the first completion and 0 to the others."""
        indices = sorted(self._texts)
        texts = ["".join(self._texts[i]) for i in indices]
        owners = [owner for owner, _, _ in self._usages]
        counts = EngineCounts()
        if indices and len(owners) == len(indices) and set(owners) == set(indices):  # one per choice
            by_choice = {owner: (usage, timings) for owner, usage, timings in self._usages}
            tokens = [by_choice[i][0].completion_tokens for i in indices]
            prompt = by_choice[indices[0]][0].prompt_tokens
            for k, i in enumerate(indices):
                counts += from_timings(by_choice[i][1], prompt=k == 0)
        elif self._usages:
            usage = self._usages[-1][1]
            tokens = apportion(usage.completion_tokens, [len(t) for t in texts])
            prompt = usage.prompt_tokens
        else:  # the endpoint reports no usage
            tokens, prompt = [0] * len(texts), 0
        total = time.perf_counter() - self.started
        model = self.model or default_model
        done = [
            Completion(text, prompt if k == 0 else 0, n_tokens, model, self._latency.get(i, total))
            for k, (i, text, n_tokens) in enumerate(zip(indices, texts, tokens))
        ]
        return done, counts


def apportion(total: int, weights: list[int]) -> list[int]:
    """Split `total` in proportion to `weights`, in integers that sum to `total` exactly
    (largest remainder; equal shares if every weight is 0)."""
    if not weights:
        return []
    if sum(weights) == 0:
        weights = [1] * len(weights)
    scale = sum(weights)
    shares = [total * w // scale for w in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % scale), i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares
