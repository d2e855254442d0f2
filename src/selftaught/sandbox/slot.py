"""One worker slot: a bwrap instance running one fork-server.

The slot starts and stops the fork-server and, per run, sends it a run request with two
fresh descriptors; the Conversation (conversation.py) then talks to the child and records
what happened (RawRun); SandboxPool judges it.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from typing import Any

from selftaught.errors import SelftaughtError
from selftaught.sandbox import isolation
from selftaught.sandbox.cgroup import MemoryCgroups, SlotCgroup
from selftaught.sandbox.config import SandboxConfig
from selftaught.sandbox.conversation import Conversation, RawRun, WallLimits

LAUNCH_ENV = {"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"}  # bwrap replaces it; see SandboxPool


# Under memory pressure the kernel's OOM killer must choose a sandbox, never the engine or the
# host: the shell raises its own oom_score_adj to the maximum (raising needs no privilege), then
# becomes bwrap, and every process of the sandbox inherits it.
# It then waits for a line on stdin: the host first moves it into the slot's memory cgroup, if
# there is one (cgroup.py), so that everything the sandbox starts is born inside it.
OOM_FIRST = ["/bin/sh", "-c", 'echo 1000 > /proc/self/oom_score_adj; read _go; exec "$@" </dev/null',
             "selftaught-sandbox"]


class Slot:
    """One bwrap instance running one fork-server, with its own uid. Not thread-safe:
    the pool hands a slot to one caller at a time."""

    def __init__(self, index: int, config: SandboxConfig, launch: dict, launcher: Executor, pool: int = 0,
                 cgroups: MemoryCgroups | None = None) -> None:
        self.index = index
        self.cgroup: SlotCgroup | None = cgroups.make(f"{pool}-{index}") if cgroups is not None else None
        self.config = config
        self.launch = launch  # argv prefix, boot source and settings (see SandboxPool)
        self.launcher = launcher  # the pool-lifetime thread every bwrap is started from
        self.identity = isolation.identity_for_slot(index, config.uid_base, pool)
        self.process: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        self.errors: Any = None
        self.runs = 0
        self.run_ids = itertools.count(1)
        self.hello: dict = {}
        self.resetting: int | None = None  # the run whose scratch reset the fork-server has yet to confirm

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        config, launch = self.config, self.launch
        host_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        settings = dict(launch["settings"], control_fd=child_end.fileno())
        if config.unsafe:  # no mount namespace: at least a directory of its own per slot
            settings["scratch"] = os.path.join(settings["scratch"], f"slot-{self.index}")
            os.makedirs(settings["scratch"], mode=0o700, exist_ok=True)
        # -I without its -E: the one PYTHON* variable set, PYTHONHASHSEED, must apply, so that
        # str hashes (set and dict order) do not change when a fork-server is replaced
        argv = OOM_FIRST + launch["prefix"] + [config.python, "-P", "-s", "-S", "-B", "-c", launch["boot"],
                                               json.dumps(settings)]
        self.errors = tempfile.TemporaryFile()
        as_user = {}
        if os.geteuid() == 0 and not config.unsafe:
            as_user = dict(user=self.identity.uid, group=self.identity.gid, extra_groups=[])
        try:
            # bwrap's --die-with-parent follows the *thread* that forked it, so every
            # sandbox is launched from one pool-lifetime thread, never a short-lived one.
            self.process = self.launcher.submit(
                subprocess.Popen, argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                stderr=self.errors, pass_fds=[child_end.fileno()], start_new_session=True,
                cwd="/", env=dict(LAUNCH_ENV), **as_user,  # bwrap's own env is visible inside
            ).result()
        except OSError as exc:
            host_end.close()
            raise SelftaughtError(f"cannot start the sandbox: {exc}", isolation.FIX_ISOLATION) from None
        finally:
            child_end.close()
        try:
            if self.cgroup is not None:
                self.cgroup.adopt(self.process.pid)
            self.process.stdin.write(b"go\n")
            self.process.stdin.close()
        except OSError as exc:
            self._kill_tree()
            host_end.close()
            raise SelftaughtError(f"cannot start the sandbox in its memory cgroup: {exc}",
                                  isolation.FIX_ISOLATION) from None
        self.control = host_end
        host_end.settimeout(config.start_timeout_s)
        try:
            hello = json.loads(host_end.recv(65536) or b"{}")
        except (OSError, ValueError):
            hello = {}
        host_end.settimeout(None)
        if type(hello) is not dict or not hello.get("hello"):
            detail = self._stderr_tail()
            self.stop()
            raise SelftaughtError(f"the sandbox failed to start: {detail or 'no output'}",
                                  isolation.FIX_ISOLATION)
        if not config.unsafe and not hello.get("seccomp"):
            self.stop()
            raise SelftaughtError(f"the sandbox could not load its seccomp filter: "
                                  f"{hello.get('seccomp_error')}", isolation.FIX_ISOLATION)
        if hello.get("scratch_error"):
            self.stop()
            raise SelftaughtError(f"the sandbox could not mount its scratch directory: "
                                  f"{hello.get('scratch_error')}", isolation.FIX_ISOLATION)
        if hello.get("pids_error"):
            self.stop()
            raise SelftaughtError(f"the sandbox could not give programs a pid namespace of their own: "
                                  f"{hello.get('pids_error')}", isolation.FIX_ISOLATION)
        self.hello = hello
        if self.cgroup is not None and not self.cgroup.baseline:
            # the first fork-server, started and idle: measured once, since what earlier programs
            # left charged to the cgroup (reclaimable caches) would otherwise raise it at each restart
            self.cgroup.baseline = self.cgroup.usage()
        self.runs = 0
        self.resetting = None

    def stop(self) -> None:
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.process is not None:
            try:
                self.process.wait(timeout=0.5)  # closing control makes the fork-server exit
            except subprocess.TimeoutExpired:
                self._kill_tree()
            self.process = None
            isolation.reap_orphans()
        if self.errors is not None:
            self.errors.close()
            self.errors = None

    def _limit_memory(self, limits: dict) -> bool:
        """Set the slot's cgroup limit for the next run (cgroup.py); False if the kernel refused."""
        if self.cgroup is None or not limits.get("as_bytes"):
            return True
        try:
            self.cgroup.limit(limits["as_bytes"])
            return True
        except OSError:
            return False

    def close(self) -> None:
        """Stop for good: also remove the slot's memory cgroup."""
        self.stop()
        if self.cgroup is not None:
            self.cgroup.remove()

    def _kill_tree(self) -> None:
        """SIGKILL bwrap's session; --die-with-parent then tears down the pid namespace."""
        assert self.process is not None
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except OSError:
            pass
        self.process.wait()

    def _stderr_tail(self) -> str:
        if self.errors is None:
            return ""
        self.errors.seek(0)
        return self.errors.read()[-2000:].decode("utf-8", "replace").strip()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _ready(self) -> bool:
        """Wait (before the next program's clock starts) for the fork-server to confirm that it
        reset the scratch after the last run; False: rebuild this slot first."""
        if not self.alive():
            return False
        if self.resetting is None:
            return True
        deadline = time.monotonic() + self.config.scratch_reset_timeout_s
        try:
            while (left := deadline - time.monotonic()) > 0:
                self.control.settimeout(left)
                message = json.loads(self.control.recv(65536) or b"null")
                if message is None:
                    return False
                if type(message) is dict and message.get("ready") == self.resetting:
                    self.resetting = None
                    return message.get("clean") is True
        except (OSError, ValueError):
            return False
        finally:
            if self.control is not None:
                self.control.settimeout(None)
        return False

    # -- one run ---------------------------------------------------------------------------

    def execute(self, job: dict, limits: dict, wall: WallLimits, handlers: Mapping[str, Callable] | None = None,
                arguments_fd: int | None = None) -> RawRun:
        """Run one job in a fresh child (see Conversation). arguments_fd: for a call, the memfd
        holding the encoded arguments, which the fork-server hands over once the clock runs."""
        if not self._ready() or self.runs >= self.config.recycle_after:
            self.stop()
            self.start()
        if not self._limit_memory(limits):
            # the slot holds more than the next run's limit allows (kernel memory a program left
            # that cannot be reclaimed): a fresh slot starts from its baseline
            self.stop()
            self.start()
            if not self._limit_memory(limits):
                raise SelftaughtError(f"cannot set the memory limit of {self.cgroup.path}",
                                      "run with SandboxConfig(memory_cgroups=False), or check the cgroup")
        self.runs += 1
        run_id = next(self.run_ids)
        self.resetting = run_id
        host_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        capture_r, capture_w = os.pipe()
        conversation = Conversation(self.config, self.control, run_id, host_sock, capture_r, handlers)
        run = conversation.run
        try:
            message = json.dumps({"op": "run", "id": run_id, "limits": limits}).encode()
            fds = [child_sock.fileno(), capture_w] + ([arguments_fd] if arguments_fd is not None else [])
            socket.send_fds(self.control, [message], fds)
        except OSError:
            run.worker_died = True
        finally:
            child_sock.close()
            os.close(capture_w)
        try:
            if not run.worker_died:
                conversation.converse(job, wall)
        finally:
            host_sock.close()
            os.close(capture_r)
        if run.worker_died:
            run.worker_stderr = self._stderr_tail()[-500:]
            self.stop()
        return run
