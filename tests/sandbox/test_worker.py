"""The in-sandbox runtime (child, syscall filter), exercised in-process with trusted snippets
(no isolation)."""

from __future__ import annotations

import socket
import threading

import pytest

from selftaught.sandbox import child, protocol, syscall_filter


class FakeHost:
    """The channel to the host, and the fork-server's hand-over of the call's arguments."""

    def __init__(self, args=(), kwargs=None):
        self.call = {"args": list(args), "kwargs": kwargs or {}}
        self.sent, self.handed_over = [], 0

    def send(self, message):
        self.sent.append(message)

    def send_quiet(self, message):
        self.send(message)

    def arguments(self):
        self.handed_over += 1
        return self.call


def run(program, host, entry="f", rng_seed=None):
    return child.run_job(job(program, entry, rng_seed), host, host.arguments)


@pytest.fixture(autouse=True)
def restore_generators():
    """run_job seeds and patches this process's generators: put them back afterwards."""
    import random

    import numpy as np

    state, np_state, default_rng = random.getstate(), np.random.get_state(), np.random.default_rng
    yield
    random.setstate(state)
    np.random.set_state(np_state)
    np.random.default_rng = default_rng


def job(program, entry="f", rng_seed=None):
    return {"mode": "call", "program": program, "entry": entry, "rng_seed": rng_seed}


def test_run_job_gets_its_arguments_after_the_module():
    host = FakeHost([3])
    assert run("def f(a, b=2):\n    return a * b\n", host) == {"result": 6}
    assert host.handed_over == 1 and host.sent == []


def test_module_errors_come_before_the_arguments():
    host = FakeHost()
    assert run("raise ValueError('at import')\n", host)["error"]["type"] == "ValueError"
    assert run("def g():\n    pass\n", host)["error"]["kind"] == "missing_entry_point"
    assert host.handed_over == 0


def test_module_draws_are_fixed_and_the_calls_follow_its_seed():
    import random

    import numpy as np

    body = ("import random\nimport numpy as np\nAT_IMPORT = random.random()\n"
            "def f():\n    return [AT_IMPORT, random.random(), float(np.random.random()),\n"
            "            float(np.random.default_rng().random()), float(np.random.default_rng().random())]\n")

    def in_a_fresh_child(seed):
        child.prepare_generators()  # what every child inherits from the fork-server
        return run(body, FakeHost(), rng_seed=seed)["result"]

    first, again, other = in_a_fresh_child(7), in_a_fresh_child(7), in_a_fresh_child(8)
    assert first == again and first[0] == other[0] == random.Random(child.MODULE_SEED).random()
    assert first[1:] == [random.Random(7).random(), np.random.RandomState(7).random(),
                         np.random.Generator(np.random.PCG64([7, 0])).random(),
                         np.random.Generator(np.random.PCG64([7, 1])).random()]
    assert all(a != b for a, b in zip(first[1:], other[1:]))


@pytest.mark.parametrize("program, entry, kind", [
    ("def f(:", "f", "syntax_error"),
    ("x = 1\x00", "f", "syntax_error"),
    ("def g():\n    pass\n", "f", "missing_entry_point"),
    ("def f():\n    raise MemoryError\n", "f", "memory_error"),
    ("def f():\n    return object()\n", "f", "bad_output"),
    ("def f():\n    raise SystemExit(3)\n", "f", "exception"),
    ("raise ValueError('at import')\n", "f", "exception"),
])
def test_run_job_errors(program, entry, kind):
    reply = run(program, FakeHost(), entry)
    assert reply["error"]["kind"] == kind


