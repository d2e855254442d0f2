"""Issue 24's third round of attacks, one class each: kernel-held memory, machine-wide work, the
mount API and /usr watching, output floods, telemetry after the answer, the OOM killer's choice
and host memory under programs that try to hold more than their limit. Each asserts the attack
is contained and the next ordinary evaluation still works (assert_healthy)."""

from __future__ import annotations

import threading

import pytest

from selftaught.sandbox import SandboxConfig, SandboxPool

from .test_attacks import call

ROUND_3 = {
    "vmsplice": "import ctypes\ndef f():\n    return ctypes.CDLL(None).syscall(278, 1, 0, 0, 0)\n",
    "splice": "import os\ndef f():\n    r, w = os.pipe()\n    r2, w2 = os.pipe()\n    os.write(w, b'x')\n"
              "    return os.splice(r, w2, 1)\n",
    "tee": "import ctypes\ndef f():\n    return ctypes.CDLL(None).syscall(276, 0, 1, 1, 0)\n",
    "bind+listen": "import socket\ndef f():\n    s = socket.socket(socket.AF_UNIX)\n    s.bind('\\0held')\n"
                   "    s.listen(1)\n    return 1\n",
    "sync": "import os\ndef f():\n    os.sync()\n    return 1\n",
    "syncfs": "import ctypes\ndef f():\n    return ctypes.CDLL(None).syscall(306, 0)\n",
    "fsconfig": "import ctypes\ndef f():\n    return ctypes.CDLL(None).syscall(431, -1, 0, 0, 0, 0)\n",
    "mount_setattr": "import ctypes\ndef f():\n    return ctypes.CDLL(None).syscall(442, -1, 0, 0, 0, 0)\n",
    "listmount": "import ctypes\ndef f():\n    return ctypes.CDLL(None).syscall(458, 0, 0, 0, 0)\n",
    "statmount": "import ctypes\ndef f():\n    return ctypes.CDLL(None).syscall(457, 0, 0, 0, 0)\n",
    "fanotify_init": "import ctypes\ndef f():\n    return ctypes.CDLL(None).syscall(300, 0, 0)\n",
    "inotify on /usr": "import ctypes\ndef f():\n    libc = ctypes.CDLL(None)\n    fd = libc.inotify_init1(0)\n"
                       "    return libc.inotify_add_watch(fd, b'/usr/bin', 0xfff)\n",
}


@pytest.mark.parametrize("attack", sorted(ROUND_3))
def test_round_3_calls_are_denied(pool, healthy, attack):
    outcome = call(pool, ROUND_3[attack])
    assert outcome.status == "blocked" and "SIGSYS" in (outcome.telemetry.blocked or ""), (attack, outcome)
    healthy(pool)


def test_a_forbidden_call_after_the_answer_still_reaches_the_telemetry():
    """The child waits for the fork-server after answering; a thread of the program may make a
    forbidden call then. The answer stands, and the attempt is counted (issue 24)."""
    import signal

    from selftaught.sandbox.conversation import RawRun
    from selftaught.sandbox.verdict import CpuLimits

    raw = RawRun()
    raw.result, raw.exit_status, raw.cpu_s, raw.clock_s = {"result": 7}, signal.SIGSYS, 0.01, 0.0
    with SandboxPool(SandboxConfig(slots=1)) as pool:
        outcome = pool._judge(raw, (), CpuLimits(call_s=1.0))
    assert (outcome.status, outcome.value) == ("ok", 7)
    assert outcome.telemetry.blocked and "SIGSYS" in outcome.telemetry.blocked


def test_output_past_the_cap_ends_the_run_and_costs_the_host_little(pool, healthy):
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_utime + resource.getrusage(resource.RUSAGE_SELF).ru_stime
    flood = call(pool, "import os\ndef f():\n    block = b'z' * (1 << 20)\n    while True:\n"
                       "        os.write(1, block)\n", time_limit_s=30.0)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_utime + resource.getrusage(resource.RUSAGE_SELF).ru_stime
    assert flood.status == "blocked" and "output cap" in flood.diagnostics and flood.telemetry.blocked
    assert flood.wall_time_s < 15 and after - before < 2.0  # the host read at most the cap, then stopped
    healthy(pool)


def test_the_oom_killer_chooses_a_sandbox_first(pool, healthy):
    """Every process of a sandbox runs with oom_score_adj 1000; the host keeps its own."""
    from pathlib import Path

    def tree(pid: int) -> list[int]:
        children = Path(f"/proc/{pid}/task/{pid}/children")
        kids = [int(c) for c in children.read_text().split()] if children.exists() else []
        return [pid] + [p for k in kids for p in tree(k)]

    assert call(pool, "def f():\n    return 1\n").value == 1
    sandboxes = [slot.process.pid for slot in pool._all if slot.process is not None]
    assert sandboxes
    for pid in (p for s in sandboxes for p in tree(s)):
        assert Path(f"/proc/{pid}/oom_score_adj").read_text().strip() == "1000", pid
    assert Path("/proc/self/oom_score_adj").read_text().strip() != "1000"
    thp = call(pool, "import ctypes\ndef f():\n    return ctypes.CDLL(None).prctl(42, 0, 0, 0, 0)\n")
    assert (thp.status, thp.value) == ("ok", 1)  # PR_GET_THP_DISABLE: no huge pages to pin
    healthy(pool)


def _mem_available_mib() -> float:
    from pathlib import Path

    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no MemAvailable in /proc/meminfo")


