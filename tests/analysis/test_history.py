import math

import pytest

from selftaught.analysis.history import improve_outcome, seed_scores, self_improvement, transfer_rows
from selftaught.analysis.rundata import load_run, task_seed
from selftaught.ids import program_id
from tests.analysis.factory import C1, C2, C3, S0, evaluation, improver_run, make_run, meta_score, self_improve_run, usage


def test_steps_carry_scores_with_intervals_candidates_and_usage(tmp_path):
    steps = self_improvement(load_run(self_improve_run(tmp_path)))
    assert [(s.t, s.improver, s.parent, s.accepted) for s in steps] == [
        (0, S0, None, True), (1, C1, S0, True), (2, C1, C1, False)]
    seed = steps[0].score.val
    assert (seed.mean, seed.n) == (pytest.approx(0.6), 3)
    assert seed.lo == pytest.approx(0.6 - 4.3027 * 0.1 / math.sqrt(3), abs=1e-4)
    assert [[c.improver for c in s.candidates] for s in steps] == [[], [C1, C2], [C3]]
    assert steps[1].candidates[1].statuses == {"blocked": 3}
    assert [s.usage.calls for s in steps] == [1, 2, 1]
    assert [s.usage.prompt_tokens for s in steps] == [100, 500, 400]
    assert [s.wall_time_s for s in steps] == [22.0, 38.0, 19.0]
    assert steps[2].reason == "û = 0; runs: ok x3"


def test_a_step_s_wall_time_leaves_out_the_time_between_sittings(tmp_path):
    # I_0 scored over two sittings, 10 s and 120 s of work, with the run stopped in between
    runs = [improver_run(110, S0, 0, 0.5, 0.4), improver_run(5110, S0, 1, 0.6, 0.5)]
    events = [{"ts": 100.0, "kind": "improver_run_started", "run": f"{S0}/lpn/0"}, runs[0],
              {"ts": 5000.0, "kind": "resumed", "placement": {}}, runs[1], meta_score(5111, S0, runs)]
    # Step 1 resumed after its improver-of-improvers had run: the iteration journals only the
    # replay's wall time; the step's own window (40 s, then 60 s after the resume) counts.
    events += [{"ts": 5120.0, "kind": "iteration_started", "t": 1, "improver": S0},
               {"ts": 5160.0, "kind": "improver_run", "key": f"{S0}/lpn/2"},
               {"ts": 9000.0, "kind": "resumed", "placement": {}},
               {"ts": 9000.0, "kind": "iteration_started", "t": 1, "improver": S0},
               {"ts": 9060.0, "kind": "iteration", "key": "1", "t": 1, "accepted": False, "reason": "kept",
                "improver": S0, "candidate": S0, "val": 0.5, "test": 0.4, "status": "ok", "wall_time_s": 0.025}]
    steps = self_improvement(load_run(make_run(tmp_path, "r", "self-improve", events)))
    assert [s.wall_time_s for s in steps] == [10.0 + 120.0, 40.0 + 60.0]  # step 0 runs to step 1's start


def test_intervals_written_by_newer_journals_are_used(tmp_path):
    runs = [improver_run(1 + i, "i0", i, 0.5, 0.5) for i in range(2)]
    score = {**meta_score(3, "i0", runs), "val_ci": [0.25, 0.75], "test_ci": {"low": 0.2, "high": 0.8},
             "an_unknown_field": [1, 2]}
    run = make_run(tmp_path, "r", "self-improve", [*runs, score, {"ts": 4, "kind": "a_new_kind"}])
    (step,) = self_improvement(load_run(run))
    assert (step.score.val.lo, step.score.val.hi, step.score.test.lo) == (0.25, 0.75, 0.2)


def test_transfer_rows_get_intervals_from_the_matching_scores(tmp_path):
    a = [improver_run(1 + i, "ia", i, v, v, task="parity") for i, v in enumerate((0.2, 0.4, 0.6))]
    b = [improver_run(5 + i, "ib", i, 0.0, 0.0, task="parity") for i in range(3)]
    ma, mb = meta_score(4, "ia", a, "parity"), meta_score(8, "ib", b, "parity")
    row = {"ts": 9, "kind": "transfer_row", "key": "parity", "seed_program": 0.5,
           "improvers": {"I_0": ma["test"], "I_1": mb["test"]}, "improvers_std": {"I_0": ma["test_std"], "I_1": 0.0}}
    run = make_run(tmp_path, "r", "transfer", [*a, ma, *b, mb, row], [usage(2, 10, 5), usage(6, 20, 5)],
                   settings={"run": {"n_tests": 3}, "tasks": ["parity"]})
    (r,) = transfer_rows(load_run(run))
    assert (r.task, r.seed_program, list(r.cells)) == ("parity", 0.5, ["I_0", "I_1"])
    assert r.cells["I_0"].mean == pytest.approx(0.4)
    assert r.cells["I_0"].hi == pytest.approx(0.4 + 4.3027 * 0.2 / math.sqrt(3), abs=1e-4)
    assert (r.cells["I_1"].lo, r.cells["I_1"].hi) == (0.0, 0.0)
    assert r.usage.calls == 2 and r.usage.prompt_tokens == 30


