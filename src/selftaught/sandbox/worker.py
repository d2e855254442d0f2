"""The runtime that runs *inside* the sandbox: the fork-server.

Stdlib only (plus pyseccomp and, optionally, numpy, both bind-mounted read-only). The host
ships this file, protocol.py, syscall_filter.py and child.py into the sandbox as source
text, so nothing of the project is mounted there.

Process layout inside one bwrap instance (one worker slot):

* the fork-server ("zygote") imports everything once, builds the seccomp filter once, then
  waits on the control socket. For each program it receives two fresh descriptors from the
  host (a data socket, a stdout/stderr pipe and, for a call, a memfd holding the arguments),
  forks, and supervises the child: it reads the child's CPU clock when the child is ready
  (then hands it the arguments) and when it is done, enforces each phase's CPU limit and
  wall-clock backstop, and reports the exit status with the clock readings;
* the child (child.py) drops into its own session, drops every capability, applies rlimits
  and seccomp, then talks to the host directly over the data socket. Everything it says is untrusted data to the
  host, and nothing in it can be trusted once the program has run, which is why the
  fork-server, not the child, measures the time of a call.

What each program finds fresh (its scratch, its pid namespace) is in fresh.py.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import select
import signal
import socket
import sys
import time
import types

try:  # inside the sandbox the host registers the sources under these names
    import sbx_child as child  # type: ignore[import-not-found]
    import sbx_fresh as fresh  # type: ignore[import-not-found]
    import sbx_syscall_filter as syscall_filter  # type: ignore[import-not-found]
except ImportError:  # imported on the host side (tests, docs)
    from selftaught.sandbox import child, fresh, syscall_filter

MIN_POLL_S = 0.002  # how often, at most, the CPU limit is checked near its end
_CPUS = max(len(os.sched_getaffinity(0)), 1)  # a child's CPU time grows at most this fast


def main(settings: dict) -> None:
    """Entry point of the fork-server; `settings` comes from the host as JSON."""
    control = socket.socket(fileno=settings["control_fd"])
    sys.path[:0] = settings.get("extra_paths", [])
    os.environ.update({"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
    _set_dumpable_off(settings)
    for name, source in settings.get("helper_modules", []):
        module = types.ModuleType(name)
        exec(compile(source, f"<{name}>", "exec"), module.__dict__)
        sys.modules[name] = module
    loaded = []
    for name in settings.get("preload", []):
        try:
            __import__(name)
            loaded.append(name)
        except Exception:  # optional modules (numpy) may be missing
            pass
    child.prepare_generators()
    child.prepare_capabilities(settings.get("libc", "libc.so.6"))
    scratch, scratch_error = None, None
    try:
        scratch = fresh.Scratch(settings)
    except Exception as exc:  # fail closed: the host refuses to run without a fresh scratch
        scratch_error = f"{type(exc).__name__}: {exc}"
    pids, pids_error = None, None
    try:
        pids = fresh.FreshPids(settings)
    except Exception as exc:  # fail closed: the host refuses to run without it
        pids_error = f"{type(exc).__name__}: {exc}"
    seccomp_filter, seccomp_error = None, None
    if settings.get("seccomp"):
        try:
            # in a pid namespace of its own a program can name no other process (see FreshPids)
            parent = None if pids is not None and pids.on else os.getpid()
            seccomp_filter = syscall_filter.CompiledFilter(
                syscall_filter.build_filter(settings, parent), settings["libc"])
        except Exception as exc:  # fail closed: the host refuses to run without it
            seccomp_error = f"{type(exc).__name__}: {exc}"
    control.send(json.dumps({"hello": True, "preloaded": loaded, "seccomp": seccomp_filter is not None,
                             "seccomp_error": seccomp_error, "scratch_error": scratch_error,
                             "pids_error": pids_error, "pid_namespaces": pids.mode if pids else None}).encode())
    if (settings.get("seccomp") and seccomp_filter is None) or scratch is None or pids is None:
        return
    gc.freeze()  # keep the preloaded heap shared copy-on-write across forks
    while True:
        try:
            data, fds, _flags, _addr = socket.recv_fds(control, 65536, 4)
        except OSError:
            return
        if not data:
            for fd in fds:
                os.close(fd)
            return  # host closed the control socket: shut down
        request = json.loads(data)
        if request.get("op") != "run" or len(fds) not in (2, 3):
            for fd in fds:
                os.close(fd)
            continue
        _serve_one(control, request, fds, seccomp_filter, settings, pids)
        clean = scratch.reset()
        control.send(json.dumps({"ready": request["id"], "clean": clean}).encode())
        if not clean:
            return  # the host rebuilds this slot before the next program


class CpuClock:
    """A child's CPU time as the kernel counts it: every thread, live or exited, readable
    by its parent until the child is reaped, and beyond the child's reach.

    The module phase runs from the fork to start(), the call from start() to stop() (or the
    exit, if the child dies first); each phase has its own CPU limit (None: no limit, as for
    improvers, which the host times by wall clock)."""

    def __init__(self, pid: int, module_limit_s: float | None, call_limit_s: float | None) -> None:
        self.clock_id = ((~pid) << 3) | 2  # CPUCLOCK_SCHED of process `pid` (clock_getcpuclockid(3))
        self.module_limit_s, self.call_limit_s = module_limit_s, call_limit_s
        self.started_at: float | None = None
        self.stopped_at: float | None = None
        self.cpus = _CPUS

    def read(self) -> float:
        return time.clock_gettime(self.clock_id)

    def start(self) -> None:
        self.started_at = self.read()

    def stop(self) -> None:
        self.stopped_at = self.read()

    def next_check(self) -> float | None:
        """Seconds before the current phase can reach its limit (0.0: it has); None: no limit."""
        if self.started_at is None:
            limit, used = self.module_limit_s, self.read()
        else:
            limit, used = self.call_limit_s, self.read() - self.started_at
        if limit is None:
            return None
        if used > limit:
            return 0.0
        # CPU time grows at most `cpus` times as fast as the wall clock
        return max((limit - used) / self.cpus, MIN_POLL_S)


class Supervisor:
    """Watches one child: hands it its arguments once its clock has started, ends it when it
    is done or over a limit (CPU time, or the wall-clock backstop of its phase)."""

    def __init__(self, pid: int, limits: dict, clock_sock: socket.socket | None, args_fd: int | None) -> None:
        self.pid, self.clock_sock, self.args_fd = pid, clock_sock, args_fd
        self.clock = CpuClock(pid, limits.get("module_cpu_s"), limits.get("call_cpu_s"))
        self.walls = (limits.get("module_wall_s"), limits.get("call_wall_s"))
        self.phase_began = time.monotonic()
        self.call_wall_s: float | None = None
        self.over: str | None = None  # the backstop that ended the child
        self.violation: str | None = None  # how the child broke the clock protocol, if it did
        self.killed = self.done = False

    def timeout(self) -> float | None:
        """How long select() may sleep; kills the child once a limit is reached."""
        if self.killed:
            return None
        cpu_wait = self.clock.next_check()
        wall = self.walls[1] if self.clock.started_at is not None else self.walls[0]
        wall_wait = None if wall is None else self.phase_began + wall - time.monotonic()
        if cpu_wait == 0.0:
            self.kill()  # over its CPU limit; the host judges it from the readings
        elif wall_wait is not None and wall_wait <= 0:
            self.over = "call_wall" if self.clock.started_at is not None else "module_wall"
            self.kill()
        else:
            waits = [w for w in (cpu_wait, wall_wait) if w is not None]
            return min(waits) if waits else None
        return None

    def on_clock_message(self) -> bool:
        """Act on the child's message; False once its end is closed (stop watching it)."""
        try:
            message = self.clock_sock.recv(16)
        except OSError:
            message = b""
        if not message:
            return False
        if self.killed:
            return False
        # The protocol is "ready" before the call and "done" after it (or "done" alone, when the
        # module failed before any call). Anything else ends the child: a flood of messages would
        # otherwise cost this process CPU charged to nobody (seen: 2.6-4.3 s per call).
        expected = (b"ready", b"done") if self.clock.started_at is None else (b"done",)
        if message not in expected:
            self.violation = (f"sent {message[:16]!r} on the clock socket where the fork-server expected "
                              + " or ".join(repr(e) for e in expected))
            self.kill()
            return False
        if message == b"ready":
            self.clock.start()
            self.phase_began = time.monotonic()
            try:
                socket.send_fds(self.clock_sock, [b"go"], [self.args_fd])
            except OSError:
                pass
        else:
            self.clock.stop()  # before the kill: the child waits for it, using no CPU
            if self.clock.started_at is not None:
                self.call_wall_s = time.monotonic() - self.phase_began
            self.kill()
            self.done = True
        return True

    def kill(self) -> None:
        _kill(self.pid)
        self.killed = True

    def report(self, run_id: int, status: int, cpu_s: float) -> dict:
        return {"exited": run_id, "status": status, "cpu_s": cpu_s, "clock_s": self.clock.started_at,
                "call_wall_s": self.call_wall_s, "over": self.over, "violation": self.violation}


