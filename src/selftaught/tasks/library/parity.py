"""Learning parity (with or without label noise): instances and scoring, shared by the
`parity` and `lpn` tasks.

A secret subset of the bits (each bit in it with probability 0.3) defines the label of a
sample: the parity (sum mod 2) of its bits in the subset. The program gets labelled train
samples and unlabelled test samples; it is scored on the test labels, which are always
noiseless and never leave the host. With noise, each train label is flipped
independently with probability `noise_rate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from selftaught.tasks.library.validate import binary_vector

N_BITS = 10
N_TRAIN = 100
N_TEST = 20
P_IN_SUBSET = 0.3


@dataclass(frozen=True)
class ParityInstance:
    seed: int
    subset: np.ndarray  # hidden: bool (n_bits,)
    train_samples: np.ndarray  # int64 (n_train, n_bits) of 0/1
    train_parity: np.ndarray  # int64 (n_train,), noisy when noise_rate > 0
    test_samples: np.ndarray  # int64 (n_test, n_bits)
    test_parity: np.ndarray  # hidden: int64 (n_test,), noiseless


def make_parity_instance(seed: int, noise_rate: float = 0.0) -> ParityInstance:
    rng = np.random.default_rng(seed)
    subset = rng.random(N_BITS) < P_IN_SUBSET
    train = rng.integers(0, 2, size=(N_TRAIN, N_BITS), dtype=np.int64)
    test = rng.integers(0, 2, size=(N_TEST, N_BITS), dtype=np.int64)
    train_parity = train[:, subset].sum(axis=1) % 2
    # Drawn after the samples, so the noiseless and noisy tasks share samples per seed.
    flips = (rng.random(N_TRAIN) < noise_rate).astype(np.int64)
    return ParityInstance(seed, subset, train, (train_parity + flips) % 2, test,
                          test[:, subset].sum(axis=1) % 2)


def parity_arguments(instance: ParityInstance) -> list:
    return [instance.train_samples, instance.train_parity, instance.test_samples]


def score_predictions(instance: ParityInstance, outcome: Any) -> float:
    """Test accuracy; 0 unless the call succeeded and returned exactly n_test bits."""
    if not outcome.ok:
        return 0.0
    predictions = binary_vector(outcome.value, N_TEST)
    if predictions is None:
        return 0.0
    return float(np.mean(predictions == instance.test_parity))