def test_channel_requests_are_thread_safe():
    host_end, child_end = socket.socketpair()
    channel = child.Channel(child_end.fileno(), 1 << 20, 1 << 20)
    reader = protocol.FrameReader(1 << 20)

    def fake_host():
        answered = 0
        while answered < 16:
            for frame in reader.feed(host_end.recv(65536)):
                value = frame["kwargs"]["n"] * 10
                reply = {"response": frame["request"], "value": value}
                if frame["kwargs"]["n"] == 3:
                    reply = {"response": frame["request"], "error": {"type": "BudgetExceeded", "message": "no"}}
                host_end.sendall(protocol.encode_frame(reply, 1 << 20))
                answered += 1

    server = threading.Thread(target=fake_host)
    server.start()
    results = {}

    def ask(n):
        try:
            results[n] = channel.request("utility", "__call__", {"n": n})
        except child.BudgetExceeded:
            results[n] = "budget"

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    server.join()
    assert results == {n: ("budget" if n == 3 else n * 10) for n in range(16)}
    host_end.close()
    child_end.close()


def _in_filtered_child(action) -> int:
    """Fork, load the compiled filter in the child, run `action`; return the wait status."""
    import os

    from selftaught.sandbox import isolation

    settings = isolation.library_names()
    compiled = syscall_filter.CompiledFilter(syscall_filter.build_filter(settings, os.getpid()), settings["libc"])
    pid = os.fork()
    if pid == 0:
        try:
            compiled.load()
            action()
            os._exit(0)
        except BaseException:
            os._exit(3)
    return os.waitpid(pid, 0)[1]


def _fork():
    import os

    if os.fork() == 0:
        os._exit(0)


def _thread():
    t = threading.Thread(target=lambda: None)
    t.start()
    t.join()


def _signal_parent():
    import os

    os.kill(os.getppid(), 0)


def _signal_self():
    import os

    os.kill(os.getpid(), 0)


@pytest.mark.parametrize("action, killed", [(_fork, True), (_signal_parent, True), (_thread, False),
                                            (_signal_self, False)])
def test_compiled_filter_kills_forbidden_calls_only(action, killed):
    import os
    import signal

    status = _in_filtered_child(action)
    if killed:
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSYS
    else:
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def test_denylist_covers_the_issue():
    for name in ("ptrace", "process_vm_readv", "mount", "unshare", "setns", "bpf", "keyctl",
                 "userfaultfd", "io_uring_setup", "fork", "vfork", "execve", "tkill"):
        assert name in syscall_filter.DENIED_SYSCALLS


def test_audit_hook_flags_writes_outside_scratch_only(tmp_path):
    sent = []

    class Recorder:
        def send_quiet(self, message):
            sent.append(message)

    hook = child._audit_hook(Recorder(), str(tmp_path))
    hook("open", (str(tmp_path / "ok.txt"), "w", 0))
    hook("open", ("/etc/passwd", "r", 0))
    assert sent == []
    hook("open", ("/etc/passwd", "a", 0))
    hook("os.fork", ())
    hook("os.fork", ())
    assert [m["event"] for m in sent] == ["write_outside_scratch", "os.fork"]


FRESH_PIDS = """
import os, sys, threading
from selftaught.sandbox.fresh import FreshPids
pids = FreshPids({"fresh_pids": sys.argv[1]})
seen = []
for _ in range(3):
    r, w = os.pipe()
    pid = pids.fork()
    if pid == 0:
        t = threading.Thread(target=lambda: None)
        t.start()
        t.join()
        os.write(w, f"{os.getpid()},{t.native_id}".encode())
        os._exit(0)
    os.close(w)
    seen.append(os.read(r, 64).decode())
    os.waitpid(pid, 0)  # its parent is this process, in both modes
print(pids.mode, seen)
"""


@pytest.mark.parametrize("mode", ["setns", "nursery"])
def test_fresh_pids_give_every_program_the_same_numbers(mode):
    """Both ways of giving a program a pid namespace of its own (fresh.FreshPids): the usual
    unshare + setns, and the nursery fork used where setns is refused (a setuid bwrap)."""
    import os
    import subprocess
    import sys

    if os.geteuid() != 0:
        pytest.skip("a pid namespace needs CAP_SYS_ADMIN; the sandbox gets it in its user namespace")
    out = subprocess.run([sys.executable, "-c", FRESH_PIDS, "yes" if mode == "setns" else "nursery"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == mode and out.stdout.count("'1,2'") == 3, out.stdout