def test_transfer_usage_follows_each_calls_stream_when_cells_run_in_parallel(tmp_path):
    # All cells run at once, so every call comes before the first row: the stream says whose it was.
    rows = [{"ts": 9 + i, "kind": "transfer_row", "key": task, "seed_program": 0.5, "improvers": {"I_0": 0.0}}
            for i, task in enumerate(("parity", "mqap"))]
    # Streams nest under the sample seed, which may be empty or contain "/"; a resumed run writes
    # its rows again (the last counts).
    calls = [dict(usage(2, 10, 5), stream="mqap/0"), dict(usage(3, 20, 5), stream="seed/parity/0"),
             dict(usage(4, 40, 5), stream="a/b/mqap/1")]
    settings = {"run": {"n_tests": 2}, "tasks": ["parity", "mqap"]}
    run = make_run(tmp_path, "r", "transfer", rows + [dict(rows[0], ts=20)], calls, settings=settings)
    assert [(r.task, r.usage.calls, r.usage.prompt_tokens) for r in transfer_rows(load_run(run))] == [
        ("mqap", 2, 50), ("parity", 1, 20)]
    # A log that mixes calls without a stream (an older run resumed) keeps every call: time windows.
    mixed = make_run(tmp_path, "m", "transfer", rows, calls + [usage(9.5, 80, 5)], settings=settings)
    assert [(r.task, r.usage.calls) for r in transfer_rows(load_run(mixed))] == [("parity", 3), ("mqap", 1)]


def test_an_improve_run_reports_seed_and_result(tmp_path):
    seed = program_id(task_seed("fibonacci"))
    done = improver_run(5, "imp", 0, 0.9, 0.8, kind="improve", task="fibonacci")
    run = make_run(tmp_path, "r", "improve", [evaluation(1, "fibonacci", "val", seed, ["ok"]),
                                              {**evaluation(2, "fibonacci", "test", seed, ["ok"]), "score": 0.25}, done],
                   settings={"task": "fibonacci"})
    data = load_run(run)
    out = improve_outcome(data)
    assert (out.task, out.status, out.val, out.test, out.seed_val, out.seed_test) == ("fibonacci", "ok", 0.9, 0.8, 0.5, 0.25)
    assert seed_scores(data) == {"fibonacci": (0.5, 0.25)}


def test_the_current_journal_format_intervals_paired_differences_and_the_final_comparison(tmp_path):
    from selftaught.analysis.history import final_comparison

    interval = {"mean": 0.4, "lo": 0.1, "hi": 0.7, "n": 5, "confidence": 0.95}
    row = {"ts": 1, "kind": "transfer_row", "key": "mqap", "task": "mqap", "seed_program": 0.8,
           "improvers": {"I_0": 0.3, "I_1": 0.4}, "intervals": {"I_0": {**interval, "mean": 0.3}, "I_1": interval},
           "versus_first": {"I_1": {"mean": 0.1, "lo": -0.2, "hi": 0.4, "n": 5, "confidence": 0.95}}}
    final = {"ts": 2, "kind": "final_comparison", "key": "it", "improver": "it", "seed": "i0", "split": "test",
             "indices": [7, 8], "differences": [0.1, 0.3], "a": {"mean": 0.6, "lo": 0.4, "hi": 0.8, "n": 2},
             "b": {"mean": 0.4, "lo": 0.2, "hi": 0.6, "n": 2}, "difference": {"mean": 0.2, "lo": 0.05, "hi": 0.35, "n": 2},
             "identical": False, "wins": 2, "losses": 0}
    data = load_run(make_run(tmp_path, "r", "transfer", [row, final], settings={"run": {"n_tests": 5}}))
    (r,) = transfer_rows(data)
    assert (r.cells["I_1"].lo, r.cells["I_1"].hi, r.cells["I_1"].n) == (0.1, 0.7, 5)
    assert (r.versus["I_1"].mean, r.versus["I_1"].lo) == (0.1, -0.2) and "I_0" not in r.versus
    f = final_comparison(data)
    assert (f.final.mean, f.first.mean, f.difference.lo, f.difference.n, f.wins, f.losses) == (0.6, 0.4, 0.05, 2, 2, 0)
