"""Every built-in scorer against outputs no honest program returns: values of the wrong type,
shape or kind, as the sandbox can hand them over (JSON-like values). A scorer must not raise,
and garbage must score 0: no output scores by accident of its type."""

import math

import pytest

from selftaught.tasks.loader import builtin_names, load_task

GARBAGE = [None, "", "0", "abc", {}, {"tour": [0, 1]}, [], [None], [[]], [[None]], ["a", "b"], [math.nan],
           [math.inf, -math.inf], math.nan, math.inf, -math.inf, [[0, 1], [2]], [{"x": 1}], [True, False] * 3]
# Numbers may be right by chance on a task (fibonacci(0) is 0): they must only not raise.
NUMBERS = [True, False, 0, -1, 1.5, 10**30, -(10**30), [10**30], [-1] * 4, [0.5] * 4]


@pytest.fixture(scope="module", params=builtin_names())
def task(request):
    return load_task(request.param)


@pytest.fixture(scope="module")
def instance(task):
    return task.make_instance(12345)


@pytest.mark.parametrize("value", GARBAGE, ids=repr)
def test_garbage_scores_zero(task, instance, ok, value):
    assert task.score(instance, ok(value)) == 0.0


@pytest.mark.parametrize("value", NUMBERS, ids=repr)
def test_numbers_score_within_bounds_without_raising(task, instance, ok, value):
    assert 0.0 <= task.score(instance, ok(value)) <= 1.0
