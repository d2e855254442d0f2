"""The two seams of the language-model layer.

`LanguageModel` is what improvers see (the paper's interface). `Backend` is what a
deployment plugs in: chat completions, synchronously. Everything else (budgets,
caching, accounting, concurrency) lives between the two, in `client.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence, runtime_checkable

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": ...}


@dataclass(frozen=True)
class Sampling:
    """Sampling parameters; part of the cache key, so two runs that differ here never share samples."""

    temperature: float
    max_tokens: int
    top_p: float = 1.0


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    latency_s: float
    endpoint: str = ""  # which endpoint answered: telemetry for the usage log, never cached


@runtime_checkable
class Backend(Protocol):
    """Produces chat completions. Must be safe to call from several threads at once.

    Errors: raise `EngineError`/`EndpointError` for a failure of the machinery (it stops the
    run); never return a partial list.
    """

    name: str
    model: str

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> Completion: ...

    def complete_n(self, messages: Sequence[Message], sampling: Sampling, n: int) -> list[Completion]:
        """Exactly n independent samples of one request. One request with `n` lets the engine
        process the prompt once, so its prompt tokens are charged to the first completion and
        0 to the others. A backend without this method gets n separate `complete` calls."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class LanguageModel(Protocol):
    """The interface of the STOP paper, as improvers use it."""

    def batch_prompt(
        self, expertise: str, messages: Sequence[str], temperature: float | None = None
    ) -> list[str]: ...

    def prompt(
        self, expertise: str, message: str, n_responses: int = 1, temperature: float | None = None
    ) -> list[str]: ...
