"""experiments/fallback_lever.py reads the lever runs into the paired table of RESULTS.md; the
numbers asserted here are the ones RESULTS.md reports. The runs are the experiment's own, trimmed
to what the script reads (config.json and the improver runs' scores: tests/fixtures/lever)."""

from pathlib import Path

import pytest

from .scripts import load_script

ROOT = Path(__file__).resolve().parent.parent
LEVER = ROOT / "tests" / "fixtures" / "lever"
MULTI_1 = LEVER / "20261128-175006-transfer"  # keep_best vs I_0 on multi-1's streams


@pytest.fixture(scope="module")
def lever():
    return load_script("experiments/fallback_lever.py", "fallback_lever")


def test_pairs_are_keep_best_minus_the_seed_improver_on_the_same_runs(lever):
    d = lever.paired(MULTI_1, "test")
    assert len(d) == 12  # 3 tasks x I_0's 4 run indices in multi-1 (û's 2 and the race's 2)
    assert (sum(x > 1e-9 for x in d), sum(x < -1e-9 for x in d)) == (7, 0)
    assert sum(d) / len(d) == pytest.approx(0.232, abs=5e-4)


def test_the_row_pools_tasks_with_interval_counts_and_sign_test(lever):
    assert lever.row("multi-1", MULTI_1) == (
        "| multi-1 | 20261128-175006-transfer | 12 | +0.232 [+0.080, +0.384], 7/0/5, p = 0.00781 "
        "| +0.237 [+0.088, +0.386], 7/0/5, p = 0.00781 |")


def test_a_run_index_counts_only_when_i0_finished_it_on_every_task(lever):
    multi_1 = LEVER / "20261128-091728-self-improve"
    assert lever.indices_of_i0(multi_1) == 4


def test_the_held_out_row_counts_val_test_disagreements_as_losses(lever):
    # The shared transfer's five held-out tasks: 3 pairs where a sample beat the seed program on
    # test but not on val, so keep_best kept the seed (losses on test, wins on val).
    shared = LEVER / "20261128-215350-transfer"
    assert lever.row("seed-improver-transfer", shared) == (
        "| seed-improver-transfer | 20261128-215350-transfer | 25 | +0.274 [+0.142, +0.405], 16/3/6, "
        "p = 0.00221 | +0.286 [+0.155, +0.417], 19/0/6, p = 1.91e-06 |")
