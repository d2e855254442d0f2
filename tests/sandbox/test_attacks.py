"""One test per attack from issue 3. Each asserts: contained, host survives, and the next
ordinary evaluation still works and scores correctly (assert_healthy)."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from selftaught.errors import BudgetExceeded
from selftaught.sandbox import SandboxConfig, SandboxPool
from selftaught.tasks.loader import load_task


def call(pool, body: str, *args, entry="f", time_limit_s=2.0, memory_limit_mb=256):
    return pool.call(body, entry, list(args), time_limit_s=time_limit_s, memory_limit_mb=memory_limit_mb)


# 1
def test_infinite_loop(pool, healthy):
    outcome = call(pool, "def f():\n    while True:\n        pass\n", time_limit_s=0.5)
    assert outcome.status == "timeout" and "CPU time" in outcome.diagnostics
    assert 0.5 < outcome.cpu_time_s < 0.6 and outcome.wall_time_s < pool.config.wall_backstop(0.5)
    healthy(pool)


# 2
def test_sleep_past_timeout(pool, healthy):
    outcome = call(pool, "import time\ndef f():\n    time.sleep(60)\n    return 1\n", time_limit_s=0.5)
    assert outcome.status == "timeout" and outcome.value is None and "wall-clock" in outcome.diagnostics
    assert pool.config.wall_backstop(0.5) <= outcome.wall_time_s < pool.config.wall_backstop(0.5) + 1.0
    healthy(pool)


# 3
def test_memory_bomb(pool, healthy):
    for body in ("def f():\n    return len(bytearray(4 * 1024**3))\n",
                 "def f():\n    chunks = []\n    while True:\n        chunks.append(bytearray(10**7))\n",
                 "import numpy as np\ndef f():\n    return float(np.ones((50000, 50000)).sum())\n"):
        outcome = call(pool, body, memory_limit_mb=256)
        assert outcome.status == "memory_error", outcome
    healthy(pool)


# 4
def test_fork_bomb(pool, healthy):
    outcome = call(pool, "import os\ndef f():\n    while True:\n        os.fork()\n")
    assert outcome.status == "blocked"
    assert "SIGSYS" in outcome.telemetry.blocked
    assert "os.fork" in outcome.telemetry.runtime_events
    healthy(pool)


# 5
def test_thread_bomb(pool, healthy):
    body = """import threading, time
def f():
    threads = []
    try:
        while True:
            t = threading.Thread(target=time.sleep, args=(30,), daemon=True)
            t.start()
            threads.append(t)
    except (RuntimeError, MemoryError):
        return len(threads)
"""
    outcome = call(pool, body, time_limit_s=5.0)
    assert outcome.status == "ok", outcome
    assert outcome.value <= pool.config.max_threads  # RLIMIT_NPROC (or RLIMIT_AS) stopped it
    healthy(pool)


# 6
def test_recursion_bomb(pool, healthy):
    plain = call(pool, "def f(n=0):\n    return f(n + 1)\n")
    assert plain.status == "crash" and "RecursionError" in plain.diagnostics
    deep = call(pool, "import sys\nsys.setrecursionlimit(10**8)\ndef f(n=0):\n    return f(n + 1) + 1\n")
    # 3.11 keeps Python frames off the C stack: depending on timing this ends as a memory
    # error, a segfault or the time limit; each one confined to the child
    assert deep.status in ("crash", "memory_error", "timeout")
    healthy(pool)


# 7
def test_huge_output(pool, healthy):
    big_value = call(pool, "def f():\n    return 'x' * (64 << 20)\n", memory_limit_mb=1024)
    assert big_value.status == "bad_output"
    printed = call(pool, "def f():\n    print('y' * (20 << 20))\n    return 7\n", time_limit_s=5.0)
    assert printed.status == "ok" and printed.value == 7
    assert len(printed.output_tail) <= pool.config.stderr_tail_bytes
    forged_header = call(pool, "import os, struct\ndef f():\n"
                               "    os.write(4, struct.pack('>I', 2**31) + b'x' * 100)\n    return 1\n")
    assert forged_header.status == "bad_output"
    deep = call(pool, "def f():\n    x = []\n    for _ in range(100000):\n        x = [x]\n    return x\n")
    assert deep.status == "bad_output"
    healthy(pool)


# 8
def test_write_outside_scratch(pool, tmp_path, healthy):
    target = tmp_path / "pwned"
    body = f"""import os
