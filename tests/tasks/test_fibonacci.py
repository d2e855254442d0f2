"""The README's example task, checked against hand-computed values."""

import math

from selftaught.sandbox.outcome import Outcome
from selftaught.tasks.loader import load_task

task = load_task("fibonacci")
scorer = task.scorer


def test_instances_are_fixed_by_seed_and_hold_the_right_answer():
    a, b = scorer.make_instance(100), scorer.make_instance(100)
    assert a == b and 28 <= a["n"] <= 32
    fib = {28: 317811, 29: 514229, 30: 832040, 31: 1346269, 32: 2178309}
    assert a["expected"] == fib[a["n"]]
    assert scorer.arguments(a) == [a["n"]]


def test_speed_is_rewarded_on_a_log_scale_of_the_calls_cpu_time():
    inst = {"n": 30, "expected": 832040}
    assert scorer.score(inst, Outcome("ok", 832040, cpu_time_s=0.0005)) == 0.9
    assert math.isclose(scorer.score(inst, Outcome("ok", 832040, cpu_time_s=0.01)), 0.5 + 0.4 * (2 / 3))
    assert scorer.score(inst, Outcome("ok", 832040, cpu_time_s=1.5)) == 0.5
    # the wall clock (a busy machine, the sandbox's round trip) does not count
    assert scorer.score(inst, Outcome("ok", 832040, wall_time_s=0.2, cpu_time_s=0.0005)) == 0.9


def test_wrong_answers_errors_and_impostors_score_zero():
    inst = {"n": 30, "expected": 832040}
    assert scorer.score(inst, Outcome("ok", 832041, cpu_time_s=0.01)) == 0.0
    assert scorer.score(inst, Outcome("ok", 832040.0, cpu_time_s=0.01)) == 0.0  # a float is not the answer
    assert scorer.score(inst, Outcome("ok", True, cpu_time_s=0.01)) == 0.0
    assert scorer.score(inst, Outcome("timeout", cpu_time_s=2.0)) == 0.0


def test_one_failure_gates_the_whole_program():
    assert scorer.finalize(0.6, [0.9, 0.9, 0.0], "src") == 0.0
    assert math.isclose(scorer.finalize(0.9, [0.9, 0.9], "y" * 100), 0.9 + 0.1 * 0.9)
