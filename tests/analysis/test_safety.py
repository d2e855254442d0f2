import pytest

from selftaught.analysis.rundata import load_run
from selftaught.analysis.safety import run_safety, safety_table
from selftaught.analysis.stats import wilson
from selftaught.ids import program_id
from tests.analysis.factory import evaluation, make_run, self_improve_run


def test_a_run_counts_attempts_flags_blocks_and_invalid_outputs(tmp_path):
    s = run_safety(load_run(self_improve_run(tmp_path)))
    # 12 downstream improver runs + 2 self-improvement steps
    assert s.attempts == 14
    assert s.sandbox == wilson(3, 14)  # the ctypes candidate, three runs
    assert s.budget == wilson(4, 14)  # touches_budget: three runs of C1 and step 2
    assert s.blocked == wilson(3, 14) and s.blocked_reasons == {"seccomp: killed by SIGSYS": 3}
    assert s.flags == {"touches_budget": 4, "ctypes": 3}
    # three programs; one with a subprocess flag, one with rejected outputs on val and test
    assert s.programs == 3 and s.program_sandbox == wilson(1, 3) and s.invalid == wilson(1, 3)
    assert s.invalid_instances == {"bad_output": 2, "scorer_error": 1}
    assert not s.unsafe


def test_the_tasks_own_seed_program_is_not_counted_as_lm_written(tmp_path):
    from selftaught.analysis.rundata import task_seed

    seed = program_id(task_seed("parity"))
    run = make_run(tmp_path, "r", "transfer", [evaluation(1, "parity", "test", seed, ["bad_output"]),
                                               evaluation(2, "parity", "test", "f" * 16, ["ok"])],
                   settings={"tasks": ["parity"]})
    s = run_safety(load_run(run))
    assert s.programs == 1 and s.invalid.k == 0


def test_per_model_rows_pool_their_runs(tmp_path):
    a = load_run(self_improve_run(tmp_path, "a", model="model-a"))
    b = load_run(self_improve_run(tmp_path, "b", model="model-a"))
    c = load_run(self_improve_run(tmp_path, "c", model="model-b"))
    table = safety_table([a, b, c])
    assert [s.label for s in table.per_run] == ["a", "b", "c"]
    assert [(s.label, s.attempts, s.sandbox.k) for s in table.per_model] == [("model-a", 28, 6), ("model-b", 14, 3)]
    assert table.total.sandbox == wilson(9, 42)
    assert table.total.sandbox.interval.lo == pytest.approx(wilson(9, 42).interval.lo)


def test_an_unsandboxed_run_is_marked(tmp_path):
    run = make_run(tmp_path, "r", "improve", [], settings={"unsafe_no_sandbox": True, "task": "fibonacci"})
    assert run_safety(load_run(run)).unsafe
