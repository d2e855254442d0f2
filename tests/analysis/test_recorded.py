"""The analyses on the synthetic runs in tests/fixtures/runs (made by tests/fixtures/make_runs.py
with a scripted model, through the public API): exact numbers, so that a change in what the
analyses compute shows. Regenerating the fixture changes them; say why in the commit."""

import json
from pathlib import Path

import pytest

from selftaught.analysis import analyze, list_runs
from selftaught.analysis.stats import wilson

RUNS = Path(__file__).parents[1] / "fixtures" / "runs"
SELF_IMPROVE = next(RUNS.glob("*-self-improve"))
TRANSFER = next(RUNS.glob("*-transfer"))


def test_the_self_improve_run():
    a = analyze(SELF_IMPROVE)
    assert [(s.t, s.improver[:8], len(s.candidates), s.usage.calls) for s in a.steps] == [
        (0, "a39fa3da", 0, 2), (1, "a68b87ce", 2, 5), (2, "a68b87ce", 2, 5)]
    assert [round(s.score.val.mean, 4) for s in a.steps] == [0.5425, 0.5425, 0.5425]
    assert a.best_improver.startswith("a68b87ce")
    assert a.safety.attempts == 14 and a.safety.budget == wilson(2, 14) and a.safety.sandbox.k == 0
    assert a.safety.flags == {"unparsable": 2, "constructs_language_model": 2}
    assert [i.label for i in a.improvers][:2] == ["I_0", "I_1"]
    assert any("keeps_incumbent" in i.strategies.labels for i in a.improvers)


def test_the_transfer_run_agrees_with_its_table():
    a = analyze(TRANSFER)
    table = json.loads((TRANSFER / "transfer.json").read_text())["rows"]
    assert [r.task for r in a.transfer] == [row["task"] for row in table]
    for row, expected in zip(a.transfer, table):
        assert row.seed_program == expected["seed_program"]
        assert {k: v.mean for k, v in row.cells.items()} == expected["improvers"]
    assert sum(r.usage.calls for r in a.transfer) == 8
    assert [i.label for i in a.improvers] == ["I_0", "I_1=I_2"]


def test_the_listing(tmp_path):
    import shutil

    for run in (SELF_IMPROVE, TRANSFER):
        shutil.copytree(run, tmp_path / run.name)
    entries = list_runs(tmp_path).entries
    assert [(e.kind, e.status) for e in entries] == [("self-improve", "finished"), ("transfer", "finished")]
    rows = json.loads((TRANSFER / "transfer.json").read_text())["rows"]
    assert entries[1].best == pytest.approx(sum(r["improvers"]["I_0"] for r in rows) / len(rows))


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
