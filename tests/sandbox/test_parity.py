from __future__ import annotations

import numpy as np
import pytest

from selftaught.tasks.parity import ParityTask, validate_predictions


def test_splits_match_the_paper():
    task = ParityTask()
    val, test = task.instances("val"), task.instances("test")
    assert len(val) == 20 and len(test) == 50
    assert val[0].seed == 4321 and test[-1].seed == 5678 + 49
    with pytest.raises(KeyError):
        task.instances("train")


def test_instances_are_deterministic_and_consistent():
    task = ParityTask()
    a, b = task.make_instance(4321), task.make_instance(4321)
    assert np.array_equal(a.test_parity, b.test_parity)
    assert a.train_samples.shape == (100, 10) and a.test_samples.shape == (20, 10)
    assert set(np.unique(a.train_parity)) <= {0, 1}


@pytest.mark.parametrize("value", [np.full(20, np.nan), [float("inf")] * 20, np.ones(2000), np.ones((20, 1)),
                                   np.full(20, 2), [0.5] * 20, "0" * 20, None, [[0]] * 20, np.array(["0"] * 20),
                                   [None] * 20])
def test_malformed_predictions_score_zero(value):
    task = ParityTask()
    instance = task.make_instance(4321)
    assert validate_predictions(value, 20) is None
    assert task.score(value, instance) == 0.0
    assert task.output_problem(value) is not None


def test_valid_predictions_score_accuracy():
    task = ParityTask()
    instance = task.make_instance(4321)
    assert task.score(instance.test_parity, instance) == 1.0
    assert task.score(list(map(float, 1 - instance.test_parity)), instance) == 0.0
    assert task.score([True] * 20, instance) == float(np.mean(instance.test_parity == 1))
