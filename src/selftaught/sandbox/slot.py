"""One worker slot: a bwrap instance running one fork-server, and the per-run conversation.

The slot sends a run request (with two fresh descriptors) to the fork-server, then talks
to the child directly: sends the job, answers proxy requests, collects frames, output and
the exit status, and enforces the wall-clock limit. It only records what happened
(RawRun); SandboxPool judges it.
"""

from __future__ import annotations

import itertools
import json
import os
import selectors
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from selftaught.errors import SelftaughtError
from selftaught.sandbox import isolation, protocol
from selftaught.sandbox.config import SandboxConfig

_MAX_REQUESTS = 10_000  # proxy requests per run; a flood would only grow the host's queue


class RawRun:
    """What one run produced, before it is judged."""

    def __init__(self) -> None:
        self.result: dict | None = None
        self.error: dict | None = None
        self.exit_status: int | None = None
        self.timed_out = False
        self.worker_died = False
        self.worker_stderr = ""
        self.protocol_error: str | None = None
        self.events: list[str] = []
        self.requests = 0
        self.handler_errors: list[str] = []
        self.output = bytearray()
        self.wall_time_s = 0.0


class Slot:
    """One bwrap instance running one fork-server, with its own uid. Not thread-safe:
    the pool hands a slot to one caller at a time."""

    def __init__(self, index: int, config: SandboxConfig, launch: dict, launcher: Executor) -> None:
        self.index = index
        self.config = config
        self.launch = launch  # argv prefix, boot source and settings (see SandboxPool)
        self.launcher = launcher  # the pool-lifetime thread every bwrap is started from
        self.identity = isolation.identity_for_slot(index, config.uid_base)
        self.process: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        self.errors: Any = None
        self.runs = 0
        self.run_ids = itertools.count(1)
        self.hello: dict = {}

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        config, launch = self.config, self.launch
        host_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        settings = dict(launch["settings"], control_fd=child_end.fileno())
        argv = launch["prefix"] + [config.python, "-I", "-S", "-B", "-c", launch["boot"],
                                   json.dumps(settings)]
        self.errors = tempfile.TemporaryFile()
        as_user = {}
        if os.geteuid() == 0 and not config.unsafe:
            as_user = dict(user=self.identity.uid, group=self.identity.gid, extra_groups=[])
        try:
            # bwrap's --die-with-parent follows the *thread* that forked it, so every
            # sandbox is launched from one pool-lifetime thread, never a short-lived one.
            self.process = self.launcher.submit(
                subprocess.Popen, argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=self.errors, pass_fds=[child_end.fileno()], start_new_session=True,
                cwd="/", env={"PATH": "/usr/bin:/bin"}, **as_user,  # bwrap's own env is visible inside
            ).result()
        except OSError as exc:
            host_end.close()
            raise SelftaughtError(f"cannot start the sandbox: {exc}", isolation.FIX_ISOLATION) from None
        finally:
            child_end.close()
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
        self.hello = hello
        self.runs = 0

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

    # -- one run ---------------------------------------------------------------------------

    def execute(self, job: dict, limits: dict, time_limit_s: float,
                handlers: Mapping[str, Callable] | None = None) -> RawRun:
        if not self.alive() or self.runs >= self.config.recycle_after:
            self.stop()
            self.start()
        self.runs += 1
        run, run_id = RawRun(), next(self.run_ids)
        host_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        capture_r, capture_w = os.pipe()
        try:
            message = json.dumps({"op": "run", "id": run_id, "limits": limits}).encode()
            socket.send_fds(self.control, [message], [child_sock.fileno(), capture_w])
        except OSError:
            run.worker_died = True
        finally:
            child_sock.close()
            os.close(capture_w)
        try:
            if not run.worker_died:
                self._converse(run, run_id, host_sock, capture_r, job, time_limit_s, handlers)
        finally:
            host_sock.close()
            os.close(capture_r)
        if run.worker_died:
            run.worker_stderr = self._stderr_tail()[-500:]
            self.stop()
        return run

    def _converse(self, run: RawRun, run_id: int, sock: socket.socket, capture_r: int,
                  job: dict, time_limit_s: float, handlers) -> None:
        config = self.config
        reader = protocol.FrameReader(config.max_frame_bytes)
        send_lock = threading.Lock()
        executor = ThreadPoolExecutor(max_workers=4) if handlers else None
        sock.settimeout(max(time_limit_s, 1.0))  # bounds sendall() if the child stops reading
        start = time.perf_counter()
        deadline = start + time_limit_s
        kill_sent_at: float | None = None
        selector = selectors.DefaultSelector()
        try:
            try:
                sock.sendall(protocol.encode_frame(job, config.max_frame_bytes))
            except (OSError, protocol.ProtocolError):
                pass  # the child died or will not read: its exit status says why
            selector.register(sock, selectors.EVENT_READ, "data")
            selector.register(capture_r, selectors.EVENT_READ, "output")
            selector.register(self.control, selectors.EVENT_READ, "control")
            while run.exit_status is None:
                now = time.perf_counter()
                finished = run.result is not None or run.error is not None or run.protocol_error
                if finished and run.wall_time_s == 0.0:
                    run.wall_time_s = now - start
                    deadline = min(deadline, now + 0.2)  # a clean child exits right away
                if kill_sent_at is None and now >= deadline:
                    run.timed_out = not finished
                    self._send_kill(run_id)
                    kill_sent_at = now
                if kill_sent_at is not None and now - kill_sent_at > config.kill_grace_s:
                    run.worker_died = True  # the fork-server did not answer: restart it
                    break
                wait = (kill_sent_at + config.kill_grace_s if kill_sent_at is not None else deadline) - now
                for key, _ in selector.select(max(wait, 0.0)):
                    if key.data == "output":
                        self._read_output(run, capture_r, selector)
                    elif key.data == "control":
                        self._read_control(run, run_id)
                        if run.worker_died:
                            return
                    else:
                        self._read_data(run, sock, reader, selector, handlers, executor, send_lock)
            if run.wall_time_s == 0.0:
                run.wall_time_s = time.perf_counter() - start
            self._drain_output(run, capture_r)
        finally:
            selector.close()
            if executor is not None:
                executor.shutdown(wait=False, cancel_futures=True)

    def _send_kill(self, run_id: int) -> None:
        try:
            self.control.send(json.dumps({"op": "kill", "id": run_id}).encode())
        except OSError:
            pass

    def _read_output(self, run: RawRun, fd: int, selector) -> None:
        data = os.read(fd, 65536)
        if not data:
            selector.unregister(fd)
            return
        run.output += data
        del run.output[: -self.config.stderr_tail_bytes]

    def _drain_output(self, run: RawRun, fd: int) -> None:
        os.set_blocking(fd, False)
        try:
            while data := os.read(fd, 65536):
                run.output += data
                del run.output[: -self.config.stderr_tail_bytes]
        except (BlockingIOError, OSError):
            pass

    def _read_control(self, run: RawRun, run_id: int) -> None:
        try:
            data = self.control.recv(65536)
        except OSError:
            data = b""
        if not data:
            run.worker_died = True
            return
        try:
            message = json.loads(data)
        except ValueError:
            return
        if type(message) is dict and message.get("exited") == run_id and type(message.get("status")) is int:
            run.exit_status = message["status"]

    def _read_data(self, run: RawRun, sock, reader, selector, handlers, executor, send_lock) -> None:
        try:
            data = sock.recv(1 << 20)
        except OSError:
            data = b""
        if not data:
            selector.unregister(sock)
            return
        try:
            frames = reader.feed(data)
        except protocol.ProtocolError as exc:
            run.protocol_error = str(exc)
            selector.unregister(sock)
            return
        for frame in frames:
            if "result" in frame or ("error" in frame and type(frame["error"]) is dict):
                if "result" in frame:
                    run.result = frame
                else:
                    run.error = frame["error"]
                selector.unregister(sock)  # nothing after the answer counts
                return
            if type(frame.get("event")) is str and len(run.events) < 64:
                run.events.append(frame["event"][:64])
            elif "request" in frame and handlers:
                run.requests += 1
                if run.requests > _MAX_REQUESTS:  # a flood would only grow the host's queue
                    run.protocol_error = f"more than {_MAX_REQUESTS} proxy requests in one run"
                    selector.unregister(sock)
                    return
                executor.submit(_answer, frame, handlers, sock, send_lock, run,
                                self.config.max_frame_bytes)


