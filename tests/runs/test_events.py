"""Typed journal events (runs/events.py): every journal so far reads, the writers' shape is
the readers' shape, and every reader counts improver runs alike."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from selftaught.runs.events import (
    Iteration, MetaScore, downstream_runs, improver_runs, iterations, meta_scores,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "runs"
SELF_IMPROVE = next(FIXTURES.glob("*-self-improve"))


def fixture_events(kind: str) -> list[dict]:
    return [e for run in sorted(FIXTURES.iterdir()) for line in (run / "events.jsonl").read_text().splitlines()
            if (e := json.loads(line))["kind"] == kind]


def test_a_meta_score_reads_every_field_the_writer_journals():
    event = next(e for e in fixture_events("meta_score") if e["key"] == "df0497d3ce5d9518@parity")
    score = MetaScore.from_event(event)
    assert (score.improver, score.key, score.tasks, score.n) == ("df0497d3ce5d9518", "df0497d3ce5d9518@parity",
                                                                 ["parity"], 2)
    assert (score.val, score.test, score.val_std) == (0.485, 0.5075000000000001, 0.012499999999999983)
    assert score.val_ci == (0.32617244079781654, 0.6438275592021834) and score.test_ci[1] == 0.5900903307851371
    assert [(r.index, r.val, r.completion_tokens) for r in score.improver_runs] == [
        (0, 0.49749999999999994, 40), (1, 0.4725, 40)]
    assert score.runs[0]["solution_source"].startswith("import numpy")  # the runs stay whole


def test_a_meta_score_from_an_older_journal_gets_defaults():
    # before intervals: no val_ci, test_ci or n; a hand-written one may lack test_std and the runs too
    old = {"ts": 1.0, "kind": "meta_score", "key": "a@lpn+parity", "improver": "a", "val": 0.5, "val_std": 0.1,
           "test": 0.4}
    score = MetaScore.from_event(old)
    assert (score.val, score.val_std, score.test, score.test_std) == (0.5, 0.1, 0.4, 0.0)
    assert (score.val_ci, score.test_ci, score.n, score.runs, score.tasks) == (None, None, None, (), ["lpn", "parity"])
    bare = MetaScore.from_event({"kind": "meta_score", "runs": [{"val": 1}, "not a run"], "test_ci": {"low": 0.2,
                                                                                                     "high": 0.8}})
    assert (bare.improver, bare.key, bare.tasks, bare.val, bare.test_ci) == ("", "", [], 0.0, (0.2, 0.8))
    assert bare.runs == ({"val": 1},) and bare.improver_runs[0].val == 1.0


def test_an_iteration_reads_every_field_the_writer_journals():
    first, second = iterations(fixture_events("iteration"))
    assert (first.t, first.accepted, first.improver, first.candidate, first.rule) == (
        1, True, "a68b87ce4797758f", "a68b87ce4797758f", "paper")
    assert (second.t, second.accepted, second.candidate, second.val) == (2, False, "39df8a4f79a12d4b", 0.5425)
    assert second.reason == "û = 0; runs: syntax_error x2" and second.val_ci == (0.47896897631912577, 0.6060310236808742)
    assert (second.status, second.lm_calls, second.meta_calls) == ("ok", 1, 2) and second.wall_time_s > 0
    assert (second.static_flags, second.blocked, second.evidence, second.key) == ((), None, {}, "2")


def test_an_iteration_from_an_older_journal_gets_defaults():
    # before intervals, acceptance rules and telemetry: what the first journals held
    old = Iteration.from_event({"ts": 5.0, "kind": "iteration", "key": "1", "t": 1, "accepted": False,
                                "reason": "û = 0", "val": 0.5, "test": 0.4, "improver": "a", "candidate": None})
    assert (old.t, old.accepted, old.reason, old.val, old.test, old.improver, old.candidate) == (
        1, False, "û = 0", 0.5, 0.4, "a", None)
    assert (old.val_ci, old.test_ci, old.status, old.lm_calls, old.meta_calls, old.wall_time_s) == (
        None, None, "", 0, 0, None)
    assert (old.static_flags, old.runtime_events, old.blocked, old.evidence, old.rule) == ((), (), None, {}, None)
    bare = Iteration.from_event({"kind": "iteration", "t": "1", "val": "high", "evidence": None})
    assert (bare.t, bare.val, bare.improver, bare.reason, bare.evidence) == (0, 0.0, "", "", {})


@pytest.mark.parametrize("kind, cls", [("meta_score", MetaScore), ("iteration", Iteration)])
def test_what_the_writer_journals_is_what_the_journal_holds_byte_for_byte(kind, cls):
    """meta.py and loop.py journal `to_event()`: the fixtures' events (written by the code
    before the types) come back with the same keys, in the same order, with the same values."""
    events = fixture_events(kind)
    assert events
    for event in events:
        data = {k: v for k, v in event.items() if k not in ("ts", "kind", "key")}
        assert json.dumps(cls.from_event(event).to_event(), ensure_ascii=True) == json.dumps(data, ensure_ascii=True)


def test_the_helpers_take_their_kind_in_journal_order():
    events = [{"kind": "iteration", "t": 2}, {"kind": "meta_score", "improver": "b"}, {"kind": "improver_run"},
              {"kind": "meta_score", "improver": "a"}, {"kind": "iteration", "t": 1}, {"no": "kind"}]
    assert [s.improver for s in meta_scores(events)] == ["b", "a"]
    assert [it.t for it in iterations(events)] == [2, 1]


def mixed_journal(root: Path) -> Path:
    """A run whose journal holds every kind of sandboxed improver run: downstream runs of both
    kinds (improver_run, improve), an improve run blocked by an older sandbox (status blocked,
    no reason journalled), the runs û averaged again inside a meta_score, and an iteration."""
    from tests.analysis.factory import improver_run, make_run

    runs = [improver_run(10 + i, "aaaa", i, 0.5, 0.4, task="fibonacci") for i in range(2)]
    improve = improver_run(20, "bbbb", 0, 0.0, 0.0, status="blocked", task="fibonacci", solution_source=None,
                           kind="improve")
    events = [{"ts": 9.0, "kind": "improver_run_started", "run": "aaaa/fibonacci/0"}, *runs,
              {"ts": 12.0, "kind": "meta_score", "key": "aaaa@fibonacci", "improver": "aaaa", "val": 0.5,
               "val_std": 0.0, "test": 0.4, "test_std": 0.0, "val_ci": [0.5, 0.5], "test_ci": [0.4, 0.4], "n": 2,
               "runs": runs},
              {"ts": 13.0, "kind": "iteration_started", "t": 1, "improver": "aaaa"},
              {"ts": 14.0, "kind": "iteration", "key": "1", "t": 1, "accepted": False, "reason": "û = 0",
               "val": 0.5, "test": 0.4, "improver": "aaaa", "candidate": None, "status": "blocked",
               "static_flags": [], "blocked": "seccomp: killed by SIGSYS"},
              {**improve, "blocked": None}]
    return make_run(root, "20261124-100000-improve", "improve", events, settings={"task": "fibonacci"})


def test_show_the_report_and_the_progress_bar_count_the_same_improver_runs(tmp_path):
    from selftaught.analysis.analyze import analyze
    from selftaught.analysis.rundata import load_run
    from selftaught.runs.journal import Journal
    from selftaught.runs.summary import summarize

    run = mixed_journal(tmp_path)
    downstream, iteration_runs = 3, 1  # two improver_run events and one improve; the meta_score's copies are not runs
    summary, analysis = summarize(run), analyze(run)
    assert summary.improver_runs == downstream and sum(summary.improver_statuses.values()) == downstream
    assert summary.improver_statuses == {"ok": 2, "blocked": 1}
    assert len(improver_runs(load_run(run).events)) == downstream  # the report's readers (rundata)
    assert len(downstream_runs(Journal(run / "events.jsonl").events())) == downstream  # the progress bar's count
    # the report's lineage: a node per downstream run under the task's seed program
    assert sum(1 for n in analysis.lineage.nodes if n.role != "seed") == downstream
    # the safety telemetry counts attempts: downstream runs and the iteration's own run
    assert analysis.safety.attempts == downstream + iteration_runs
    # ...and `show` counts the blocked ones as it does: the iteration and the improve run
    assert summary.blocked == analysis.safety.blocked.k == 2
    assert analysis.entry.status == "finished"  # `runs`: the improve event finished it


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir()))
def test_a_recorded_run_counts_alike_everywhere(tmp_path, name):
    from selftaught.analysis.analyze import analyze
    from selftaught.analysis.rundata import load_run
    from selftaught.runs.journal import Journal
    from selftaught.runs.summary import summarize

    run = shutil.copytree(FIXTURES / name, tmp_path / name)  # a Journal may repair what it opens
    events = load_run(run).events
    counted = {"show": summarize(run).improver_runs, "report": len(improver_runs(events)),
               "progress": len(downstream_runs(Journal(run / "events.jsonl").events()))}
    assert set(counted.values()) == {sum(e["kind"] in ("improver_run", "improve") for e in events)}, counted
    assert analyze(run).safety.attempts == counted["show"] + len(iterations(events))


def test_show_prints_the_count(tmp_path):
    run = mixed_journal(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "selftaught", "show", str(run)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    row = next(line for line in proc.stdout.splitlines() if "improver runs" in line)
    assert "3: ok 2, blocked 1" in row
    assert any("blocked by the sandbox" in line and " 2 " in line for line in proc.stdout.splitlines())


def test_fields_of_the_wrong_shape_read_as_missing():
    """A damaged journal (hand-edited, or written by a version with other fields) never crashes a reader."""
    score = MetaScore.from_event({"kind": "meta_score", "improver": "a", "val": float("inf"), "n": float("nan"),
                                  "runs": True})
    assert (score.val, score.n, score.runs) == (0.0, None, ())
    assert MetaScore.from_event({"kind": "meta_score", "val": 10 ** 400, "n": 10 ** 400}).n is None
    it = Iteration.from_event({"kind": "iteration", "t": float("inf"), "wall_time_s": float("nan"),
                               "static_flags": None, "runtime_events": 3})
    assert (it.t, it.wall_time_s, it.static_flags, it.runtime_events) == (0, None, (), ())
