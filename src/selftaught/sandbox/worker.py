"""The runtime that runs *inside* the sandbox: a fork-server and the per-program child.

Stdlib only (plus pyseccomp and, optionally, numpy, both bind-mounted read-only). The host
ships this file and protocol.py into the sandbox as source text, so nothing of the project
is mounted there.

Process layout inside one bwrap instance (one worker slot):

* the fork-server ("zygote") imports everything once, builds the seccomp filter once, then
  waits on the control socket. For each program it receives two fresh descriptors from the
  host (a data socket and a stdout/stderr pipe), forks, and reports the child's exit status;
* the child drops into its own session, applies rlimits and seccomp, then talks to the host
  directly over the data socket: it reads the job, runs the program, and writes one result
  frame. Everything it says is untrusted data to the host.
"""

from __future__ import annotations

import builtins
import errno
import gc
import json
import os
import resource
import select
import shutil
import signal
import socket
import sys
import threading
import traceback
import types

try:  # inside the sandbox the host registers the protocol source under this name
    import sbx_protocol as protocol  # type: ignore[import-not-found]
except ImportError:  # imported on the host side (tests, docs)
    from selftaught.sandbox import protocol

CHILD_CHANNEL_FD = 4  # where the data socket lives in the child (fd 1/2 are the capture pipe)
CLONE_THREAD = 0x00010000
# Syscalls no candidate or improver needs. Namespaces already isolate most of these; the
# filter is a second wall and makes attempts visible (the child dies with SIGSYS).
DENIED_SYSCALLS = (
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen",
    "unshare", "setns", "bpf", "keyctl", "add_key", "request_key", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "perf_event_open",
    "fork", "vfork", "execve", "execveat", "tkill", "pidfd_open", "pidfd_send_signal",
    "pidfd_getfd", "personality", "kexec_load", "init_module", "finit_module", "reboot",
    "swapon", "swapoff", "acct", "quotactl",
    # System V IPC and POSIX message queues outlive the process inside the slot's ipc
    # namespace: a program could leave memory or messages behind for the next one.
    "shmget", "shmat", "msgget", "msgsnd", "semget", "mq_open",
    "migrate_pages", "move_pages",
)
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


# ---- fork-server ------------------------------------------------------------------------


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
    seccomp_filter, seccomp_error = None, None
    if settings.get("seccomp"):
        try:
            seccomp_filter = CompiledFilter(build_filter(settings, os.getpid()), settings["libc"])
        except Exception as exc:  # fail closed: the host refuses to run without it
            seccomp_error = f"{type(exc).__name__}: {exc}"
    control.send(json.dumps({"hello": True, "preloaded": loaded, "seccomp": seccomp_filter is not None,
                             "seccomp_error": seccomp_error}).encode())
    if settings.get("seccomp") and seccomp_filter is None:
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
        if request.get("op") != "run" or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            continue
        _serve_one(control, request, fds, seccomp_filter, settings)


def _serve_one(control: socket.socket, request: dict, fds: list, seccomp_filter, settings) -> None:
    run_id = request["id"]
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            control.close()
            _child(fds[0], fds[1], request["limits"], seccomp_filter, settings)
        finally:
            os._exit(70)
    for fd in fds:
        os.close(fd)
    control.send(json.dumps({"started": run_id, "pid": pid}).encode())
    pidfd = os.pidfd_open(pid)
    try:
        while True:
            ready, _, _ = select.select([control, pidfd], [], [])
            if pidfd in ready:
                break
            data = control.recv(65536)
            if not data:  # host is gone
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                sys.exit(0)
            if json.loads(data).get("op") == "kill":
                _kill(pid)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(pidfd)
    # Report first, wipe second: the host can judge this run while the scratch is cleaned,
    # and the next request is only read after the wipe.
    control.send(json.dumps({"exited": run_id, "status": status}).encode())
    _wipe_scratch(settings["scratch"])