def f():
    results = []
    for path in ["/etc/pwned", "/usr/pwned", "/pwned", "/proc/pwned", "/dev/pwned", "/dev/shm/pwned",
                 {str(target)!r}]:
        try:
            with open(path, "w") as handle:
                handle.write("x")
            results.append("wrote " + path)
        except OSError as exc:
            results.append(type(exc).__name__)
    with open("inside-scratch.txt", "w") as handle:  # the scratch is writable
        handle.write("ok")
    with open("/tmp/persist", "w") as handle:
        handle.write("left behind")
    return results
"""
    outcome = call(pool, body)
    assert outcome.status == "ok"
    assert not any(item.startswith("wrote") for item in outcome.value)
    assert not target.exists() and not Path("/etc/pwned").exists()
    assert "write_outside_scratch" in outcome.telemetry.runtime_events
    # every program gets a fresh scratch: nothing of the previous one survives
    for _ in range(pool.config.slots):
        later = call(pool, "import os\ndef f():\n    return os.listdir('/tmp')\n")
        assert later.status == "ok" and "persist" not in later.value
    healthy(pool)


# 9
def test_append_to_scorer_source(pool, healthy):
    source = load_task("parity").directory / "scorer.py"
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    body = f"""def f():
    try:
        with open({str(source)!r}, "a") as handle:
            handle.write("\\nSCORE_OVERRIDE = 1.0\\n")
        return "appended"
    except OSError as exc:
        return type(exc).__name__
"""
    outcome = call(pool, body)
    assert outcome.status == "ok" and outcome.value != "appended"
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before
    healthy(pool)


# 10
def test_read_hidden_data_and_env_secrets(tmp_path, monkeypatch, healthy):
    secret = "hidden-label-7f3a9c"
    hidden = tmp_path / "hidden_test.json"
    hidden.write_text(secret)
    hidden.chmod(0o600)
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    body = f"""import glob, os
def f():
    found = [repr(dict(os.environ))]
    paths = [{str(hidden)!r}, "/proc/1/environ", "/proc/self/environ", "/root", "/work"]
    paths += glob.glob("/proc/*/environ") + glob.glob("/proc/*/cmdline")
    for path in paths:
        try:
            found.append(open(path, "rb").read().decode("latin-1"))
        except OSError as exc:
            found.append(type(exc).__name__)
    return "\\n".join(found)
