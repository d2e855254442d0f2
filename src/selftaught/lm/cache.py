"""A content-addressed response store on disk (SQLite) that records and replays samples.

A request is keyed by model, messages and sampling parameters. Identical requests are
*not* collapsed: the k-th identical request of a run gets the k-th recorded sample, so a
batch of n identical messages yields n different samples, and a re-run sees the same
sequence again. That is what makes runs resumable and tests deterministic.
"""

from __future__ import annotations

import enum
import hashlib
import json
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

from selftaught.errors import CacheMiss, ConfigError
from selftaught.lm.protocol import Completion, Message, Sampling


class CacheMode(str, enum.Enum):
    OFF = "off"  # neither read nor write
    READWRITE = "readwrite"  # read recorded samples, record new ones
    REPLAY = "replay"  # read only; a miss is an error

    @classmethod
    def parse(cls, value: str) -> "CacheMode":
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            raise ConfigError(f"unknown cache mode {value!r}", f"use one of: {choices}") from None


def request_key(model: str, messages: Sequence[Message], sampling: Sampling, stream: str = "") -> str:
    """`stream` names an independent sequence of samples (e.g. one improver run), so that a
    resumed run that skips finished work still hands later work the samples it had before."""
    payload = {"model": model, "messages": list(messages), "sampling": asdict(sampling)}
    if stream:
        payload["stream"] = stream
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (key TEXT PRIMARY KEY, request TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
    key TEXT NOT NULL, idx INTEGER NOT NULL, text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
    model TEXT NOT NULL, latency_s REAL NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (key, idx)
);
"""


class ResponseCache:
    """Thread-safe. `reserve` hands out occurrence indices; `get`/`put` read and write samples."""

    def __init__(self, path: Path | None, mode: CacheMode) -> None:
        self.mode = mode
        self.path = path
        self._lock = threading.Lock()
        self._seen: Counter[str] = Counter()
        self._db: sqlite3.Connection | None = None
        if mode is not CacheMode.OFF:
            if path is None:
                raise ConfigError("a response cache needs a file", "pass --cache-path or use --cache off")
            if mode is CacheMode.REPLAY and not path.exists():
                raise ConfigError(
                    f"replay cache {path} does not exist",
                    "record first with --cache readwrite, or point --cache-path at a recorded cache",
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)

    def reserve(self, key: str, n: int) -> range:
        """Claim the next n occurrence indices of this request in this run."""
        with self._lock:
            start = self._seen[key]
            self._seen[key] += n
        return range(start, start + n)

    def get(self, key: str, idx: int, describe: str) -> Completion | None:
        if self._db is None:
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT text, prompt_tokens, completion_tokens, model, latency_s "
                "FROM samples WHERE key=? AND idx=?",
                (key, idx),
            ).fetchone()
        if row is None:
            if self.mode is CacheMode.REPLAY:
                raise CacheMiss(
                    f"replay cache {self.path} has no sample #{idx} for request {key[:12]} ({describe})",
                    "re-record with --cache readwrite against a live model, or check that the "
                    "model name, prompt and sampling settings match the recorded run",
                )
            return None
        return Completion(*row)

    def put(self, key: str, idx: int, request: dict, completion: Completion) -> None:
        if self._db is None or self.mode is not CacheMode.READWRITE:
            return
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO requests VALUES (?, ?)", (key, json.dumps(request, sort_keys=True))
            )
            self._db.execute(
                "INSERT OR IGNORE INTO samples VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key, idx, completion.text, completion.prompt_tokens,
                    completion.completion_tokens, completion.model, completion.latency_s, time.time(),
                ),
            )

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
