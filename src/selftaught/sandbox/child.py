"""The sandboxed child: runs one program and talks to the host over the data socket.

Shipped into the sandbox as source text with worker.py (stdlib only). Everything here runs
in the process the candidate controls once its module has executed, so nothing it reports
about itself (timing included) is trusted; the fork-server measures time.

A call runs in two phases. The child executes the module and tells the fork-server (over
the clock socket, fd 3) that it is ready; the fork-server reads the child's CPU clock and
only then hands over the arguments (a memfd the host filled), so the timed call cannot start
before its clock does. After sending its answer to the host, the child tells the fork-server
it is done and blocks until the fork-server has read the clock again and killed it.
"""

from __future__ import annotations

import builtins
import ctypes
import fcntl
import itertools
import os
import random
import resource
import socket
import sys
import threading
import traceback

try:  # inside the sandbox the host registers the protocol source under this name
    import sbx_protocol as protocol  # type: ignore[import-not-found]
except ImportError:  # imported on the host side (tests, docs)
    from selftaught.sandbox import protocol

CHILD_CLOCK_FD = 3  # the socket to the fork-server: "ready", the arguments, "done"
CHILD_CHANNEL_FD = 4  # where the data socket lives in the child (fd 1/2 are the capture pipe)
# Audit events worth recording as telemetry (not a boundary: ctypes could remove the hook).
AUDIT_EVENTS = frozenset(
    [
        "os.system", "os.exec", "os.spawn", "os.fork", "os.forkpty", "os.posix_spawn",
        "subprocess.Popen", "pty.spawn", "ctypes.dlopen", "ctypes.dlsym",
        "ctypes.call_function", "socket.__new__", "socket.connect", "socket.bind",
        "os.kill", "os.killpg", "sys.settrace", "sys.setprofile", "os.remove",
        "shutil.rmtree",
    ]
)


def run_child(channel_fd: int, capture_fd: int, clock_fd: int | None, limits: dict, seccomp_filter,
              settings) -> None:
    """Entry point of a forked child; never returns. clock_fd: the socket to the fork-server
    (calls), or None (improvers)."""
    os.setsid()
    drop_capabilities()  # the fork-server's CAP_SYS_ADMIN (it mounts the scratch) is not the program's
    _place_fds({0: os.open("/dev/null", os.O_RDONLY), 1: capture_fd, 2: capture_fd, CHILD_CHANNEL_FD: channel_fd,
                CHILD_CLOCK_FD: clock_fd})
    os.chdir(settings["scratch"])
    _apply_rlimits(limits)
    if seccomp_filter is not None:
        seccomp_filter.load()  # raises (and the child exits) rather than run unfiltered
    channel = Channel(CHILD_CHANNEL_FD, limits["max_frame_bytes"], limits["max_result_bytes"])
    sys.addaudithook(_audit_hook(channel, settings["scratch"]))
    job = channel.receive()
    if job is None:
        os._exit(0)
    clock = socket.socket(fileno=CHILD_CLOCK_FD) if clock_fd is not None else None
    arguments = (lambda: _await_arguments(clock, limits["max_frame_bytes"])) if clock is not None else None
    reply = run_job(job, channel, arguments)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        channel.send(reply)
    except protocol.ProtocolError as exc:
        channel.send({"error": {"kind": "bad_output", "message": str(exc)}})
    if clock is not None:
        # Wait, using no CPU, for the fork-server to read the clock and end this process:
        # tearing down the address space inherited from the fork-server costs ~2 ms of CPU
        # time, which is not the program's.
        clock.send(b"done")
        clock.recv(1)
    os._exit(0)


_libc: list = []  # libc, loaded by the fork-server (prepare_capabilities)


def prepare_capabilities(libc_name: str) -> None:
    """In the fork-server, once: load what drop_capabilities needs."""
    _libc[:] = [ctypes.CDLL(libc_name, use_errno=True)]


def drop_capabilities() -> None:
    """Clear the effective, permitted and inheritable sets (the ambient set follows); raises
    rather than run a program with a capability. Bounding-set capabilities cannot come back
    without execve, which seccomp denies."""
    if not _libc:
        return  # not in a fork-server (tests running the child in-process)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    if _libc[0].capset(header, (ctypes.c_uint32 * 6)()) != 0:
        raise OSError(ctypes.get_errno(), "cannot drop capabilities")


def _place_fds(targets: dict) -> None:
    """Move each source descriptor to its target number and close every other one (the
    sources may sit on each other's targets, so they are lifted out of the way first)."""
    lifted = {target: fcntl.fcntl(fd, fcntl.F_DUPFD, 64) for target, fd in targets.items() if fd is not None}
    for target, fd in lifted.items():
        os.dup2(fd, target)
    low = 0
    for fd in sorted(lifted):
        if low < fd:  # closerange(0, 0) would close everything: it asks close_range(0, -1)
            os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 16)