"""
    with SandboxPool(SandboxConfig(slots=1)) as own:
        outcome = call(own, body)
        assert outcome.status == "ok"
        assert secret not in outcome.value
        healthy(own)


# 11
def test_connect_to_host_loopback_listener(pool, healthy):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abstract.bind(f"\0selftaught-test-{os.getpid()}")
    abstract.listen(8)
    abstract.settimeout(0.2)
    try:
        tcp = call(pool, f"import socket\ndef f():\n    socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
                         "    return 'connected'\n")
        assert tcp.status == "blocked"
        unix = call(pool, "import socket\ndef f():\n    s = socket.socket(socket.AF_UNIX)\n"
                          f"    s.connect('\\0selftaught-test-{os.getpid()}')\n    return 'connected'\n")
        assert unix.status == "blocked"  # connect is denied outright (issue 24): nothing to connect to
        for server in (listener, abstract):
            with pytest.raises(socket.timeout):
                server.accept()
    finally:
        listener.close()
        abstract.close()
    healthy(pool)


# 12
def test_kill_parent_and_fork_server(pool, healthy):
    # A program is pid 1 of a pid namespace of its own (fresh.FreshPids): its parent is
    # outside (getppid() is 0), pid 1 is itself and ignores a SIGKILL it sends itself, as any
    # init does, and -1 reaches no other process. Process groups stay refused by the filter.
    sandboxes = [slot.process.pid for slot in pool._all]
    for target in ("os.getppid()", "1", "-1"):
        body = f"import os, signal\ndef f():\n    os.kill({target}, signal.SIGKILL)\n    return 'alive'\n"
        outcome = call(pool, body)
        assert outcome.status in ("ok", "blocked"), (target, outcome)
        assert "os.kill" in outcome.telemetry.runtime_events
    group = call(pool, "import os, signal\ndef f():\n    os.kill(-os.getpid(), signal.SIGKILL)\n    return 'alive'\n")
    assert group.status == "blocked", group
    own = call(pool, "import os, signal\ndef f():\n    os.kill(os.getpid(), 0)\n    return 'self ok'\n")
    assert own.value == "self ok"
    assert [slot.process.pid for slot in pool._all] == sandboxes  # no fork-server was lost
    healthy(pool)


# 12b: not in the list; poisoning the fork-server would make the *next* program fail
def test_poison_the_fork_server(healthy):
    # In its own pid namespace a program cannot name the fork-server (getppid() is 0, which
    # means itself; pid 1 is itself too): each call either acts on the program alone or is
    # refused. Either way the next program in the slot runs with the fork-server's limits.
    poisons = ("resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE, (3, 3))",
               "resource.prlimit(1, resource.RLIMIT_CPU, (1, 1))",
               "os.setpriority(os.PRIO_PROCESS, os.getppid(), 19)",
               "os.setpriority(os.PRIO_USER, os.getuid(), 19)",
               "os.sched_setaffinity(os.getppid(), {0})")
    state = ("import os, resource\ndef f():\n    return [resource.getrlimit(resource.RLIMIT_NOFILE), "
             "os.getpriority(os.PRIO_PROCESS, 0), sorted(os.sched_getaffinity(0))]\n")
    with SandboxPool(SandboxConfig(slots=1)) as single:
        before = call(single, state).value
        for call_text in poisons:
            body = f"import os, resource\ndef f():\n    {call_text}\n    return 'done'\n"
            assert call(single, body).status in ("ok", "blocked"), call_text
            assert call(single, state).value == before, call_text
        own = ("import os, resource\ndef f():\n    resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))\n"
               "    os.setpriority(os.PRIO_PROCESS, 0, 5)\n    os.sched_setaffinity(0, {0})\n    return 'own ok'\n")
        assert call(single, own).value == "own ok"  # acting on itself is still allowed
        assert call(single, state).value == before
        healthy(single)


# 13
def test_ptrace(pool, healthy):
    body = """import ctypes, os
def f():
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.ptrace(16, os.getppid(), 0, 0)  # PTRACE_ATTACH to the fork-server
"""
    outcome = call(pool, body)
    assert outcome.status == "blocked"
    assert "ctypes" in outcome.telemetry.static_flags
    healthy(pool)


# 14
def test_ctypes_syscalls(pool, healthy):
    for number in (165, 272, 321, 425):  # mount, unshare, bpf, io_uring_setup
        body = f"import ctypes\ndef f():\n    return ctypes.CDLL(None).syscall({number}, 0, 0, 0, 0, 0)\n"
        assert call(pool, body).status == "blocked", number
    i386_fork = """import ctypes, mmap
def f():
    code = bytes([0xB8, 0x02, 0, 0, 0, 0xCD, 0x80, 0xC3])  # mov eax, 2 (i386 fork); int 0x80; ret
    page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(code)
    return ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))()
