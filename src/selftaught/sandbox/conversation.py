"""One run, as the host sees it: the conversation with a child and its fork-server.

The host sends the job to the child and waits for its answer and for the fork-server's
exit report. For a call, the arguments travel separately (a memfd handed to the fork-server,
which gives it to the child only once the child's CPU clock has started; see child.py), and
the fork-server enforces the CPU limits and each phase's wall-clock backstop; the host's own
deadline only catches a fork-server that stopped answering. For an improver, the host's
deadline is the (wall-clock) limit. Nothing is judged here: RawRun records what happened.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from selftaught.sandbox import protocol
from selftaught.sandbox.config import SandboxConfig

_MAX_REQUESTS = 10_000  # proxy requests per run; a flood would only grow the host's queue
# Host work per run is bounded whatever the sandbox sends: frames, bytes, requests waiting for
# a handler (beyond _MAX_PENDING the host stops reading, so the child blocks on its own send).
_MAX_FRAMES = 20_000
_MAX_PENDING = 4
_MAX_EVENT_BYTES = 4096
_EXIT_GRACE_S = 0.2  # a clean child exits right after its answer


@dataclass(frozen=True)
class WallLimits:
    """Wall-clock limits, in seconds. An improver: `first_phase_s` is its limit. A call:
    the backstops of the module phase and of the call phase, enforced by the fork-server."""

    first_phase_s: float
    call_s: float | None = None  # None: one phase, the host enforces first_phase_s

    @property
    def host_deadline_s(self) -> float:
        """After this the host kills the run itself."""
        if self.call_s is None:
            return self.first_phase_s
        return self.first_phase_s + self.call_s + 1.0  # the fork-server was due long before


class RawRun:
    """What one run produced, before it is judged."""

    def __init__(self) -> None:
        self.result: dict | None = None
        self.error: dict | None = None
        self.exit_status: int | None = None
        self.wall_timeout = False  # the host's deadline ended the run
        self.over: str | None = None  # the backstop with which the fork-server ended it
        self.worker_died = False
        self.worker_stderr = ""
        self.protocol_error: str | None = None
        self.events: list[str] = []
        self.requests = 0
        self.handler_errors: list[str] = []
        self.output = bytearray()
        self.output_bytes = 0  # all the run wrote to stdout/stderr
        self.output_over = False  # ...past the sandbox's max_output_bytes: the host stopped reading
        self.violation: str | None = None  # how the child broke the fork-server's clock protocol
        self.wall_time_s = 0.0  # of the call (fork-server: arguments handed over to done), or the run
        self.cpu_s: float | None = None  # the child's CPU clock when done or at exit (fork-server)
        self.clock_s: float | None = None  # ...when the call started (None: it never did)

    @property
    def finished(self) -> bool:
        return self.result is not None or self.error is not None or self.protocol_error is not None


class Conversation:
    """Drives one run to the child's exit. Single-threaded except for proxy handlers."""

    def __init__(self, config: SandboxConfig, control: socket.socket, run_id: int, sock: socket.socket,
                 capture_r: int, handlers: Mapping[str, Callable] | None) -> None:
        self.config, self.control, self.run_id = config, control, run_id
        self.sock, self.capture_r, self.handlers = sock, capture_r, handlers
        self.run = RawRun()
        # The child's own runtime never sends more than max_result_bytes in one frame.
        self.reader = protocol.FrameReader(config.max_result_bytes)
        self.bytes_read = self.frames_read = 0
        self.pending = 0  # requests handed to handler threads and not yet answered
        self.pending_lock = threading.Lock()
        self.reading = self.paused = False
        self.send_lock = threading.Lock()
        self.executor = ThreadPoolExecutor(max_workers=4) if handlers else None
        self.selector = selectors.DefaultSelector()

    def converse(self, job: dict, limits: WallLimits) -> RawRun:
        run, config = self.run, self.config
        self.sock.settimeout(max(limits.host_deadline_s, 1.0))  # bounds sendall()
        started = time.perf_counter()
        deadline = started + limits.host_deadline_s
        kill_sent_at: float | None = None
        try:
            try:
                self._send(protocol.encode_frame(job, config.max_frame_bytes))
            except protocol.ProtocolError:
                pass  # an oversized program: the child waits for a job until the backstop
            self.selector.register(self.sock, selectors.EVENT_READ, "data")
            self.reading = True
            self.selector.register(self.capture_r, selectors.EVENT_READ, "output")
            self.selector.register(self.control, selectors.EVENT_READ, "control")
            while run.exit_status is None:
                now = time.perf_counter()
                if run.finished and run.wall_time_s == 0.0:
                    run.wall_time_s = now - started
                    deadline = min(deadline, now + _EXIT_GRACE_S)
                if run.output_over:
                    deadline = min(deadline, now)  # end it now: nothing it writes is read any more
                if kill_sent_at is None and now >= deadline:
                    run.wall_timeout = not run.finished
                    self._send_control({"op": "kill", "id": self.run_id})
                    kill_sent_at = now
                if kill_sent_at is not None and now - kill_sent_at > config.kill_grace_s:
                    run.worker_died = True  # the fork-server did not answer: restart it
                    break
                wait = (kill_sent_at + config.kill_grace_s if kill_sent_at is not None else deadline) - now
                if self.paused:
                    self._resume_reading()
                    wait = min(wait, 0.02)  # poll until a handler frees a place
                for key, _ in self.selector.select(max(wait, 0.0)):
                    if key.data == "output":
                        self._read_output()
                    elif key.data == "control":
                        self._read_control()
                        if run.worker_died:
                            return run
                    else:
                        self._read_data()
            if run.wall_time_s == 0.0:
                run.wall_time_s = time.perf_counter() - started
            if self.reading and not run.finished:
                self._drain_answer()
            self._drain_output()
        finally:
            self.selector.close()
            if self.executor is not None:
                self.executor.shutdown(wait=False, cancel_futures=True)
        return run

    def _send(self, frame: bytes) -> None:
        try:
            self.sock.sendall(frame)
        except OSError:
            pass  # the child died or will not read: its exit status says why

    def _send_control(self, message: dict) -> None:
        try:
            self.control.send(json.dumps(message).encode())
        except OSError:
            pass

    def _read_output(self) -> None:
        data = os.read(self.capture_r, 65536)
        if not data:
            self.selector.unregister(self.capture_r)
            return
        self.run.output += data
        del self.run.output[: -self.config.stderr_tail_bytes]
        self.run.output_bytes += len(data)
        if self.run.output_bytes > self.config.max_output_bytes:
            self.run.output_over = True
            self.selector.unregister(self.capture_r)  # the program now blocks on a full pipe

    def _drain_output(self) -> None:
        if self.run.output_over:
            return
        os.set_blocking(self.capture_r, False)
        try:
            while data := os.read(self.capture_r, 65536):
                self.run.output += data
                del self.run.output[: -self.config.stderr_tail_bytes]
        except (BlockingIOError, OSError):
            pass

    def _drain_answer(self) -> None:
        """The child has ended; frames it sent before may still wait in the socket (the host
        stops reading while a run's requests are pending). Its answer counts; requests it can
        no longer use are not run."""
        self.sock.setblocking(False)
        while not self.run.finished:
            try:
                data = self.sock.recv(1 << 20)
            except OSError:
                return
            self.bytes_read += len(data)
            if not data or self.bytes_read > self.config.max_bytes_per_run:
                return
            try:
                frames = self.reader.feed_sized(data)
            except protocol.ProtocolError:
                return
            for _, frame in frames:
                if "result" in frame:
                    self.run.result = frame
                    return
                if "error" in frame and type(frame["error"]) is dict:
                    self.run.error = frame["error"]
                    return

    def _read_control(self) -> None:
        run = self.run
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
        if type(message) is not dict:
            return
        if message.get("exited") == self.run_id and type(message.get("status")) is int:
            run.cpu_s = _seconds(message.get("cpu_s"))
            run.clock_s = _seconds(message.get("clock_s"))
            call_wall_s = _seconds(message.get("call_wall_s"))
            if call_wall_s is not None:
                run.wall_time_s = call_wall_s
            run.over = message.get("over") if message.get("over") in ("module_wall", "call_wall") else None
            violation = message.get("violation")
            run.violation = violation[:200] if type(violation) is str else None
            run.exit_status = message["status"]

    def _stop_reading(self, problem: str | None = None) -> None:
        """Read nothing more from the child (after its answer, at EOF, or on a protocol error)."""
        if problem is not None:
            self.run.protocol_error = problem
        if self.reading and not self.paused:
            self.selector.unregister(self.sock)
        self.reading = self.paused = False

    def _resume_reading(self) -> None:
        with self.pending_lock:
            if self.pending >= _MAX_PENDING:
                return
        self.paused = False
        self.selector.register(self.sock, selectors.EVENT_READ, "data")

    def _read_data(self) -> None:
        run, config = self.run, self.config
        try:
            data = self.sock.recv(1 << 20)
        except OSError:
            data = b""
        if not data:
            self._stop_reading()
            return
        self.bytes_read += len(data)
        if self.bytes_read > config.max_bytes_per_run:
            self._stop_reading(f"the sandbox sent more than {config.max_bytes_per_run} bytes in one run")
            return
        try:
            frames = self.reader.feed_sized(data)
        except protocol.ProtocolError as exc:
            self._stop_reading(str(exc))
            return
        for size, frame in frames:
            self.frames_read += 1
            if self.frames_read > _MAX_FRAMES:
                self._stop_reading(f"more than {_MAX_FRAMES} frames in one run")
                return
            if "result" in frame or ("error" in frame and type(frame["error"]) is dict):
                if "result" in frame:
                    run.result = frame
                else:
                    run.error = frame["error"]
                self._stop_reading()  # nothing after the answer counts
                return
            if type(frame.get("event")) is str and size <= _MAX_EVENT_BYTES:
                if len(run.events) < 64:
                    run.events.append(frame["event"][:64])
            elif "request" in frame and self.handlers:
                run.requests += 1
                if run.requests > _MAX_REQUESTS:  # a flood would only grow the host's queue
                    self._stop_reading(f"more than {_MAX_REQUESTS} proxy requests in one run")
                    return
                with self.pending_lock:
                    self.pending += 1
                # a request over its cap is answered without keeping the parsed frame
                too_large = size > config.max_request_bytes
                self.executor.submit(self._answer_one, None if too_large else frame, frame.get("request"))
        with self.pending_lock:
            full = self.pending >= _MAX_PENDING
        if full and self.reading and not self.paused:
            self.selector.unregister(self.sock)
            self.paused = True

    def _answer_one(self, frame: dict | None, request_id: object) -> None:
        """Answer one request in a handler thread; frame None: it was over its size cap."""
        try:
            if frame is None:
                message = f"a request may hold at most {self.config.max_request_bytes} bytes"
                self.run.handler_errors.append(f"ValueError: {message}")
                _reply(self.sock, self.send_lock, self.config.max_frame_bytes, request_id,
                       error=("ValueError", message))
            else:
                _answer(frame, self.handlers, self.sock, self.send_lock, self.run, self.config.max_frame_bytes)
        finally:
            with self.pending_lock:
                self.pending -= 1