def _await_arguments(clock: socket.socket, max_bytes: int) -> dict:
    """Say ready and block until the fork-server, its clock read, hands over the arguments."""
    clock.send(b"ready")
    _message, fds, _flags, _addr = socket.recv_fds(clock, 16, 1)
    if len(fds) != 1:
        os._exit(0)  # the fork-server is ending this run
    size = os.fstat(fds[0]).st_size
    if not protocol.HEADER.size <= size <= max_bytes + protocol.HEADER.size:
        raise protocol.ProtocolError("malformed arguments")
    data, offset = bytearray(), 0
    while offset < size:
        chunk = os.pread(fds[0], size - offset, offset)
        if not chunk:
            break
        data += chunk
        offset += len(chunk)
    os.close(fds[0])
    return protocol.decode_body(bytes(data[protocol.HEADER.size:]))


def _apply_rlimits(limits: dict) -> None:
    for name, value in (
        ("RLIMIT_AS", limits["as_bytes"]),
        ("RLIMIT_CPU", limits["cpu_s"]),
        ("RLIMIT_FSIZE", limits["fsize_bytes"]),
        ("RLIMIT_NOFILE", limits["nofile"]),
        ("RLIMIT_NPROC", limits["nproc"]),
        ("RLIMIT_CORE", 0),
    ):
        if value is None:
            continue
        resource.setrlimit(getattr(resource, name), (value, value))


_streams: list = [0, itertools.count()]  # the seed and counter of unseeded default_rng() calls
MODULE_SEED = 0  # what module-level code draws from, in every child (the fork-server's state)


def prepare_generators() -> None:
    """In the fork-server, once: fix the generators' state every child inherits, so that
    module-level draws are the same on every run, and make numpy's default_rng() without a
    seed draw from the per-call seed (seed_generators) instead of fresh entropy."""
    seed_generators(MODULE_SEED)
    np_random = sys.modules.get("numpy.random")
    if np_random is None or hasattr(np_random.default_rng, "__wrapped__"):
        return
    original = np_random.default_rng

    def default_rng(seed=None):
        # each unseeded generator gets its own stream of the call's seed
        return original([_streams[0], next(_streams[1])] if seed is None else seed)

    default_rng.__wrapped__ = original
    np_random.default_rng = default_rng


def seed_generators(seed: int | None) -> None:
    """Seed `random`, numpy's global generator and unseeded default_rng() streams, as the
    reference seeded per instance before the call: a randomized program scores the same on
    every run. None draws fresh entropy (improvers: a fork would copy the parent's state)."""
    if seed is None:
        seed = int.from_bytes(os.urandom(8), "little")
    random.seed(seed)
    _streams[:] = [seed, itertools.count()]
    np_random = sys.modules.get("numpy.random")
    if np_random is not None:
        np_random.seed(seed & 0xFFFFFFFF)  # the legacy generator takes 32 bits (a list costs 3x more)


def _audit_hook(channel: Channel, scratch: str):
    seen: set = set()
    scratch_root = scratch.rstrip("/") + "/"

    def hook(event: str, args: tuple) -> None:
        if event == "open" and len(args) >= 2 and isinstance(args[1], str) and args[1][:1] in "wax":
            if not isinstance(args[0], (str, bytes)) or "write_outside_scratch" in seen:
                return
            path = os.path.abspath(os.fsdecode(args[0]))
            if not path.startswith((scratch_root, "/dev/null")):
                seen.add("write_outside_scratch")
                channel.send_quiet({"event": "write_outside_scratch", "detail": path[:200]})
            return
        if event in AUDIT_EVENTS and event not in seen:
            seen.add(event)
            channel.send_quiet({"event": event, "detail": repr(args)[:200]})

    return hook


class Channel:
    """The child's end of the data socket; thread-safe because improvers may use threads."""

    def __init__(self, fd: int, max_frame_bytes: int, max_send_bytes: int) -> None:
        self.fd = fd
        self.max_frame_bytes = max_frame_bytes
        self.max_send_bytes = max_send_bytes
        self._write_lock = threading.RLock()  # audit hook may fire mid-send
        self._pending: dict = {}
        self._pending_lock = threading.Lock()
        self._next_id = 0
        self._reader = None

    def send(self, message: dict) -> None:
        frame = protocol.encode_frame(message, self.max_send_bytes)
        with self._write_lock:
            protocol.write_all(self.fd, frame)

    def send_quiet(self, message: dict) -> None:
        try:
            self.send(message)
        except Exception:
            pass

    def receive(self) -> dict | None:
        """The next frame from the host (the job, then a call's arguments); None at EOF."""
        return protocol.read_frame(self.fd, self.max_frame_bytes)

    def request(self, target: str, method: str, kwargs: dict):
        """Ask the host to do something (LM call, utility call) and wait for its answer."""
        with self._pending_lock:
            if self._reader is None:
                self._reader = threading.Thread(target=self._read_loop, daemon=True)
                self._reader.start()
            self._next_id += 1
            request_id = self._next_id
            slot = self._pending[request_id] = [threading.Event(), None]
        self.send({"request": request_id, "target": target, "method": method,
                   "kwargs": protocol.to_wire(kwargs)})
        slot[0].wait()
        reply = slot[1]
        if reply is None:
            raise RuntimeError("the host closed the connection")
        if "error" in reply:
            error = reply["error"]
            kind = BudgetExceeded if error.get("type") == "BudgetExceeded" else HostError
            raise kind(str(error.get("message", "")))
        return protocol.from_wire(reply.get("value"))

    def _read_loop(self) -> None:
        while True:
            try:
                message = protocol.read_frame(self.fd, self.max_frame_bytes)
            except (protocol.ProtocolError, OSError):
                message = None  # host gone or garbage: wake every waiter
            with self._pending_lock:
                if message is None:
                    for slot in self._pending.values():
                        slot[0].set()
                    return
                slot = self._pending.pop(message.get("response"), None)
            if slot is not None:
                slot[1] = message
                slot[0].set()


