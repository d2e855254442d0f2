"""How a raw run becomes a verdict: whether it ran over its CPU limits, and what an error the
program raised means (the status the scorer and the telemetry see)."""

from __future__ import annotations

from dataclasses import dataclass

from selftaught.sandbox.conversation import RawRun


@dataclass(frozen=True)
class CpuLimits:
    """CPU seconds allowed to executing the module and to the call (None: not limited)."""

    module_s: float | None = None
    call_s: float | None = None


def overrun(raw: RawRun, cpu: CpuLimits) -> str:
    """Why the run counts as a timeout ("" if it does not), from the fork-server's clock
    readings first: a result that arrives over the limit is still over it."""
    module_cpu_s = raw.clock_s if raw.clock_s is not None else raw.cpu_s
    if cpu.module_s is not None and module_cpu_s is not None and module_cpu_s > cpu.module_s:
        return (f"executing the module took {module_cpu_s:.3f} s of CPU time, over its "
                f"{cpu.module_s:g} s limit")
    if cpu.call_s is not None and raw.cpu_s is not None and raw.clock_s is not None \
            and raw.cpu_s - raw.clock_s > cpu.call_s:
        return f"the call took {raw.cpu_s - raw.clock_s:.3f} s of CPU time, over its {cpu.call_s:g} s limit"
    if raw.over == "call_wall":
        return "the call ran past its wall-clock backstop (sleeping or blocked)"
    if raw.over == "module_wall":
        return "executing the module ran past its wall-clock backstop (sleeping or blocked)"
    if raw.wall_timeout:
        return "wall-clock time limit exceeded; killed by the host"
    return ""


AVAILABLE_MODULES = "the sandbox has only Python's standard library and numpy"


def judge_error(error: dict) -> tuple[str, str]:
    kind = error.get("kind")
    message = str(error.get("message", ""))[:1000]
    if kind in ("syntax_error", "missing_entry_point", "memory_error", "bad_output"):
        return kind, message
    if kind == "exception":
        kind_name = str(error.get("type", "Exception"))[:100]
        if kind_name == "MemoryError":
            return "memory_error", message
        trace = str(error.get("traceback", ""))[-1500:]
        if kind_name == "ModuleNotFoundError":  # what a model needs to write the next program
            message += f" ({AVAILABLE_MODULES})"
        return "crash", f"{kind_name}: {message}\n{trace}".strip()
    return "crash", f"{kind}: {message}"