"""
    assert call(pool, i386_fork).status == "blocked"  # another syscall ABI is no way around
    shm = call(pool, "import ctypes\ndef f():\n    return ctypes.CDLL(None).shmget(0, 1 << 20, 0o1600)\n")
    assert shm.status == "blocked"  # SysV memory would outlive the program in the slot
    wild = call(pool, "import ctypes\ndef f():\n    return ctypes.string_at(8)\n")
    assert wild.status == "crash" and "SIGSEGV" in wild.diagnostics
    healthy(pool)


# 15
def test_spawn_a_shell(pool, healthy):
    for body in ("import subprocess\ndef f():\n    return subprocess.run(['/bin/sh', '-c', 'echo hi']).returncode\n",
                 "import os\ndef f():\n    return os.system('echo pwned > /tmp/x')\n",
                 "import os\ndef f():\n    os.execv('/bin/sh', ['sh', '-c', 'echo pwned'])\n"):
        outcome = call(pool, body)
        assert outcome.status == "blocked", (body, outcome)
    # no pty device in the sandbox's /dev: it fails before it could fork
    outcome = call(pool, "import pty\ndef f():\n    pty.spawn('/bin/sh')\n")
    assert outcome.status in ("blocked", "crash") and outcome.value is None, outcome
    healthy(pool)


# 16
def test_forged_result_on_stdout_then_os_exit(pool, healthy):
    body = """import os, sys, json, struct
def f():
    fake = json.dumps({"result": 1.0, "status": "ok", "score": 10.0}).encode()
    sys.stdout.write(fake.decode())
    sys.stdout.flush()
    os.write(1, struct.pack('>I', len(fake)) + fake)
    os._exit(0)
"""
    outcome = call(pool, body)
    assert outcome.status == "crash" and outcome.value is None
    assert "without returning a result" in outcome.diagnostics
    assert "os_exit" in outcome.telemetry.static_flags
    # writing a frame on the real channel is no better than returning the value: the host
    # still scores it, and an all-ones guess scores like an all-ones guess
    task = load_task("parity")
    instance = task.make_instance(4321)
    channel = """import os, json, struct
def algorithm(a, b, c):
    fake = json.dumps({"result": [1] * 20}).encode()
    os.write(4, struct.pack('>I', len(fake)) + fake)
    os._exit(0)
"""
    forged = pool.call(channel, "algorithm", task.arguments(instance))
    assert task.score(instance, forged) == float(np.mean(instance.test_parity == 1))
    healthy(pool)


# 17
def test_eq_always_true_object(pool, healthy):
    task = load_task("parity")
    instance = task.make_instance(4321)
    for body in ("class Liar:\n    def __eq__(self, other):\n        return True\n"
                 "def algorithm(a, b, c):\n    return Liar()\n",
                 "class Liar(list):\n    def __eq__(self, other):\n        return True\n"
                 "def algorithm(a, b, c):\n    return Liar([0] * 20)\n",
                 "class Liar(float):\n    def __eq__(self, other):\n        return True\n"
                 "def algorithm(a, b, c):\n    return [Liar(0)] * 20\n"):
        outcome = pool.call(body, "algorithm", task.arguments(instance))
        assert outcome.status == "bad_output", outcome
        assert task.score(instance, outcome) == 0.0
    healthy(pool)


# 18
@pytest.mark.parametrize("expression", [
    "np.full(20, np.nan)", "[float('inf')] * 20", "np.ones(2000, dtype=int)", "np.ones((20, 1))",
    "np.full(20, 2)", "[0.5] * 20", "'01' * 10", "None", "[[0]] * 20",
])
def test_nan_inf_and_wrong_shapes(pool, expression, healthy):
    task = load_task("parity")
    instance = task.make_instance(4321)
    body = f"import numpy as np\ndef algorithm(a, b, c):\n    return {expression}\n"
    outcome = pool.call(body, "algorithm", task.arguments(instance))
    assert outcome.status in ("ok", "bad_output")
    assert task.score(instance, outcome) == 0.0  # never above 1 (the 1000% bug)


def _budgeted(limit: int):
    """A host-side handler with a budget, as the LM layer will provide."""
    calls = {"accepted": 0, "refused": 0}
    lock = threading.Lock()

    def handler(*_args):
        with lock:
            if calls["accepted"] >= limit:
                calls["refused"] += 1
                raise BudgetExceeded(f"You have exceeded your budget of {limit} calls")
            calls["accepted"] += 1
        return 0.5 if len(_args) == 1 else ["response"]

    return handler, calls


# 19
def test_improver_calls_utility_past_budget(pool, healthy):
    utility, counts = _budgeted(3)
    body = """def improve_algorithm(initial_solution, utility, language_model):
    for _ in range(10):
        utility(initial_solution)
    return initial_solution
