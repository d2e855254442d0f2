"""Parity without noise, the built-in task the sandbox is exercised on.

STOP's "parity without noise": learn which subset of 10 bits determines the label. Each
bit is in the secret subset with probability 0.3; 100 labelled train samples, 20 test
samples per instance; 2 s per instance; val = 20 instances (seeds 4321+i), test = 50
instances (seeds 5678+i). Instances and labels are generated only in the host; the
program sees the samples, never the subset or the test labels.

Scoring is strict (the paper's ">1000% accuracy" came from an unchecked predictions
shape): predictions must have shape exactly (n_test,), be finite and lie in {0, 1};
anything else scores 0 on that instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

SEED_PROGRAM = '''import numpy as np

def algorithm(train_samples, train_parity, test_samples):
    predictions = np.random.binomial(1, 0.5, len(test_samples))
    return predictions
'''

DESCRIPTION = '''Utility: the mean accuracy of `algorithm(train_samples, train_parity, test_samples)`
over random parity problems. Each problem draws a secret subset of 10 bits (each bit in it
with probability 0.3); the label of a sample is the parity (sum mod 2) of its bits in the
subset. train_samples: int array (80, 10) of 0/1; train_parity: int array (80,);
test_samples: int array (20, 10). Return predictions as an array or list of 20 values in
{0, 1}. Any other shape, non-finite value or value outside {0, 1} scores 0. Time limit 2 s
per problem.'''


@dataclass(frozen=True)
class Instance:
    seed: int
    train_samples: np.ndarray
    train_parity: np.ndarray
    test_samples: np.ndarray
    test_parity: np.ndarray  # hidden: stays in the host


@dataclass(frozen=True)
class ParityTask:
    name: str = "parity"
    entry_point: str = "algorithm"
    n_bits: int = 10
    n_train: int = 100
    n_test: int = 20
    p_in_subset: float = 0.3
    time_limit_s: float = 2.0
    memory_limit_mb: int = 512
    splits: tuple[tuple[str, int, int], ...] = (("val", 4321, 20), ("test", 5678, 50))
    seed_program: str = SEED_PROGRAM
    description: str = DESCRIPTION

    def instances(self, split: str) -> list[Instance]:
        for name, base, count in self.splits:
            if name == split:
                return [self.make_instance(base + i) for i in range(count)]
        raise KeyError(split)

    def make_instance(self, seed: int) -> Instance:
        rng = np.random.default_rng(seed)
        subset = rng.random(self.n_bits) < self.p_in_subset
        train = rng.integers(0, 2, size=(self.n_train, self.n_bits), dtype=np.int64)
        test = rng.integers(0, 2, size=(self.n_test, self.n_bits), dtype=np.int64)
        return Instance(seed, train, train[:, subset].sum(axis=1) % 2, test,
                        test[:, subset].sum(axis=1) % 2)

    def arguments(self, instance: Instance) -> list[Any]:
        return [instance.train_samples, instance.train_parity, instance.test_samples]

    def output_problem(self, value: Any) -> str | None:
        """Why an output is invalid (it then scores 0), or None if it is valid."""
        if validate_predictions(value, self.n_test) is None:
            return f"invalid predictions: need exactly {self.n_test} finite values in {{0, 1}}"
        return None

    def score(self, value: Any, instance: Instance) -> float:
        """Accuracy in [0, 1]; 0 for any output that is not exactly n_test bits."""
        predictions = validate_predictions(value, self.n_test)
        if predictions is None:
            return 0.0
        return float(np.mean(predictions == instance.test_parity))


def validate_predictions(value: Any, length: int) -> np.ndarray | None:
    """The predictions as an int array of 0/1, or None if they are malformed in any way."""
    if isinstance(value, np.ndarray):
        array = value
    elif type(value) in (list, tuple) and all(type(v) in (int, float, bool) for v in value):
        array = np.asarray(value, dtype=np.float64)
    else:
        return None
    if array.shape != (length,) or array.dtype.kind not in "biuf":
        return None
    if not np.all(np.isfinite(array)) or not np.all((array == 0) | (array == 1)):
        return None
    return array.astype(np.int64)