def _serve_one(control: socket.socket, request: dict, fds: list, seccomp_filter, settings,
               pids: fresh.FreshPids) -> None:
    run_id, limits = request["id"], request["limits"]
    calling = len(fds) == 3  # a call brings the memfd holding its arguments
    clock_parent, clock_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET) if calling else (None, None)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = pids.fork()
    if pid == 0:
        try:
            control.close()
            if calling:
                clock_parent.close()
            child.run_child(fds[0], fds[1], clock_child.detach() if calling else None, limits,
                            seccomp_filter, settings)
        finally:
            os._exit(70)
    for fd in fds[:2]:
        os.close(fd)
    if calling:
        clock_child.close()
    watch = Supervisor(pid, limits, clock_parent, fds[2] if calling else None)
    pidfd = os.pidfd_open(pid)
    try:
        sources = [control, pidfd] + ([clock_parent] if calling else [])
        while True:
            ready, _, _ = select.select(sources, [], [], watch.timeout())
            if pidfd in ready:
                break
            if clock_parent is not None and clock_parent in ready and not watch.on_clock_message():
                sources.remove(clock_parent)  # closed: it would read as ready forever
            if watch.done:
                break  # killed: waitid below returns as soon as it is gone
            if control not in ready:
                continue
            data = control.recv(65536)
            if not data:  # host is gone
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                sys.exit(0)
            if json.loads(data).get("op") == "kill":
                watch.kill()
        cpu_s = watch.clock.stopped_at
        if cpu_s is None:  # it ended without saying it was done: its clock at the end
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # a zombie's clock still reads
            cpu_s = watch.clock.read()
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(pidfd)
        if calling:
            clock_parent.close()
            os.close(fds[2])
    # Report first, reset the scratch second (see main): the host can judge this run meanwhile.
    control.send(json.dumps(watch.report(run_id, status, cpu_s)).encode())


def _kill(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except OSError:
            pass


def _set_dumpable_off(settings: dict) -> None:
    """A non-dumpable fork-server cannot be written through /proc/<pid>/mem by a child."""

    libc = ctypes.CDLL(settings.get("libc", "libc.so.6"), use_errno=True)
    libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    # No transparent huge pages for this fork-server and every program it forks (inherited): a
    # 4 KiB page pinned anywhere must not hold a 2 MiB folio in the kernel.
    libc.prctl(41, 1, 0, 0, 0)  # PR_SET_THP_DISABLE = 41