def _answer(frame: dict, handlers, sock, send_lock, run: RawRun, max_bytes: int) -> None:
    """Run one proxy request on the host and send the reply (in a handler thread)."""
    request_id = frame.get("request")
    try:
        target, method = frame.get("target"), frame.get("method")
        kwargs = protocol.from_wire(frame.get("kwargs", {}))
        if target not in handlers or type(method) is not str or type(kwargs) is not dict:
            raise ValueError(f"unknown request {target!r}.{method!r}")
        if target == "utility":
            solution = kwargs.get("solution")
            if type(solution) is not str:
                raise TypeError("utility(solution) needs the solution as a string")
            value = handlers["utility"](solution)
        else:
            value = handlers[target](method, kwargs)
        reply = {"response": request_id, "value": protocol.to_wire(value)}
    except Exception as exc:  # BudgetExceeded included: it is re-raised inside the sandbox
        message = getattr(exc, "problem", None) or str(exc)
        reply = {"response": request_id, "error": {"type": type(exc).__name__, "message": message}}
        if type(exc).__name__ != "BudgetExceeded":
            run.handler_errors.append(f"{type(exc).__name__}: {message}"[:300])
    try:
        frame_bytes = protocol.encode_frame(reply, max_bytes)
        with send_lock:
            sock.sendall(frame_bytes)
    except (OSError, protocol.ProtocolError):
        pass  # the run is over or the child stopped reading