def _kill(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except OSError:
            pass


def _wipe_scratch(scratch: str) -> None:
    """Give every program a fresh, empty scratch by wiping it after each run."""
    try:
        entries = os.listdir(scratch)
    except OSError:
        return
    for name in entries:
        path = os.path.join(scratch, name)
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
        except OSError:
            pass


def _set_dumpable_off(settings: dict) -> None:
    """A non-dumpable fork-server cannot be written through /proc/<pid>/mem by a child."""
    import ctypes

    libc = ctypes.CDLL(settings.get("libc", "libc.so.6"), use_errno=True)
    libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4


def build_filter(settings: dict, parent: int):
    """The complete seccomp filter for this fork-server's children (a pyseccomp object).

    Every rule is independent of the child's own pid, so it is compiled once (see
    compile_filter) and each child only loads the finished BPF: ~10 us instead of ~1 ms.
    """
    import ctypes.util

    # pyseccomp finds its libraries through ctypes.util.find_library, which would shell out
    # to ldconfig; hand it the paths the host resolved instead.
    known = {"c": settings["libc"], "seccomp": settings["libseccomp"]}
    original = ctypes.util.find_library
    ctypes.util.find_library = lambda name: known.get(name) or original(name)
    try:
        import pyseccomp as sc
    finally:
        ctypes.util.find_library = original
    filt = sc.SyscallFilter(sc.ALLOW)
    # Syscalls of another ABI (i386 `int 0x80`) would bypass the x86-64 numbers: kill.
    filt.set_attr(sc.Attr.ACT_BADARCH, sc.KILL_PROCESS)
    for name in DENIED_SYSCALLS:
        try:
            filt.add_rule(sc.KILL_PROCESS, name)
        except (OSError, ValueError, RuntimeError):
            pass  # syscall unknown to this libseccomp/arch: nothing to deny
    # Threads are fine; a new process (fork-like clone) is not.
    filt.add_rule(sc.KILL_PROCESS, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
    # clone3 hides its flags behind a pointer; ENOSYS makes glibc fall back to clone.
    filt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    filt.add_rule(sc.KILL_PROCESS, "socket", sc.Arg(0, sc.NE, socket.AF_UNIX))
    _add_pid_rules(filt, sc, parent)
    return filt


def _add_pid_rules(filt, sc, parent: int) -> None:
    """A child may signal, re-limit, renice or pin only itself.

    Inside the pid namespace the only other processes are bwrap's pid 1 and the fork-server
    (`parent`); a slot runs one child at a time. Negative pids (process groups, -1 = all)
    are caught as values above 2**31 - 1. pid 0 means the caller (its own new session for
    kill). Without these rules a program could make the *next* program in the slot fail.
    """
    targets = [("kill", 0), ("tgkill", 0), ("prlimit64", 0), ("sched_setaffinity", 0),
               ("sched_setscheduler", 0), ("sched_setparam", 0), ("sched_setattr", 0),
               ("setpriority", 1), ("ioprio_set", 1)]
    for name, arg in targets:
        for other in {1, parent}:
            filt.add_rule(sc.KILL_PROCESS, name, sc.Arg(arg, sc.EQ, other))
        filt.add_rule(sc.KILL_PROCESS, name, sc.Arg(arg, sc.GT, 0x7FFFFFFF))
    filt.add_rule(sc.KILL_PROCESS, "setpriority", sc.Arg(0, sc.NE, 0))  # only PRIO_PROCESS
    filt.add_rule(sc.KILL_PROCESS, "ioprio_set", sc.Arg(0, sc.NE, 1))  # only IOPRIO_WHO_PROCESS


class CompiledFilter:
    """A filter exported to BPF once; load() installs it in the calling process."""

    PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2

    def __init__(self, filt, libc_name: str) -> None:
        import ctypes

        read_end, write_end = os.pipe()
        try:
            filt.export_bpf(_FdFile(write_end))
            os.close(write_end)
            write_end = -1
            chunks = []
            while chunk := os.read(read_end, 65536):
                chunks.append(chunk)
        finally:
            os.close(read_end)
            if write_end >= 0:
                os.close(write_end)
        program = b"".join(chunks)
        if not program or len(program) % 8:
            raise RuntimeError("libseccomp exported an empty or malformed BPF program")

        class SockFprog(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

        self._buffer = ctypes.create_string_buffer(program, len(program))
        self._prog = SockFprog(len(program) // 8, ctypes.cast(self._buffer, ctypes.c_void_p))
        self._libc = ctypes.CDLL(libc_name, use_errno=True)
        self._ctypes = ctypes

    def load(self) -> None:
        libc, ctypes = self._libc, self._ctypes
        if libc.prctl(self.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or libc.prctl(
            self.PR_SET_SECCOMP, self.SECCOMP_MODE_FILTER, ctypes.byref(self._prog), 0, 0
        ) != 0:
            raise OSError(ctypes.get_errno(), "cannot install the seccomp filter")


class _FdFile:
    """pyseccomp's export_bpf wants an object with fileno()."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def fileno(self) -> int:
        return self._fd


# ---- the child --------------------------------------------------------------------------


def _child(channel_fd: int, capture_fd: int, limits: dict, seccomp_filter, settings) -> None:
    os.setsid()
    devnull = os.open("/dev/null", os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(capture_fd, 1)
    os.dup2(capture_fd, 2)
    os.dup2(channel_fd, CHILD_CHANNEL_FD)
    os.closerange(3, CHILD_CHANNEL_FD)
    os.closerange(CHILD_CHANNEL_FD + 1, 1 << 16)
    scratch = os.path.join(settings["scratch"], "work")
    os.makedirs(scratch, exist_ok=True)
    os.chdir(scratch)
    _apply_rlimits(limits)
    if "numpy.random" in sys.modules:  # a fork copies the RNG state: reseed like a fresh process
        # (a 32-bit seed: 2 us, where seed() from full entropy costs ~150 us)
        sys.modules["numpy.random"].seed(int.from_bytes(os.urandom(4), "little"))
    if seccomp_filter is not None:
        seccomp_filter.load()  # raises (and the child exits) rather than run unfiltered
    channel = Channel(CHILD_CHANNEL_FD, limits["max_frame_bytes"], limits["max_result_bytes"])
    sys.addaudithook(_audit_hook(channel, settings["scratch"]))
    job = protocol.read_frame(CHILD_CHANNEL_FD, limits["max_frame_bytes"])
    if job is None:
        os._exit(0)
    reply = run_job(job, channel)
    try:
        channel.send(reply)
    except protocol.ProtocolError as exc:
        channel.send({"error": {"kind": "bad_output", "message": str(exc)}})
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


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


def run_job(job: dict, channel: Channel) -> dict:
    """Compile the program, find its entry point, call it; return the reply frame."""
    source = job.get("program")
    if type(source) is not str:
        return {"error": {"kind": "bad_input", "message": "program text must be a string"}}
    namespace = {"__name__": "candidate", "__builtins__": builtins}
    try:
        code = compile(source, "<candidate>", "exec")
    except (SyntaxError, ValueError) as exc:
        return {"error": {"kind": "syntax_error", "message": f"{type(exc).__name__}: {exc}"}}
    try:
        if job.get("mode") == "improve":
            args, kwargs = _improver_args(job, channel, namespace), {}
        else:
            args = protocol.from_wire(job.get("args", []))
            kwargs = protocol.from_wire(job.get("kwargs", {}))
        exec(code, namespace)
        entry = namespace.get(job.get("entry"))
        if not callable(entry):
            return {"error": {"kind": "missing_entry_point",
                              "message": f"the program defines no callable {job.get('entry')!r}"}}
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

    namespace.update(BudgetExceeded=BudgetExceeded)
    builtins.BudgetExceeded = BudgetExceeded  # the improver may catch it by name
    return [job.get("initial_solution"), Utility(), LanguageModel()]
