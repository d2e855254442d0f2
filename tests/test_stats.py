import math

import pytest

from selftaught.stats import lower_bound, mean_interval, upper_bound, wilson_interval


def test_mean_interval_is_student_t():
    i = mean_interval([0.0, 1.0, 0.5, 0.5])
    # mean 0.5, sd 0.40825, t(0.975, 3) = 3.18245
    assert i.mean == 0.5 and i.n == 4
    assert i.half_width == pytest.approx(3.18245 * 0.40825 / 2, rel=1e-4)


def test_mean_interval_is_clipped_to_bounds_and_degenerate_for_one_value():
    assert mean_interval([0.0, 1.0], bounds=(0.0, 1.0)).lo == 0.0
    one = mean_interval([0.3])
    assert (one.lo, one.hi, one.n) == (0.3, 0.3, 1) and str(one) == "0.300 (n=1, no interval)"
    with pytest.raises(ValueError):
        mean_interval([])


def test_one_sided_bounds():
    d = [0.1, 0.2, 0.3]
    # t(0.95, 2) = 2.91999
    assert lower_bound(d, 0.95) == pytest.approx(0.2 - 2.91999 * 0.1 / math.sqrt(3), rel=1e-4)
    assert upper_bound(d, 0.95) == pytest.approx(0.2 + 2.91999 * 0.1 / math.sqrt(3), rel=1e-4)
    assert lower_bound([0.5], 0.95) == -math.inf


def test_wilson_interval_matches_the_papers_scale():
    i = wilson_interval(0, 10)
    assert i.mean == 0.0 and i.lo == 0.0 and i.hi == pytest.approx(0.2775, abs=1e-4)
    j = wilson_interval(5, 10)
    assert (j.lo, j.hi) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    with pytest.raises(ValueError):
        wilson_interval(3, 2)
