"""What a call's time is: the CPU time of the entry-point call, read by the fork-server.

Module-level code has its own limit; threads count; the program cannot move its work
before the clock starts, patch the clock, or hide from it; a busy machine does not change
a CPU-bound program's verdict."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from selftaught.measure import RUNS, measured

# Spins for about `seconds` of CPU time without reading any clock in the call (a clock the
# program could patch): a fixed amount of work. The rate is calibrated once, here, as the best of
# several runs: calibrating inside each program made the work itself vary with the machine's
# noise (a 0.2 s spin cost 0.51 s in one call and 0.28 s in the next), which no test of the
# clock should depend on.
def _spin(n):
    x = 0
    for i in range(n):
        x += i
    return x


def _calibrated_rate(n=200_000, tries=5):
    best = float("inf")
    for _ in range(tries):
        t = time.process_time()
        _spin(n)
        best = min(best, time.process_time() - t)
    return n / max(best, 1e-6)


SPIN = f"""def _spin(n):
    x = 0
    for i in range(n):
        x += i
    return x
_PER_S = {_calibrated_rate():.1f}
"""


def spin_program(call_s: float, module_s: float = 0.0) -> str:
    return SPIN + f"_spin(int({module_s} * _PER_S))\ndef f():\n    _spin(int({call_s} * _PER_S))\n    return 1\n"


def test_module_time_is_not_call_time(pool):
    # the 3-SAT solver with 150 ms of set-up at import, then a fast call
    outcome = pool.call(spin_program(0.0, module_s=0.3), "f", time_limit_s=0.1)
    assert outcome.status == "ok" and outcome.cpu_time_s < 0.01


def test_module_time_has_its_own_limit(pool):
    outcome = pool.call(spin_program(0.0, module_s=3.0), "f", time_limit_s=10, module_time_limit_s=0.3)
    assert outcome.status == "timeout" and "executing the module took" in outcome.diagnostics


def test_a_trivial_call_costs_well_under_a_millisecond_of_cpu(pool):
    times = sorted(pool.call("def f(x):\n    return x + 1\n", "f", [1]).cpu_time_s for _ in range(20))
    assert times[10] < 0.001  # so the Fibonacci speed term can reach its 1 ms floor


def test_cpu_time_of_every_thread_counts(pool):
    body = SPIN + """import threading
def f():
    threads = [threading.Thread(target=_spin, args=(int(0.15 * _PER_S),)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return 1
"""
    outcome = pool.call(body, "f", time_limit_s=0.2)
    assert outcome.status == "timeout" and outcome.cpu_time_s > 0.2


def test_patched_clocks_do_not_fool_the_fork_server(pool):
    patch = "import os, time\nfor _name in dir(time):\n    if 'time' in _name or 'counter' in _name:\n" \
            "        setattr(time, _name, lambda *a: 0.0)\nos.times = lambda: os.times_result((0,) * 5)\n"
    outcome = pool.call(spin_program(0.3) + patch, "f", time_limit_s=0.1)
    assert outcome.status == "timeout" and outcome.cpu_time_s > 0.1


def test_saying_ready_early_only_moves_module_work_into_the_call(pool):
    # the module tells the fork-server it is ready, then keeps working: that work is timed, and
    # the runtime's own "ready" that follows breaks the two-message protocol, which ends it
    early = "import os\nos.write(3, b'ready')\n"
    outcome = pool.call(SPIN + early + "_spin(int(0.3 * _PER_S))\ndef f():\n    return 1\n", "f", time_limit_s=0.1)
    assert outcome.status in ("timeout", "blocked") and outcome.value is None
    if outcome.status == "blocked":
        assert "clock protocol" in outcome.diagnostics


def test_a_flood_on_the_clock_socket_ends_the_program_at_its_first_stray_message(pool):
    flood = "import os\ndef f():\n    while True:\n        os.write(3, b'x')\n"
    outcome = pool.call(flood, "f", time_limit_s=5.0)
    assert outcome.status == "blocked" and "clock protocol" in outcome.diagnostics
    assert outcome.wall_time_s < 1.0  # not a flood the fork-server kept reading until the limit


def test_an_answer_sent_before_the_call_is_only_a_guess(pool):
    # written at import, it cannot depend on the arguments: the call could return it as cheaply
    forged = "import json, os, struct\n_frame = json.dumps({'result': 42}).encode()\n" \
             "os.write(4, struct.pack('>I', len(_frame)) + _frame)\ndef f(x):\n    return x\n"
    assert pool.call(forged, "f", [7]).value == 42


def test_work_in_a_module_thread_after_the_clock_starts_counts(pool):
    # a thread started at import keeps computing while the call runs
    body = SPIN + """import threading, time
threading.Thread(target=_spin, args=(int(0.4 * _PER_S),), daemon=True).start()
def f():
    time.sleep(0.3)
    return 1
"""
    outcome = pool.call(body, "f", time_limit_s=0.1, module_time_limit_s=1.0)
    assert outcome.status == "timeout" and outcome.cpu_time_s > 0.1


@pytest.fixture
def busy_machine():
    """Two busy loops, one per core of the 2-core test machine."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True:\n    pass\n"]) for _ in range(2)]
    yield
    for hog in hogs:
        hog.kill()
        hog.wait()


def _verdicts(pool, programs):
    """(status, measurements) of each program as scoring measures it (measure.py)."""
    out = []
    for program in programs:
        outcome, runs = measured(lambda: pool.call(program, "f", time_limit_s=0.1), 0.1)
        out.append((outcome.status, runs, round(outcome.cpu_time_s, 3)))
    return out


def test_a_busy_machine_moves_a_verdict_only_within_the_margin(pool, request):
    """CPU time is not invariant under load: next to two busy loops the same work has cost 2.5x
    its time alone (shared caches and memory bandwidth). A verdict may move only for programs
    whose time alone is within that factor of the limit; these are 4x or more from it."""
    programs = [spin_program(s) for s in (0.005, 0.025, 0.4)]
    alone = _verdicts(pool, programs)
    request.getfixturevalue("busy_machine")
    loaded = _verdicts(pool, programs)
    assert [s for s, _, _ in alone] == [s for s, _, _ in loaded] == ["ok", "ok", "timeout"], (alone, loaded)
    # far from the limit: measured once; a timeout is measured RUNS times before it is final
    assert alone[0][1] == loaded[0][1] == 1 and alone[2][1] == loaded[2][1] == RUNS, (alone, loaded)


def test_a_time_near_the_limit_is_measured_again(pool):
    program = spin_program(0.2)
    # the least of three: noise only adds time, so one noisy first call must not set the limit
    alone = min(pool.call(program, "f", time_limit_s=10).cpu_time_s for _ in range(3))
    limit = 1.25 * alone  # the program's own time lands at 80% of this limit: inside the margin
    outcome, runs = measured(lambda: pool.call(program, "f", time_limit_s=limit), limit)
    assert runs >= 2, (alone, outcome.cpu_time_s, runs)
