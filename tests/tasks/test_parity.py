import numpy as np
import pytest

from selftaught.tasks.library.validate import binary_vector
from selftaught.tasks.loader import load_task


@pytest.fixture(scope="module")
def task():
    return load_task("parity")


def solve_gf2(train_samples, train_parity, test_samples):
    """Gaussian elimination over GF(2): an exact solver, so the utility has headroom to 1."""
    A = np.concatenate([train_samples, train_parity[:, None]], axis=1) % 2
    row, pivots = 0, []
    for col in range(A.shape[1] - 1):
        hits = np.nonzero(A[row:, col])[0]
        if len(hits) == 0:
            continue
        A[[row, row + hits[0]]] = A[[row + hits[0], row]]
        others = A[:, col].astype(bool)
        others[row] = False
        A[others] ^= A[row]
        pivots.append(col)
        row += 1
    weights = np.zeros(A.shape[1] - 1, dtype=np.int64)
    for i, col in enumerate(pivots):
        weights[col] = A[i, -1]
    return test_samples @ weights % 2


def test_metadata(task, arity):
    assert (task.name, task.entry_point, task.time_limit_s) == ("parity", "algorithm", 2.0)
    assert (task.split("val").seed, task.split("val").instances) == (4321, 20)
    assert (task.split("test").seed, task.split("test").instances) == (5678, 50)
    assert arity(task) == 3
    assert "(100, 10)" in task.utility_text and "2 seconds" in task.utility_text


def test_instance_shapes_and_labels(task):
    inst = task.make_instance(4321)
    train, labels, test = task.arguments(inst)
    assert train.shape == (100, 10) and labels.shape == (100,) and test.shape == (20, 10)
    assert set(np.unique(train)) <= {0, 1}
    # noiseless: every train label is the parity of the subset's bits
    assert np.array_equal(labels, train[:, inst.subset].sum(axis=1) % 2)
    assert np.array_equal(inst.test_parity, test[:, inst.subset].sum(axis=1) % 2)


def test_instances_are_deterministic_per_seed(task):
    a, b, c = task.make_instance(7), task.make_instance(7), task.make_instance(8)
    assert all(np.array_equal(x, y) for x, y in zip(task.arguments(a), task.arguments(b)))
    assert not np.array_equal(a.train_samples, c.train_samples)


def test_accuracy(task, ok):
    inst = task.make_instance(4321)
    truth = inst.test_parity
    assert task.scorer.score(inst, ok(truth)) == 1.0
    assert task.scorer.score(inst, ok(1 - truth)) == 0.0
    half = truth.copy()
    half[:10] = 1 - half[:10]
    assert task.scorer.score(inst, ok(half.tolist())) == 0.5
    assert task.scorer.score(inst, ok([bool(v) for v in truth])) == 1.0
    assert task.scorer.score(inst, ok(truth.astype(np.float64))) == 1.0


@pytest.mark.parametrize("bad", [
    np.zeros((20, 1)), np.zeros(21), np.zeros(19), np.zeros((2, 20)), np.zeros(0),
    [[0]] * 20, [0] * 19 + [np.nan], [0] * 19 + [np.inf], [0] * 19 + [2], [0] * 19 + [-1],
    [0] * 19 + [0.5], ["0"] * 20, [None] * 20, "0" * 20, None, 0, 1.0, {"0": 0},
    np.array(["0"] * 20),
])
def test_malformed_predictions_score_zero(task, ok, bad):
    inst = task.make_instance(4321)
    assert task.scorer.score(inst, ok(bad)) == 0.0


def test_failed_calls_score_zero(task, failed):
    inst = task.make_instance(4321)
    assert task.scorer.score(inst, failed(inst.test_parity)) == 0.0


def test_exact_solver_scores_one_on_val(task, ok):
    for seed in task.split("val").seeds():
        inst = task.make_instance(seed)
        assert task.score(inst, ok(solve_gf2(*task.arguments(inst)))) == 1.0


def test_binary_vector_never_reshapes():
    assert binary_vector(np.zeros((1, 20)), 20) is None
    assert binary_vector((0, 1), 2).tolist() == [0, 1]
    assert binary_vector([True, False], 2).tolist() == [1, 0]