# ---- running one job ----------------------------------------------------------------------


class BudgetExceeded(Exception):
    """Raised inside the sandbox when the host refuses an LM or utility call (budget)."""


class HostError(Exception):
    """The host's handler failed for a reason other than the budget."""


def run_job(job: dict, channel: Channel, arguments=None) -> dict:
    """Compile and execute the program, find its entry point, call it; the reply frame.

    A call ("call" mode) gets its arguments from `arguments()` once the module has run;
    an improver ("improve" mode) gets its proxies at once and is timed by the wall clock."""
    source = job.get("program")
    if type(source) is not str:
        return {"error": {"kind": "bad_input", "message": "program text must be a string"}}
    namespace = {"__name__": "candidate", "__builtins__": builtins}
    try:
        code = compile(source, "<candidate>", "exec")
    except (SyntaxError, ValueError) as exc:
        return {"error": {"kind": "syntax_error", "message": f"{type(exc).__name__}: {exc}"}}
    try:
        improving = job.get("mode") == "improve"
        args, kwargs = (_improver_args(job, channel, namespace), {}) if improving else ((), {})
        if improving:
            seed_generators(None)
        exec(code, namespace)  # draws from the fork-server's fixed state (prepare_generators)
        entry = namespace.get(job.get("entry"))
        if not callable(entry):
            return {"error": {"kind": "missing_entry_point",
                              "message": f"the program defines no callable {job.get('entry')!r}"}}
        if not improving:
            if "random" in source:  # else any draw (through an alias) is from the fixed state too
                seed_generators(job.get("rng_seed") if type(job.get("rng_seed")) is int else 0)
            call = arguments()
            args = protocol.from_wire(call.get("args", []))
            kwargs = protocol.from_wire(call.get("kwargs", {}))
        value = entry(*args, **kwargs)
        return {"result": protocol.to_wire(value)}
    except MemoryError:
        return {"error": {"kind": "memory_error", "message": "MemoryError"}}
    except protocol.ProtocolError as exc:
        return {"error": {"kind": "bad_output", "message": str(exc)}}
    except BaseException as exc:  # SystemExit, RecursionError, anything the program raised
        tail = traceback.format_exc(limit=-8)[-2000:]
        return {"error": {"kind": "exception", "type": type(exc).__name__,
                          "message": str(exc)[:500], "traceback": tail}}


def _improver_args(job: dict, channel: Channel, namespace: dict) -> list:
    """Build the proxies an improver receives; both forward every call to the host."""
    lm_attrs = protocol.from_wire(job.get("lm_attributes", {}))
    utility_attrs = protocol.from_wire(job.get("utility_attributes", {}))

    class LanguageModel:
        """Proxy: every call is checked and counted by the host, whatever is set here."""

        def __init__(self, *args, **kwargs):
            self.__dict__.update(lm_attrs)

        def prompt(self, expertise, message, n_responses=1, temperature=0.7, **kwargs):
            return channel.request("lm", "prompt", dict(kwargs, expertise=expertise, message=message,
                                                        n_responses=n_responses, temperature=temperature))

        def batch_prompt(self, expertise, messages, temperature=0.7, **kwargs):
            return channel.request("lm", "batch_prompt", dict(kwargs, expertise=expertise,
                                                              messages=messages, temperature=temperature))

    class Utility:
        """Proxy: calling it asks the host to score a solution within the host's budget."""

        def __init__(self, *args, **kwargs):
            self.__dict__.update(utility_attrs)

        def __call__(self, solution):
            return channel.request("utility", "__call__", {"solution": solution})

        def failure(self, solution):
            """Why a program this utility scored failed ("" if it did not, or was not scored):
            selftaught's extension of the paper's interface. Costs no utility call."""
            return channel.request("utility", "failure", {"solution": solution})

    namespace.update(BudgetExceeded=BudgetExceeded)
    builtins.BudgetExceeded = BudgetExceeded  # the improver may catch it by name
    return [job.get("initial_solution"), Utility(), LanguageModel()]