"""
    outcome = pool.run_improver(body, "s", utility, "desc", lambda m, k: [], 2.0)
    assert outcome.status == "crash" and "BudgetExceeded" in outcome.diagnostics
    assert counts == {"accepted": 3, "refused": 1}
    catching = """def improve_algorithm(initial_solution, utility, language_model):
    scores = []
    for _ in range(10):
        try:
            scores.append(utility(initial_solution))
        except BudgetExceeded:
            scores.append(None)
    return repr(scores)
"""
    utility, counts = _budgeted(3)
    outcome = pool.run_improver(catching, "s", utility, "desc", lambda m, k: [], 2.0)
    assert outcome.value == repr([0.5] * 3 + [None] * 7)
    assert counts["accepted"] == 3
    healthy(pool)


# 20
def test_improver_builds_a_bigger_language_model(pool, healthy):
    lm, counts = _budgeted(2)
    body = """def improve_algorithm(initial_solution, utility, language_model):
    try:
        from selftaught.lm import LanguageModel
    except ImportError:
        LanguageModel = type(language_model)
    bigger = LanguageModel(budget=1000, max_responses_per_call=1000)
    bigger.budget = 1000
    got = 0
    for _ in range(10):
        try:
            bigger.prompt("expert", "hi", n_responses=100)
            got += 1
        except BudgetExceeded:
            pass
    return str(got)
"""
    outcome = pool.run_improver(body, "s", lambda s: 0.0, "desc", lm, 2.0)
    assert outcome.value == "2" and counts["accepted"] == 2
    assert "constructs_language_model" in outcome.telemetry.static_flags
    assert "touches_budget" in outcome.telemetry.static_flags
    healthy(pool)


# 21
def test_improver_monkey_patches_proxies(pool, healthy):
    lm, lm_counts = _budgeted(1)
    utility, utility_counts = _budgeted(1)
    body = """import builtins
def improve_algorithm(initial_solution, utility, language_model):
    language_model.budget = 10**9
    utility.budget = 10**9
    type(utility).__call__ = lambda self, solution: 1.0   # fools only the improver itself
    builtins.BudgetExceeded = type("Nothing", (Exception,), {})
    fake = utility(initial_solution)
    real = 0
    for _ in range(5):
        try:
            language_model.prompt("e", "m")
            real += 1
        except Exception:
            pass
    return f"{fake} {real}"
"""
    outcome = pool.run_improver(body, "s", utility, "desc", lm, 2.0)
    assert outcome.value == "1.0 1"
    assert lm_counts["accepted"] == 1 and utility_counts["accepted"] == 0
    assert {"touches_budget", "patches_proxy"} <= set(outcome.telemetry.static_flags)
    healthy(pool)


# 22
def test_improver_never_returns(pool, healthy):
    body = "def improve_algorithm(initial_solution, utility, language_model):\n    while True:\n        pass\n"
    outcome = pool.run_improver(body, "s", lambda s: 0.0, "desc", lambda m, k: [], 0.5)
    assert outcome.status == "timeout"
    healthy(pool)


# 23
@pytest.mark.parametrize("text", [b"\xff\xfe\x00\x81garbage", "def f():\n    return 1\x00\n", "\ud800",
                                  bytes(range(256))])
def test_garbage_and_non_utf8_program_text(pool, text, healthy):
    outcome = pool.call(text, "f", [])
    assert outcome.status == "syntax_error"
    healthy(pool)


# 24
def test_syntax_error(pool, healthy):
    outcome = pool.call("def f(:\n    return 1\n", "f", [])
    assert outcome.status == "syntax_error" and "SyntaxError" in outcome.diagnostics
    assert outcome.telemetry.static_flags == ("unparsable",)
    healthy(pool)


# 25
def test_missing_entry_point(pool, healthy):
    assert pool.call("def g():\n    return 1\n", "algorithm", []).status == "missing_entry_point"
    assert pool.call("algorithm = 5\n", "algorithm", []).status == "missing_entry_point"
    healthy(pool)