def _seconds(value: object) -> float | None:
    """A CPU reading from the fork-server (trusted, but still checked like all input)."""
    return float(value) if type(value) in (int, float) and value >= 0 else None


def _answer(frame: dict, handlers, sock, send_lock, run: RawRun, max_bytes: int) -> None:
    """Run one proxy request on the host and send the reply (in a handler thread)."""
    request_id = frame.get("request")
    try:
        target, method = frame.get("target"), frame.get("method")
        kwargs = protocol.from_wire(frame.get("kwargs", {}))
        if target not in ("utility", "lm") or target not in handlers or type(method) is not str \
                or type(kwargs) is not dict:
            raise ValueError(f"unknown request {target!r}.{method!r}")
        if target == "utility":
            if method not in ("__call__", "failure"):
                raise ValueError(f"unknown request {target!r}.{method!r}")
            solution = kwargs.get("solution")
            if type(solution) is not str:
                call = "utility" if method == "__call__" else f"utility.{method}"
                raise TypeError(f"{call}(solution) needs the solution as a string")
            # no failure handler: the utility cannot say why (the paper's utility, a number only)
            handler = handlers["utility"] if method == "__call__" else handlers.get("utility.failure", lambda s: "")
            value = handler(solution)
        else:
            value = handlers[target](method, kwargs)
        reply = {"response": request_id, "value": protocol.to_wire(value)}
    except Exception as exc:  # BudgetExceeded included: it is re-raised inside the sandbox
        message = getattr(exc, "problem", None) or str(exc)
        reply = {"response": request_id, "error": {"type": type(exc).__name__, "message": message}}
        if type(exc).__name__ != "BudgetExceeded":
            run.handler_errors.append(f"{type(exc).__name__}: {message}"[:300])
    _send_reply(sock, send_lock, max_bytes, reply)


def _reply(sock, send_lock, max_bytes: int, request_id: object, error: tuple[str, str]) -> None:
    _send_reply(sock, send_lock, max_bytes,
                {"response": request_id, "error": {"type": error[0], "message": error[1]}})


def _send_reply(sock, send_lock, max_bytes: int, reply: dict) -> None:
    try:
        frame_bytes = protocol.encode_frame(reply, max_bytes)
        with send_lock:
            sock.sendall(frame_bytes)
    except (OSError, protocol.ProtocolError):
        pass  # the run is over or the child stopped reading
