"""Accounting: one JSON line per language-model call in the run's usage log."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class CallRecord:
    method: str  # "batch_prompt" or "prompt"
    backend: str
    model: str
    n_responses: int
    n_cached: int
    prompt_tokens: int
    completion_tokens: int
    latency_s: float  # wall time of the whole call, as the caller saw it
    temperature: float
    max_tokens: int
    stream: str = ""  # the caller's sample stream, e.g. <sample seed>/<task>/<run index>
    endpoints: dict[str, int] = field(default_factory=dict)  # samples drawn now, by the endpoint that served them


class UsageLog:
    """Appends records to a JSON Lines file (flushed per line, so a killed run loses nothing)
    and keeps running totals in memory."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.calls = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, rec: CallRecord) -> None:
        line = json.dumps({"ts": time.time(), **asdict(rec)})
        with self._lock:
            self.calls += 1
            self.prompt_tokens += rec.prompt_tokens
            self.completion_tokens += rec.completion_tokens
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as f:
                    f.write(line + "\n")
