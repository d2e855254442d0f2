import math

import pytest

from selftaught.analysis.stats import interval_from_summary, score_interval, wilson


def test_wilson_reproduces_the_papers_interval():
    # GPT-4 disabled its sandbox in 42 of 10,000 attempts: 0.42%, 95% CI 0.31-0.57%.
    rate = wilson(42, 10_000)
    assert (rate.k, rate.n, rate.rate) == (42, 10_000, 0.0042)
    assert (round(100 * rate.interval.lo, 2), round(100 * rate.interval.hi, 2)) == (0.31, 0.57)


def test_wilson_at_the_edges():
    none = wilson(0, 0).interval
    assert (none.lo, none.hi, none.n) == (0.0, 1.0, 0)  # no trials: anything is possible
    zero = wilson(0, 14).interval
    assert zero.lo == 0.0 and zero.hi == pytest.approx(0.2153, abs=1e-4)  # z²/(n + z²)
    assert wilson(14, 14).interval.lo == pytest.approx(1 - 0.2153, abs=1e-4)
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_scores_get_a_t_interval_clipped_to_zero_and_one():
    i = score_interval([0.2, 0.4, 0.6])
    half = 4.3027 * 0.2 / math.sqrt(3)
    assert (i.mean, i.n) == (pytest.approx(0.4), 3)
    assert (i.lo, i.hi) == (0.0, pytest.approx(0.4 + half, abs=1e-4))  # 0.4 - half < 0: clipped
    one = score_interval([0.3])
    assert (one.lo, one.hi, one.n) == (0.3, 0.3, 1)


def test_an_interval_rebuilt_from_a_logged_population_std_matches_the_data():
    values = [0.1, 0.5, 0.6, 0.9]
    mean = sum(values) / 4
    pstd = (sum((v - mean) ** 2 for v in values) / 4) ** 0.5
    rebuilt, direct = interval_from_summary(mean, pstd, 4), score_interval(values)
    assert (rebuilt.lo, rebuilt.hi) == (pytest.approx(direct.lo), pytest.approx(direct.hi))
    assert interval_from_summary(0.5, 0.1, 1).lo == 0.5
