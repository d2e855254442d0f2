import threading
import time

import pytest

from selftaught.executors import LocalExecutor, SerialExecutor, make_executor
from selftaught.settings import Placement


def test_make_executor_picks_serial_for_one_worker():
    assert isinstance(make_executor(Placement()), SerialExecutor)
    assert isinstance(make_executor(Placement(workers=3, improver_slots=4)), LocalExecutor)


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


def test_a_placement_names_an_executor_and_an_address_only_for_ray():
    import dataclasses

    from selftaught.errors import ConfigError
    from selftaught.settings import PLACEMENTS

    small = PLACEMENTS["small"]
    assert (small.executor, small.ray_address) == ("local", "")
    with pytest.raises(ConfigError, match="'slurm' is not an executor"):
        dataclasses.replace(small, executor="slurm")
    with pytest.raises(ConfigError, match="the executor is not ray"):
        dataclasses.replace(small, ray_address="10.0.0.1:6379")
    assert dataclasses.replace(small, executor="ray", ray_address="10.0.0.1:6379").ray_address == "10.0.0.1:6379"


def test_the_cli_refuses_an_unknown_executor_with_a_fix():
    import os
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "selftaught", "self-improve", "--executor", "slurm"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "error: the given settings: placement.executor = 'slurm' is not one of 'local', 'ray'" in proc.stderr
    assert "fix: give executor one of 'local', 'ray'\n" in proc.stderr  # no quoting hint: it is a string already
