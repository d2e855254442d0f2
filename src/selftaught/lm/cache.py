"""A content-addressed response store on disk (SQLite) that records and replays samples.

A request is keyed by model, messages, sampling parameters and sample stream. Identical
requests are *not* collapsed: the k-th identical request of a client (one improver run) gets
sample #k, so a batch of n identical messages yields n different samples, and a re-run sees
the same sequence again. That is what makes runs resumable and tests deterministic.

Two clients on the same stream (two improvers run on the same (task, run index): common
random numbers) ask for the same samples. `claim` makes sure each sample is drawn once: the
first claimant draws it, later ones wait for it, so both get the sample that is recorded.
"""

from __future__ import annotations

import enum
import hashlib
import json
import sqlite3
import threading
import time
from concurrent.futures import Future
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


def require_recorded(path: Path) -> None:
    """Replay reads a recorded cache and never writes one. The fix does not say --cache readwrite
    alone: with the replay backend (which always replays) that changes nothing."""
    if not path.exists():
        raise ConfigError(
            f"replay cache {path} does not exist",
            "replay only reads a recorded cache: record one first with a model backend (--backend local or "
            "openai) and --cache readwrite, or point --cache-path at a recorded cache",
        )


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
    """Thread-safe. `claim` says which samples are recorded, which this caller must draw and
    which another caller is drawing; `fulfil`/`fail` finish a claim; `get`/`put` read and write."""

    def __init__(self, path: Path | None, mode: CacheMode) -> None:
        self.mode = mode
        self.path = path
        self._lock = threading.Lock()
        self._drawing: dict[tuple[str, int], Future] = {}  # samples being drawn, for later claimants
        self._db: sqlite3.Connection | None = None
        if mode is not CacheMode.OFF:
            if path is None:
                raise ConfigError("a response cache needs a file", "pass --cache-path or use --cache off")
            if mode is CacheMode.REPLAY:
                require_recorded(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)

    def claim(self, key: str, indices: Sequence[int], describe: str
              ) -> tuple[dict[int, Completion], list[int], dict[int, Future]]:
        """(recorded samples, indices the caller must draw and then `fulfil` or `fail`, futures of
        samples another caller is drawing). Without a store nothing is shared: draw them all."""
        if self._db is None:
            return {}, list(indices), {}
        recorded, mine, waiting = {}, [], {}
        with self._lock:
            for idx in indices:
                if (key, idx) in self._drawing:
                    waiting[idx] = self._drawing[(key, idx)]
                    continue
                row = self._select(key, idx)
                if row is not None:
                    recorded[idx] = row
                elif self.mode is CacheMode.REPLAY:
                    raise CacheMiss(
                        f"replay cache {self.path} has no sample #{idx} for request {key[:12]} ({describe})",
                        "re-record with --cache readwrite against a live model, or check that the "
                        "model name, prompt and sampling settings match the recorded run",
                    )
                else:
                    self._drawing[(key, idx)] = Future()
                    mine.append(idx)
        return recorded, mine, waiting

    def fulfil(self, key: str, idx: int, request: dict, completion: Completion) -> Completion:
        """Record a drawn sample and hand it to whoever waits for it."""
        self.put(key, idx, request, completion)
        with self._lock:
            waiting = self._drawing.pop((key, idx), None)
        if waiting is not None:
            waiting.set_result(completion)
        return completion

    def fail(self, key: str, indices: Sequence[int], error: BaseException) -> None:
        """A draw failed: its waiters see the same error; a later claim draws again."""
        with self._lock:
            waiting = [self._drawing.pop((key, idx), None) for idx in indices]
        for future in waiting:
            if future is not None:
                future.set_exception(error)

    def _select(self, key: str, idx: int) -> Completion | None:
        row = self._db.execute(
            "SELECT text, prompt_tokens, completion_tokens, model, latency_s FROM samples WHERE key=? AND idx=?",
            (key, idx),
        ).fetchone()
        return Completion(*row) if row is not None else None

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
