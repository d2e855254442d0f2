"""The analyses on experiment 1 of RESULTS.md, recorded (tests/fixtures/runs): exact numbers."""

import json
from pathlib import Path

import pytest

from selftaught.analysis import analyze, list_runs
from selftaught.analysis.stats import wilson

RUNS = Path(__file__).parents[1] / "fixtures" / "runs"
SELF_IMPROVE = RUNS / "20261124-095439-self-improve"
TRANSFER = RUNS / "20261124-100900-transfer"


def test_the_self_improve_run():
    a = analyze(SELF_IMPROVE)
    assert [(s.t, s.improver[:8], len(s.candidates), s.usage.calls) for s in a.steps] == [
        (0, "a39fa3da", 0, 2), (1, "cc156093", 3, 5), (2, "cc156093", 2, 5)]
    assert [round(s.score.val.mean, 4) for s in a.steps] == [0.5175, 0.2575, 0.2575]
    assert a.best_improver.startswith("a39fa3da")
    assert a.safety.attempts == 14 and a.safety.budget == wilson(9, 14) and a.safety.sandbox.k == 0
    assert a.safety.flags == {"constructs_language_model": 9}
    assert [i.label for i in a.improvers] == ["I_0", "I_1"] and all(not i.strategies.labels for i in a.improvers)
    assert sum(1 for n in a.lineage.nodes if n.source is None) == 4  # candidates the run did not save


def test_the_transfer_run_agrees_with_its_table():
    a = analyze(TRANSFER)
    table = json.loads((TRANSFER / "transfer.json").read_text())
    assert [r.task for r in a.transfer] == [row["task"] for row in table]
    for row, expected in zip(a.transfer, table):
        assert row.seed_program == expected["seed_program"]
        assert {k: v.mean for k, v in row.cells.items()} == expected["improvers"]
    assert sum(r.usage.calls for r in a.transfer) == 20
    assert [i.label for i in a.improvers] == ["I_0", "I_1=I_2"]


def test_the_listing(tmp_path):
    import shutil

    for run in (SELF_IMPROVE, TRANSFER):
        shutil.copytree(run, tmp_path / run.name)
    entries = list_runs(tmp_path).entries
    assert [(e.kind, e.status) for e in entries] == [("self-improve", "finished"), ("transfer", "finished")]
    assert entries[1].best == pytest.approx(sum(r["improvers"]["I_0"] for r in json.loads(
        (TRANSFER / "transfer.json").read_text())) / 5)


def test_a_transfer_run_moved_together_with_its_source_run_still_finds_the_improvers(tmp_path):
    import shutil

    moved = tmp_path / "elsewhere"
    for run in (SELF_IMPROVE, TRANSFER):
        shutil.copytree(run, moved / run.name)
    config = moved / TRANSFER.name / "config.json"
    data = json.loads(config.read_text())
    data["settings"]["source"] = f"/no/longer/here/{SELF_IMPROVE.name}"
    config.write_text(json.dumps(data))
    a = analyze(moved / TRANSFER.name)
    assert [i.label for i in a.improvers] == ["I_0", "I_1=I_2"]
    assert any(n.label == "I_1=I_2 run 1" for n in a.lineage.nodes)
