import math
import re

from selftaught.tasks.loader import load_task
import numpy as np
import pytest

from selftaught.tasks.task import ScorerError, Split, checked_score


def test_split_seeds_are_consecutive():
    assert list(Split("val", 10, 3).seeds()) == [10, 11, 12]


def test_a_score_is_a_number_in_0_1_and_anything_else_is_the_scorers_error():
    assert checked_score(0.25, "score()") == 0.25 and checked_score(1, "score()") == 1.0
    assert checked_score(np.float32(0.5), "score()") == 0.5 and checked_score(np.int64(0), "score()") == 0.0
    assert checked_score(1 + 1e-12, "score()") == 1.0 and checked_score(-1e-12, "score()") == 0.0  # rounding
    for value, said in ((math.nan, "nan, outside"), (math.inf, "inf, outside"), (5.0, "5.0, outside"),
                        (-3, "-3.0, outside"), ("0.9", "'0.9' (str), not a number"), (None, "None (NoneType)"),
                        (True, "True (bool)"), ((0.5, 0.2), "(0.5, 0.2) (tuple)"), ("x" * 500, "'" + "x" * 56 + "... (str)")):
        with pytest.raises(ScorerError, match=re.escape(f"finalize() returned {said}")):
            checked_score(value, "finalize()")


def test_finalize_defaults_to_the_mean_and_uses_the_scorers_own(tmp_path):
    task = load_task("fibonacci")  # defines finalize: a correctness gate plus brevity
    assert task.finalize([0.5, 0.0], "x") == 0.0
    assert task.finalize([0.5, 0.5], "x" * 500) == 0.5 + 0.1 * 0.5
