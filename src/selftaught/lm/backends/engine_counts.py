"""What the engine reports doing, summed over requests: llama-server's `timings` (prompt tokens
actually evaluated, tokens generated, speculative drafts and how many were accepted). Other
endpoints report none of it, so their counts stay 0. Telemetry only: never cached, never billed."""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields
from typing import Any, Mapping


@dataclass(frozen=True)
class EngineCounts:
    requests: int = 0
    prompt_evaluated: int = 0  # prompt tokens run through the model (not served from its KV cache)
    generated: int = 0
    drafted: int = 0  # speculative draft tokens proposed ...
    accepted: int = 0  # ... and accepted by the target model

    def __add__(self, other: "EngineCounts") -> "EngineCounts":
        return EngineCounts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def __sub__(self, other: "EngineCounts") -> "EngineCounts":
        return EngineCounts(*(getattr(self, f.name) - getattr(other, f.name) for f in fields(self)))

    @property
    def acceptance(self) -> float | None:
        return self.accepted / self.drafted if self.drafted else None


def from_timings(timings: Mapping[str, Any] | None, prompt: bool = True) -> EngineCounts:
    """One choice's llama-server `timings`. `prompt=False` for the 2nd..n-th choice of a request
    with n: they report the shared prompt pass again, which ran once."""
    if not timings:
        return EngineCounts()
    return EngineCounts(
        requests=1 if prompt else 0,
        prompt_evaluated=int(timings.get("prompt_n", 0)) if prompt else 0,
        generated=int(timings.get("predicted_n", 0)),
        drafted=int(timings.get("draft_n", 0)),
        accepted=int(timings.get("draft_n_accepted", 0)),
    )


class CountsTally:
    """A thread-safe running total."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = EngineCounts()

    def add(self, counts: EngineCounts) -> None:
        with self._lock:
            self._total = self._total + counts

    def snapshot(self) -> EngineCounts:
        with self._lock:
            return self._total
