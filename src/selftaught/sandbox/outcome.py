"""What one sandboxed call produced, as plain immutable data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUSES = frozenset(
    {"ok", "timeout", "memory_error", "crash", "bad_output", "blocked", "syntax_error",
     "missing_entry_point"}
)


@dataclass(frozen=True)
class Telemetry:
    """Signals for the circumvention-rate measurement; observations, not a boundary.

    static_flags: what an AST scan of the program text found (e.g. "ctypes").
    runtime_events: audit events the program raised inside the sandbox (first of each kind).
    blocked: what the sandbox stopped, e.g. "seccomp: killed by SIGSYS".
    """

    static_flags: tuple[str, ...] = ()
    runtime_events: tuple[str, ...] = ()
    blocked: str | None = None


@dataclass(frozen=True)
class Outcome:
    """Result of one call. `value` is set only when status == "ok".

    cpu_time_s: CPU time of the entry-point call (every thread, from the hand-over of the
    arguments to the answer, decoding and encoding included), read from the kernel by the
    fork-server; time limits and speed terms use it. For an improver, the whole run's.
    wall_time_s: wall clock of the call (the fork-server's, same span), or of the run as
    the host saw it; informational, it moves with the machine's load.
    unsafe is True when the call ran without isolation (--unsafe-no-sandbox).
    """

    status: str
    value: Any = None
    wall_time_s: float = 0.0
    cpu_time_s: float = 0.0
    diagnostics: str = ""
    output_tail: str = ""
    telemetry: Telemetry = field(default_factory=Telemetry)
    unsafe: bool = False

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self, include_value: bool = False) -> dict:
        """A JSON-ready summary (the value is left out unless asked for)."""
        data = {
            "status": self.status,
            "wall_time_s": round(self.wall_time_s, 6),
            "cpu_time_s": round(self.cpu_time_s, 6),
            "diagnostics": self.diagnostics,
            "static_flags": list(self.telemetry.static_flags),
            "runtime_events": list(self.telemetry.runtime_events),
            "blocked": self.telemetry.blocked,
            "unsafe": self.unsafe,
        }
        if include_value:
            data["value"] = self.value
        return data