# The round-3 ways to hold memory the address-space limit does not count, as programs that keep
# trying until their time runs out: the host's available memory must not fall by more than the
# stated bound (the program's 256 MiB limit plus the ~30 MiB of kernel buffers), whatever they do.
HOLD_MEMORY = {
    "vmsplice one page per huge page": """import ctypes, mmap, os
def f():
    libc = ctypes.CDLL(None, use_errno=True)
    held = []
    while True:
        r, w = os.pipe()
        page = mmap.mmap(-1, 2 << 20)
        iov = (ctypes.c_void_p * 2)(ctypes.addressof(ctypes.c_char.from_buffer(page)), 4096)
        libc.syscall(278, w, ctypes.byref(iov), 1, 0)
        os.close(r)
        held.append((w, page))
""",
    "data queued on connections nobody accepts": """import socket
def f():
    held = []
    while True:
        server = socket.socket(socket.AF_UNIX)
        server.bind(f'\\0hold{len(held)}')
        server.listen(64)
        client = socket.socket(socket.AF_UNIX)
        client.connect(f'\\0hold{len(held)}')
        client.setblocking(False)
        try:
            while True:
                client.send(b'x' * 65536)
        except BlockingIOError:
            pass
        held.append((server, client))
""",
    "pipes filled to their default size": """import os
def f():
    held = []
    while True:
        r, w = os.pipe()
        os.set_blocking(w, False)
        try:
            while True:
                os.write(w, b'x' * 65536)
        except BlockingIOError:
            pass
        held.append((r, w))
""",
}


@pytest.mark.parametrize("attack", sorted(HOLD_MEMORY))
def test_host_memory_stays_within_the_bound_whatever_the_program_holds(pool, healthy, attack):
    before = _mem_available_mib()
    lowest = [before]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            lowest[0] = min(lowest[0], _mem_available_mib())
            stop.wait(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        outcome = call(pool, HOLD_MEMORY[attack], time_limit_s=3.0, memory_limit_mb=256)
    finally:
        stop.set()
        watcher.join()
    assert outcome.status in ("blocked", "crash", "timeout", "memory_error"), outcome
    assert before - lowest[0] < 256 + 64, (attack, before, lowest[0])  # MiB: the limit plus kernel buffers and noise
    healthy(pool)


PID_SENDER = """import os, threading
def f(target):
    # start threads until the slot's pid counter stands just below `target`
    while True:
        t = threading.Thread(target=lambda: None)
        t.start()
        t.join()
        if t.native_id >= target - 1 or t.native_id < os.getpid():
            return os.getpid()
"""
PID_READER = "import os, threading\ndef f():\n    return [os.getpid(), os.getppid(), threading.get_native_id()]\n"


def test_a_program_cannot_choose_the_next_programs_pid():
    """The covert channel of issue 24: a program advanced the slot's pid counter (sent 777),
    the next program read its own pid (777 + 1). Every program now starts in a pid namespace of
    its own: what it reads does not depend on what ran before it, and it can name no other
    process (its parent is outside: getppid() is 0)."""
    with SandboxPool(SandboxConfig(slots=1)) as pool:
        seen = []
        for sent in (20, 90, 200):
            assert pool.call(PID_SENDER, "f", [sent]).status == "ok"
            seen.append(pool.call(PID_READER, "f").value)
    assert seen == [[1, 0, 1]] * 3, seen


def test_a_program_that_signals_every_pid_reaches_only_itself(pool, healthy):
    body = """import os, signal
def f():
    hit = []
    for pid in range(2, 400):
        try:
            os.kill(pid, 0)
            hit.append(pid)
        except ProcessLookupError:
            pass
    return hit
"""
    outcome = call(pool, body)
    assert (outcome.status, outcome.value) == ("ok", []), outcome  # no process but itself (pid 1)
    healthy(pool)


def _cgroups_or_skip():
    from selftaught.sandbox.cgroup import MemoryCgroups

    cgroups, absent = MemoryCgroups.find()
    if cgroups is None:
        pytest.skip(f"no memory cgroup on this host ({absent}); the denials above stand alone")
    return cgroups


def test_every_sandbox_process_is_born_in_its_slots_memory_cgroup(pool):
    from pathlib import Path

    _cgroups_or_skip()

    def tree(pid: int) -> list[int]:
        children = Path(f"/proc/{pid}/task/{pid}/children")
        kids = [int(k) for k in children.read_text().split()] if children.exists() else []
        return [pid] + [p for k in kids for p in tree(k)]

    pool.call("def f():\n    return 1\n", "f")
    for slot in pool._all:
        assert slot.cgroup is not None and slot.process is not None
        members = {int(p) for p in (slot.cgroup.path / "cgroup.procs").read_text().split()}
        assert set(tree(slot.process.pid)) <= members, (tree(slot.process.pid), members)


def test_kernel_memory_a_program_makes_is_bounded_by_its_slots_cgroup(healthy):
    """Dentries from stat() misses on the shared /usr: kernel memory no rlimit counts and no
    filter can deny (every program may stat). 1.3 GiB of them were left by one evaluation in
    round 3; in its slot's cgroup they are reclaimed at the slot's limit."""
    _cgroups_or_skip()
    flood = ("import os\ndef f(n):\n    for i in range(n):\n        try:\n            os.stat(f'/usr/no-such-{i}')\n"
             "        except OSError:\n            pass\n    return n\n")
    with SandboxPool(SandboxConfig(slots=1)) as single:
        slot = single._all[0]
        outcome = single.call(flood, "f", [1_000_000], time_limit_s=60, memory_limit_mb=32)
        limit = slot.cgroup.current_limit()
        peak = int((slot.cgroup.path / ("memory.max_usage_in_bytes" if slot.cgroup.version == 1
                                        else "memory.peak")).read_text())
        assert outcome.status == "ok" and outcome.value == 1_000_000, outcome
        assert peak <= limit < 200 << 20, (peak >> 20, limit >> 20)  # baseline + 32 MiB + 64 MiB slack
        healthy(single)
