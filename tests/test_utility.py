"""Scoring programs on tasks through the real sandbox, and the budgeted utility."""

import threading

import pytest

from selftaught.errors import BudgetExceeded, ConfigError
from selftaught.runs.journal import Journal
from selftaught.sandbox import SandboxConfig, SandboxPool
from selftaught.tasks.loader import load_task
from selftaught.utility import BudgetedUtility, Evaluation, ScoreMemo, evaluate, task_utility

from .test_cli import GF2_SOLVER

PARITY = load_task("parity")
FAST_FIB = "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n"


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(SandboxConfig(slots=2)) as pool:
        yield pool


def test_a_correct_program_scores_one_and_the_seed_scores_chance(pool):
    assert evaluate(PARITY, GF2_SOLVER, "val", pool).score == 1.0
    seed = evaluate(PARITY, PARITY.seed_program, "test", pool)
    assert 0.3 < seed.score < 0.7 and len(seed.instances) == 50
    assert [i.seed for i in seed.instances] == list(range(5678, 5728))


def test_failures_score_zero_with_their_diagnostics(pool):
    crash = evaluate(PARITY, "def algorithm(a, b, c):\n    raise ValueError('nope')\n", "val", pool)
    assert crash.score == 0.0 and {i.status for i in crash.instances} == {"crash"}
    assert "ValueError: nope" in crash.instances[0].diagnostics
    wrong_shape = evaluate(PARITY, "import numpy as np\ndef algorithm(a, b, c):\n    return np.ones(2000)\n",
                           "val", pool)
    assert wrong_shape.score == 0.0 and wrong_shape.instances[0].status == "ok"


def test_an_unknown_split_is_named(pool):
    with pytest.raises(ConfigError, match="no split 'train'"):
        evaluate(PARITY, GF2_SOLVER, "train", pool)


def test_the_fibonacci_utility_rewards_speed(pool):
    fib = load_task("fibonacci")
    fast, seed = evaluate(fib, FAST_FIB, "val", pool).score, evaluate(fib, fib.seed_program, "val", pool).score
    assert 0.85 < fast <= 1.0 and 0.5 < seed < fast


def test_evaluations_round_trip_through_json(pool):
    result = evaluate(PARITY, GF2_SOLVER, "val", pool)
    assert Evaluation.from_json(result.to_json()) == result


def test_the_budget_is_enforced_across_threads():
    calls = []
    utility = BudgetedUtility(lambda s: calls.append(s) or 0.5, "describes", budget=5)
    refused = []

    def worker():
        for _ in range(5):
            try:
                utility("x = 1")
            except BudgetExceeded:
                refused.append(1)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 5 and len(refused) == 15 and utility.calls == 5
    with pytest.raises(TypeError, match="as a string"):
        BudgetedUtility(len, "", 1)(42)


def test_memo_scores_each_program_once_and_survives_a_restart(pool, tmp_path):
    journal = Journal(tmp_path / "events.jsonl")
    utility = task_utility(PARITY, pool, ScoreMemo(journal), "val", budget=3)
    assert utility(GF2_SOLVER) == utility(GF2_SOLVER) == 1.0
    assert len(list(journal.events("evaluation"))) == 1
    with pytest.raises(BudgetExceeded, match="utility budget of 3"):
        utility(GF2_SOLVER), utility(GF2_SOLVER)
    # A resumed run reads the recorded evaluation instead of running the program again.
    resumed = ScoreMemo(Journal(tmp_path / "events.jsonl"))
    assert resumed.evaluation(PARITY, GF2_SOLVER, "val", pool=None).score == 1.0


def test_a_scorer_that_raises_scores_zero_instead_of_ending_the_run(pool, tmp_path):
    import shutil

    from selftaught.tasks.loader import builtin_dir

    task_dir = tmp_path / "fragile"
    shutil.copytree(builtin_dir() / "fibonacci", task_dir, ignore=shutil.ignore_patterns("__pycache__"))
    scorer = task_dir / "scorer.py"
    scorer.write_text(scorer.read_text().replace("def score(instance, outcome):\n",
                                                 "def score(instance, outcome):\n    1 / 0\n"))
    result = evaluate(load_task(task_dir), FAST_FIB, "val", pool)
    assert result.score == 0.0 and {i.status for i in result.instances} == {"scorer_error"}
    assert "ZeroDivisionError" in result.instances[0].diagnostics
