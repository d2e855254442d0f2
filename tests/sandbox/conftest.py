"""Shared fixtures: one sandbox pool per test module keeps the suite fast."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from selftaught.sandbox import SandboxConfig, SandboxPool

SOLVER = '''import itertools
import numpy as np

def algorithm(train_samples, train_parity, test_samples):
    X, y = np.asarray(train_samples), np.asarray(train_parity)
    for k in range(X.shape[1] + 1):
        for subset in itertools.combinations(range(X.shape[1]), k):
            if np.all(X[:, list(subset)].sum(axis=1) % 2 == y):
                return np.asarray(test_samples)[:, list(subset)].sum(axis=1) % 2
    return np.zeros(len(test_samples), dtype=int)
'''


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(SandboxConfig(slots=2)) as shared:
        yield shared


@pytest.fixture
def solver():
    """A program that solves noiseless parity exactly (brute force over subsets)."""
    return SOLVER


@pytest.fixture
def healthy():
    """assert_healthy, as a fixture (test modules here are not a package)."""
    return assert_healthy


def assert_healthy(pool: SandboxPool) -> None:
    """The host survived and the next ordinary evaluation works and scores correctly."""
    from selftaught.tasks.loader import load_task

    task = load_task("parity")
    instance = task.make_instance(4321)
    outcome = pool.call(SOLVER, "algorithm", task.arguments(instance), time_limit_s=2.0)
    assert outcome.status == "ok", outcome
    assert task.score(instance, outcome) == 1.0
    assert pool.call("def f(x):\n    return x * 2\n", "f", [21]).value == 42


@pytest.fixture
def world_readable_dir():
    """A 0755 temporary directory (pytest's tmp_path sits under a 0700 directory)."""
    path = Path(tempfile.mkdtemp(prefix="selftaught-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)
