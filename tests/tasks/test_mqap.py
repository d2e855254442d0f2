import itertools

import numpy as np
import pytest

from selftaught.tasks.library.assignment import expected_random_cost, mqap_cost
from selftaught.tasks.loader import load_task


@pytest.fixture(scope="module")
def task():
    return load_task("mqap")


@pytest.fixture(scope="module")
def three(task):
    """3 facilities: flows 0->1 (1) and 1->2 (2); symmetric distances; P on the diagonal."""
    F = np.array([[0, 1, 0], [0, 0, 2], [0, 0, 0]], dtype=np.float64)
    D = np.array([[0, 5, 7], [5, 0, 3], [7, 3, 0]], dtype=np.float64)
    P = np.diag([1.0, 2.0, 4.0])
    return F, D, P


def test_metadata(task, arity):
    assert (task.name, task.entry_point, task.time_limit_s) == ("mqap", "algorithm", 0.5)
    assert arity(task) == 3
    assert "LOWER IS BETTER" in task.utility_text and "500 milliseconds" in task.utility_text


def test_cost_by_hand(task, three):
    cost = mqap_cost
    # identity: 1*D[0,1] + 2*D[1,2] - 0.5*(1 + 2 + 4) = 5 + 6 - 3.5
    assert cost(*three, [0, 1, 2]) == pytest.approx(7.5)
    # a = [2, 0, 1]: 1*D[2,0] + 2*D[0,1] - 0.5*(P[0,2] + P[1,0] + P[2,1]) = 7 + 10 - 0
    assert cost(*three, [2, 0, 1]) == pytest.approx(17.0)


def test_expected_random_cost_matches_brute_force(task, three):
    rng = np.random.default_rng(0)
    for F, D, P in [three, tuple(rng.random((3, 4, 4)))]:
        n = len(F)
        mean = np.mean([mqap_cost(F, D, P, list(a)) for a in itertools.permutations(range(n))])
        assert expected_random_cost(F, D, P) == pytest.approx(mean)


def test_score_by_hand(task, three, ok):
    # costs of the 6 permutations: [0,1,2] 7.5, [0,2,1] 12.5, [1,0,2] 17, [1,2,0] 17,
    # [2,0,1] 17, [2,1,0] 3 + 10 - 0.5*2 = 12; their mean is 83/6
    expected = expected_random_cost(*three)
    assert expected == pytest.approx(83 / 6)
    inst = task.scorer.AssignmentInstance(0, *three, expected_cost=expected, reference_cost=7.5)
    assert task.scorer.score(inst, ok([0, 1, 2])) == 1.0
    assert task.scorer.score(inst, ok([2, 0, 1])) == 0.0  # worse than random: clamped
    assert task.scorer.score(inst, ok([2, 1, 0])) == pytest.approx(11 / 38)  # (83/6 - 12) / (83/6 - 7.5)
    assert task.scorer.score(inst, ok(np.array([0, 2, 1]))) == pytest.approx(4 / 19)


def test_instances(task):
    inst = task.make_instance(4321)
    F, D, P = task.arguments(inst)
    assert all(m.shape == (15, 15) and m.dtype == np.float64 for m in (F, D, P))
    assert all(0 <= m.min() and m.max() < 1 for m in (F, D, P))
    assert inst.reference_cost < mqap_cost(F, D, P, range(15)) < inst.expected_cost + 10
    assert inst.reference_cost < inst.expected_cost
    again = task.make_instance(4321)
    assert np.array_equal(again.flow, F) and again.reference_cost == inst.reference_cost


@pytest.mark.parametrize("bad", [
    list(range(14)), list(range(16)), [0] * 15, [0.0 + i for i in range(15)], list(range(1, 16)),
    np.arange(15, dtype=np.float64), [True] * 15, [str(i) for i in range(15)], None, "0123",
    np.arange(15).reshape(3, 5), list(range(14)) + [-1], list(range(14)) + [2 ** 70],
])
def test_non_permutations_score_zero(task, ok, bad):
    assert task.scorer.score(task.make_instance(4321), ok(bad)) == 0.0


def test_failed_calls_score_zero(task, failed):
    inst = task.make_instance(4321)
    assert task.scorer.score(inst, failed(list(range(15)))) == 0.0


def test_random_scores_near_zero(task, ok):
    inst = task.make_instance(4321)
    rng = np.random.default_rng(0)
    scores = [task.scorer.score(inst, ok(rng.permutation(15))) for _ in range(50)]
    assert np.mean(scores) < 0.3
