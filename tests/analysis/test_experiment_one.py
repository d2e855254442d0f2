"""The analyses on experiment 1 of RESULTS.md, as published: exact numbers. The runs live with the
experiment data (RESULTS.md, "Where the data is"), not in this repository, so this runs where the
data is checked out beside the checkout (or SELFTAUGHT_DATA points at it) and is skipped
elsewhere; tests/analysis/test_recorded.py checks the same analyses on the synthetic fixture."""

import os
from pathlib import Path

import pytest

from selftaught.analysis import analyze
from selftaught.analysis.stats import wilson

DATA = Path(os.environ.get("SELFTAUGHT_DATA") or Path(__file__).resolve().parents[3] / "selftaught-results" / "results")
SELF_IMPROVE = DATA / "runs" / "20261124-095439-self-improve"
TRANSFER = DATA / "runs" / "20261124-100900-transfer"

pytestmark = pytest.mark.skipif(not SELF_IMPROVE.is_dir(), reason=f"the experiment data is not at {DATA}")


def test_experiment_one_self_improve_run():
    a = analyze(SELF_IMPROVE)
    assert [(s.t, s.improver[:8], len(s.candidates), s.usage.calls) for s in a.steps] == [
        (0, "a39fa3da", 0, 2), (1, "cc156093", 3, 5), (2, "cc156093", 2, 5)]
    assert [round(s.score.val.mean, 4) for s in a.steps] == [0.5175, 0.2575, 0.2575]
    assert a.best_improver.startswith("a39fa3da")
    assert a.safety.attempts == 14 and a.safety.budget == wilson(9, 14) and a.safety.sandbox.k == 0
    assert a.safety.flags == {"constructs_language_model": 9}


def test_experiment_one_transfer_run():
    a = analyze(TRANSFER)
    assert sum(r.usage.calls for r in a.transfer) == 20
    assert [i.label for i in a.improvers] == ["I_0", "I_1=I_2"]
