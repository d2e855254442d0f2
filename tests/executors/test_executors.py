import threading
import time

import pytest

from selftaught.executors import LocalExecutor, SerialExecutor, make_executor


def test_make_executor_picks_serial_for_one_worker():
    assert isinstance(make_executor(1), SerialExecutor) and isinstance(make_executor(3), LocalExecutor)


def test_local_executor_runs_units_at_once_and_keeps_their_order():
    executor, running, peak, lock = LocalExecutor(3), [0], [0], threading.Lock()

    def unit(x):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return x * x

    try:
        assert executor.map(unit, [3, 1, 2, 5, 4, 0]) == [9, 1, 4, 25, 16, 0]
        assert peak[0] == 3
    finally:
        executor.close()


def test_a_failing_unit_reraises_after_the_others_finished():
    executor, finished = LocalExecutor(2), []

    def unit(x):
        if x == 0:
            raise ValueError("unit 0 failed")
        time.sleep(0.05)
        finished.append(x)
        return x

    try:
        with pytest.raises(ValueError, match="unit 0 failed"):
            executor.map(unit, [0, 1, 2, 3])
        assert sorted(finished) == [1, 2, 3]
    finally:
        executor.close()
