import math

from selftaught.tasks.loader import load_task
from selftaught.tasks.task import Split, _clamp


def test_split_seeds_are_consecutive():
    assert list(Split("val", 10, 3).seeds()) == [10, 11, 12]


def test_scores_are_clamped_and_garbage_counts_as_zero():
    assert _clamp(1.5) == 1.0 and _clamp(-2) == 0.0 and _clamp(0.25) == 0.25
    assert _clamp(math.nan) == 0.0 and _clamp("high") == 0.0 and _clamp(None) == 0.0
    assert _clamp(math.inf) == 1.0


def test_finalize_defaults_to_the_mean_and_uses_the_scorers_own(tmp_path):
    task = load_task("fibonacci")  # defines finalize: a correctness gate plus brevity
    assert task.finalize([0.5, 0.0], "x") == 0.0
    assert task.finalize([0.5, 0.5], "x" * 500) == 0.5 + 0.1 * 0.5
