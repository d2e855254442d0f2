import threading

import pytest

from selftaught.errors import BudgetExceeded, ConfigError
from selftaught.lm.budget import Budget, BudgetTracker


def test_calls_are_counted_until_the_budget_is_spent():
    tracker = BudgetTracker(Budget(max_calls=2, max_responses_per_call=3))
    tracker.charge(3)
    tracker.charge(1)
    with pytest.raises(BudgetExceeded, match="exceeded your call budget of 2"):
        tracker.charge(1)
    assert tracker.calls_used == 2


def test_too_many_responses_per_call_is_refused_without_charging():
    tracker = BudgetTracker(Budget(max_calls=1, max_responses_per_call=2))
    with pytest.raises(BudgetExceeded, match="at most 2 responses per call"):
        tracker.charge(3)
    assert tracker.calls_used == 0
    tracker.charge(2)


@pytest.mark.parametrize("field", ["max_calls", "max_responses_per_call"])
def test_a_zero_budget_is_a_config_error(field):
    with pytest.raises(ConfigError) as info:
        Budget(**{field: 0})
    assert "1 or more" in info.value.fix


def test_concurrent_charges_never_overspend():
    tracker = BudgetTracker(Budget(max_calls=50, max_responses_per_call=1))
    granted = []

    def worker():
        for _ in range(20):
            try:
                tracker.charge(1)
                granted.append(1)
            except BudgetExceeded:
                pass

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 50 == tracker.calls_used
