import numpy as np
import pytest

from selftaught.tasks.loader import load_task


@pytest.fixture(scope="module")
def task():
    return load_task("lpn")


def best_subset(train_samples, train_parity, test_samples):
    """Exhaustive search over all 2^10 subsets for the fewest train errors (noise-robust)."""
    masks = (np.arange(1 << 10)[:, None] >> np.arange(10)) & 1
    errors = ((masks @ train_samples.T) % 2 != train_parity).sum(axis=1)
    return test_samples @ masks[int(np.argmin(errors))] % 2


def test_metadata(task, arity):
    assert (task.name, task.entry_point, task.time_limit_s) == ("lpn", "algorithm", 2.0)
    assert (task.split("val").seed, task.split("val").instances) == (4321, 20)
    assert (task.split("test").seed, task.split("test").instances) == (5678, 50)
    assert arity(task) == 3
    assert "0.05" in task.utility_text and "2 seconds" in task.utility_text


def test_instance_shapes(task):
    train, labels, test = task.arguments(task.make_instance(4321))
    assert train.shape == (100, 10) and labels.shape == (100,) and test.shape == (20, 10)
    assert set(np.unique(labels)) <= {0, 1}


def test_train_labels_are_noisy_test_labels_are_not(task):
    flipped = []
    for seed in range(4321, 4341):
        inst = task.make_instance(seed)
        clean = inst.train_samples[:, inst.subset].sum(axis=1) % 2
        flipped.append(np.mean(inst.train_parity != clean))
        assert np.array_equal(inst.test_parity, inst.test_samples[:, inst.subset].sum(axis=1) % 2)
    assert 0.02 < np.mean(flipped) < 0.08  # 5% noise over 2000 labels


def test_shares_samples_with_parity_per_seed(task):
    noiseless = load_task("parity").make_instance(4321)
    noisy = task.make_instance(4321)
    assert np.array_equal(noisy.train_samples, noiseless.train_samples)
    assert np.array_equal(noisy.subset, noiseless.subset)


def test_instances_are_deterministic_per_seed(task):
    a, b = task.make_instance(99), task.make_instance(99)
    assert all(np.array_equal(x, y) for x, y in zip(task.arguments(a), task.arguments(b)))


def test_scored_on_noiseless_test_labels(task, ok):
    inst = task.make_instance(4321)
    assert task.scorer.score(inst, ok(inst.test_parity)) == 1.0
    wrong = inst.test_parity.copy()
    wrong[:5] = 1 - wrong[:5]
    assert task.scorer.score(inst, ok(wrong)) == 0.75


@pytest.mark.parametrize("bad", [
    np.zeros(1000), np.zeros((20, 1)), [0] * 19 + [np.nan], [0] * 19 + [np.inf],
    [0] * 20 + [1], [2] * 20, "01" * 10, None, [[0, 1]] * 10,
])
def test_malformed_predictions_score_zero(task, ok, bad):
    # the paper's >1000% "accuracy" came from a predictions shape nobody checked
    assert task.scorer.score(task.make_instance(4321), ok(bad)) == 0.0


def test_failed_calls_score_zero(task, failed):
    inst = task.make_instance(4321)
    assert task.scorer.score(inst, failed(inst.test_parity)) == 0.0


def test_noise_robust_solver_scores_well_on_val(task, ok):
    scores = [task.score(inst, ok(best_subset(*task.arguments(inst))))
              for inst in map(task.make_instance, task.split("val").seeds())]
    assert np.mean(scores) > 0.95
