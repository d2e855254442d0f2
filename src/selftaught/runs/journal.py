"""An append-only JSON Lines journal: every finished step of a run, keyed for lookup.

Steps record their result under (kind, key). A resumed run executes the same code path and
asks the journal first, so nothing finished is redone. Each line is flushed and fsynced as
it is written; a line cut short by kill -9 is ignored on reading, and so is any line that is
not an event this class wrote (damage from outside): the step it recorded is computed again.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator


class Journal:
    """`path` None: a journal that remembers in memory only (for work that no run directory
    keeps, e.g. scores on a cluster worker), with the same once-per-key semantics."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._index: dict[tuple[str, str], dict] = {}
        self._events: list[dict] = []
        self._listeners: list[Callable[[dict], None]] = []
        self._computing: dict[tuple[str, str], list] = {}  # (kind, key) -> [lock, waiters]
        self.skipped = 0  # damaged lines passed over on reading: their work is done again
        if path is not None and path.exists():
            data = path.read_bytes()
            if data and not data.endswith(b"\n"):
                # A line torn by kill -9: drop it, or the next record would be glued onto it.
                data = data[: data.rfind(b"\n") + 1]
                with path.open("r+b") as f:
                    f.truncate(len(data))
            for line in data.splitlines():
                event = _event(line)
                if event is not None:
                    self._remember(event)
                elif line.strip():
                    self.skipped += 1

    def _remember(self, event: dict) -> None:
        self._events.append(event)
        if "key" in event:
            self._index[(event["kind"], event["key"])] = event

    def record(self, kind: str, key: str | None = None, **data: Any) -> dict:
        event = {"ts": round(time.time(), 3), "kind": kind, **({"key": key} if key is not None else {}), **data}
        # ASCII escapes: text from the sandbox can never make a journal line unwritable.
        line = json.dumps(event, ensure_ascii=True, default=str)
        with self._lock:
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as f:
                    f.write(line + "\n")
                    f.flush()
                    os.fsync(f.fileno())
            self._remember(event)
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:  # a display problem must never stop a run
                pass
        return event

    def subscribe(self, listener: Callable[[dict], None]) -> None:
        """Call `listener(event)` for each new event (progress bars watch the run this way)."""
        self._listeners.append(listener)

    def once(self, kind: str, key: str, compute: Callable[[], dict]) -> dict:
        """The journalled result of step (kind, key): recorded already, or computed now and
        recorded. Concurrent callers with the same key wait for one computation; callers with
        other keys do not wait. `compute` returns the event's data (without kind and key)."""
        with self._lock:
            if (kind, key) in self._index:
                return self._index[(kind, key)]
            entry = self._computing.setdefault((kind, key), [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                recorded = self.get(kind, key)
                return recorded if recorded is not None else self.record(kind, key, **compute())
        finally:
            with self._lock:  # the last waiter removes the key's lock, so the table never grows
                entry[1] -= 1
                if entry[1] == 0:
                    del self._computing[(kind, key)]

    def get(self, kind: str, key: str) -> dict | None:
        with self._lock:
            return self._index.get((kind, key))

    def events(self, kind: str | None = None) -> Iterator[dict]:
        with self._lock:
            events = list(self._events)
        return (e for e in events if kind is None or e["kind"] == kind)


def _event(line: bytes) -> dict | None:
    """The event a journal line holds, or None where the line is not one `record` writes."""
    try:
        event = json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError):  # bad UTF-8 or JSON, an integer too long, nesting too deep
        return None
    return event if is_event(event) else None


def is_event(record: object) -> bool:
    """Whether a parsed journal line has an event's shape: an object with a string kind (and a
    string key, where it has one). The writer and every reader skip anything else alike."""
    return isinstance(record, dict) and isinstance(record.get("kind"), str) and \
        isinstance(record.get("key", ""), str)
