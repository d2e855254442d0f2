import json

from selftaught.runs.rundir import RunDir
from selftaught.runs.summary import summarize


def test_a_summary_counts_runs_tokens_flags_and_time(tmp_path):
    run = RunDir.create(tmp_path, "self-improve", {})
    j = run.journal
    j.record("improver_run", "a/lpn/0", status="ok", static_flags=["touches_budget"], blocked=None)
    j.record("improver_run", "b/lpn/0", status="blocked", static_flags=["ctypes", "touches_budget"],
             blocked="seccomp: killed by SIGSYS")
    j.record("meta_score", "a@lpn", improver="a", val=0.5, val_std=0.1, test=0.4,
             runs=[{"val": 0.4, "test": 0.3}, {"val": 0.6, "test": 0.5}])
    j.record("iteration", "1", t=1, accepted=False, reason="û = 0", val=0.5, test=0.4, status="ok",
             static_flags=[], blocked=None)
    with run.usage_log.open("w") as f:
        for tokens in (10, 20):
            f.write(json.dumps({"prompt_tokens": tokens, "completion_tokens": 2 * tokens, "n_responses": 3,
                                "n_cached": 3 if tokens == 10 else 1}) + "\n")
    s = summarize(run.path)
    assert (s.lm_calls, s.cached_calls, s.prompt_tokens, s.completion_tokens) == (2, 1, 30, 60)
    # downstream runs, as `runs` and the report count them; the iteration's sandbox telemetry counts too
    assert s.improver_runs == 2 and s.improver_statuses == {"ok": 1, "blocked": 1} and s.blocked == 1
    assert s.flags == {"touches_budget": 2, "ctypes": 1}
    (m,) = s.meta_scores
    assert {k: m[k] for k in ("improver", "label", "tasks", "val", "val_std", "test", "n")} == \
        {"improver": "a", "label": "", "tasks": ["lpn"], "val": 0.5, "val_std": 0.1, "test": 0.4, "n": 2}
    # t(0.975, 1) = 12.706, sd 0.1414, n 2: the interval covers [0, 1] after clipping
    assert m["val_ci"] == [0.0, 1.0] and m["test_ci"] == [0.0, 1.0]
    assert s.iterations[0].t == 1 and 0 <= s.wall_time_s < 60


def test_improvers_are_named_as_the_run_names_them(tmp_path):
    from selftaught.ids import program_id

    run = RunDir.create(tmp_path, "self-improve", {})
    for t, text in enumerate(["seed", "seed", "better"]):  # iteration 1 kept its incumbent
        (run.path / f"improver_{t}.py").write_text(text)
    for text in ("seed", "better", "candidate"):
        run.journal.record("meta_score", f"{program_id(text)}@fibonacci+parity", improver=program_id(text),
                           val=0.5, val_std=0.0, test=0.5, runs=[])
    labels = [m["label"] for m in summarize(run.path).meta_scores]
    assert labels == ["I_0=I_1", "I_2", ""]

    transfer = RunDir.create(tmp_path, "transfer", {"improvers": [["seed_improver", "aa"], ["keep_best", "bb"]]})
    for pid, task in (("aa", "parity"), ("bb", "parity"), ("aa", "mqap")):
        transfer.journal.record("meta_score", f"{pid}@{task}", improver=pid, val=0.5, val_std=0.0, test=0.5, runs=[])
    assert [(m["label"], m["tasks"]) for m in summarize(transfer.path).meta_scores] == [
        ("seed_improver", ["parity"]), ("keep_best", ["parity"]), ("seed_improver", ["mqap"])]


def test_wall_time_counts_the_sittings_not_the_night_between(tmp_path):
    # Stopped after 10 minutes, resumed 8 hours later for 5 more: 15 minutes of work in 2 sittings.
    run = RunDir.create(tmp_path, "self-improve", {})
    start = 1_800_000_000.0
    times = [("improver_run_started", 0), ("improver_run", 600), ("resumed", 600 + 8 * 3600),
             ("improver_run", 600 + 8 * 3600 + 300)]
    with (run.path / "events.jsonl").open("a") as f:
        for kind, at in times:
            f.write(json.dumps({"ts": start + at, "kind": kind, "key": f"a/lpn/{at}"}) + "\n")
    s = summarize(run.path)
    assert s.sittings == 2 and s.wall_time_s == 900
    one = RunDir.create(tmp_path / "one", "self-improve", {})
    assert summarize(one.path).sittings == 1


def test_a_summary_reads_damaged_flags_and_token_counts_as_missing(tmp_path):
    run = RunDir.create(tmp_path, "self-improve", {})
    run.journal.record("improver_run", "a/lpn/0", status="ok", static_flags=None)
    run.journal.record("improver_run", "b/lpn/0", status="ok", static_flags="ctypes")
    run.usage_log.write_text('{"completion_tokens": "12"}\n{"prompt_tokens": 3, "completion_tokens": 4}\n')
    s = summarize(run.path)
    assert (s.flags, s.prompt_tokens, s.completion_tokens, s.improver_runs) == ({}, 3, 4, 2)
