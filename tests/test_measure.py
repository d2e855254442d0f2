"""The re-measurement rule (measure.py) on scripted outcomes, and on a speed-scored task
through the real sandbox."""

from __future__ import annotations

import pytest

from selftaught.measure import MARGIN, RUNS, measured
from selftaught.sandbox import SandboxConfig, SandboxPool
from selftaught.sandbox.outcome import Outcome
from selftaught.tasks.loader import load_task
from selftaught.utility import evaluate


def calls(*outcomes: tuple[str, float]):
    queue = [Outcome(status, value=1 if status == "ok" else None, cpu_time_s=cpu) for status, cpu in outcomes]
    made = []

    def call() -> Outcome:
        made.append(queue[len(made)])
        return made[-1]

    return call, made


def test_a_time_far_from_the_limit_is_measured_once():
    call, made = calls(("ok", 0.1), ("ok", 0.05))
    assert measured(call, 1.0) == (made[0], 1)


def test_a_timeout_that_was_noise_becomes_the_ok_run_it_should_have_been():
    call, made = calls(("timeout", 1.0), ("ok", 0.8), ("ok", 0.3))
    outcome, runs = measured(call, 1.0)
    assert (outcome.status, outcome.cpu_time_s, runs) == ("ok", 0.3, 3)


def test_measuring_stops_once_a_time_lands_clear_of_the_margin():
    call, made = calls(("ok", 0.9), ("ok", (1 - MARGIN) * 1.0 - 0.01), ("ok", 0.01))
    outcome, runs = measured(call, 1.0)
    assert runs == 2 and outcome is made[1]


def test_a_real_timeout_stays_a_timeout_after_every_measurement():
    call, made = calls(*[("timeout", 1.0)] * RUNS)
    outcome, runs = measured(call, 1.0)
    assert (outcome.status, runs) == ("timeout", RUNS)


def test_a_speed_scored_call_is_measured_every_time_and_the_least_decides():
    call, made = calls(("ok", 0.004), ("ok", 0.002), ("ok", 0.003))
    outcome, runs = measured(call, 2.0, speed_scored=True)
    assert (outcome.cpu_time_s, runs) == (0.002, RUNS)


@pytest.mark.parametrize("status", ["crash", "memory_error", "blocked"])
def test_a_failure_is_not_measured_again(status):
    call, made = calls((status, 1.5), ("ok", 0.1))
    assert measured(call, 1.0, speed_scored=True)[1] == 1


def test_fibonacci_instances_are_measured_three_times_and_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    fib = load_task("fibonacci")
    assert fib.speed_scored and not load_task("parity").speed_scored
    fast = "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n"
    with SandboxPool(SandboxConfig(slots=2)) as pool:
        result = evaluate(fib, fast, "val", pool)
        wrong = evaluate(fib, "def fib(n):\n    return 0\n", "val", pool)
    assert [i.measurements for i in result.instances] == [RUNS] * 5
    assert {i.status for i in result.instances} == {"ok"} and result.score > 0.9
    assert [i.measurements for i in wrong.instances] == [RUNS] * 5  # ok calls, wrong answers: still timed
    assert wrong.score == 0.0


def test_a_task_with_a_malformed_speed_flag_is_refused(tmp_path):
    import shutil

    from selftaught.errors import ConfigError
    from selftaught.tasks.loader import builtin_dir

    task = tmp_path / "fib"
    shutil.copytree(builtin_dir() / "fibonacci", task)
    toml = task / "task.toml"
    toml.write_text(toml.read_text().replace("speed_scored = true", 'speed_scored = "yes"'))
    with pytest.raises(ConfigError, match="field `speed_scored` = 'yes' is invalid") as error:
        load_task(task)
    assert "true" in error.value.fix
