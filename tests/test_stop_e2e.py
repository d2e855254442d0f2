"""STOP end to end, replayed from responses recorded from the real embedded model
(tests/cassettes/stop.sqlite, made by tests/cassettes/record.sh) through the same code path:
self-improve (T=1, tiny budgets), transfer, and resume after kill -9 mid-iteration.
Programs really run in the sandbox; only the language model is replayed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

CASSETTES = Path(__file__).parent / "cassettes"
CASSETTE = CASSETTES / "stop.sqlite"
SECRET = CASSETTES / "instance_secret"  # the recorded runs' hidden instances
# Must match tests/cassettes/record.sh.
BUDGET = ["--lm-calls", "1", "--lm-responses", "2", "--utility-budget", "2", "--n-tests", "1",
          "--meta-budget", "2", "--max-tokens", "900", "--sample-seed", "stop-e2e", "--accept", "paper",
          "--workers", "1", "--improver-slots", "2", "--final-runs", "0", "--improver-time-limit", "3000"]
ACCEPT = ["--lm-calls", "1", "--lm-responses", "2", "--utility-budget", "3", "--n-tests", "2", "--meta-budget", "2",
          "--max-tokens", "600", "--sample-seed", "accept-e2e", "--accept", "paired", "--race-first-runs", "2",
          "--race-max-runs", "6", "--final-runs", "2", "--workers", "1", "--improver-slots", "2",
          "--improver-time-limit", "3000"]


def replay_args(tmp: Path, budget: list[str] = BUDGET) -> list[str]:
    cassette = tmp / "cassette.sqlite"
    if not cassette.exists():
        shutil.copy(CASSETTE, cassette)  # replay still opens the file; keep the committed one pristine
    return [*budget, "--backend", "replay", "--cache-path", str(cassette), "--runs-dir", str(tmp / "runs"),
            "--instance-secret", str(SECRET)]


def selftaught(*args: str, **kwargs) -> subprocess.Popen | subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "selftaught", *args]
    env = {**os.environ, "COLUMNS": "160"}
    if kwargs.pop("background", False):
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)


def events(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def self_improve_run(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("stop")
    proc = selftaught("self-improve", "--task", "fibonacci", "-T", "1", *replay_args(tmp))
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run,) = (tmp / "runs").iterdir()
    return run


def test_self_improve_records_every_improver_with_its_meta_utility(self_improve_run):
    run = self_improve_run
    assert (run / "improver_0.py").read_text().startswith("from helpers import extract_code")
    assert (run / "improver_1.py").is_file()
    config = json.loads((run / "config.json").read_text())
    assert config["settings"]["run"]["n_tests"] == 1 and config["settings"]["unsafe_no_sandbox"] is False
    log = events(run)
    (iteration,) = [e for e in log if e["kind"] == "iteration"]
    assert iteration["t"] == 1 and iteration["lm_calls"] == 1
    # What the recorded model did: I_0's one run returned a program that never defines fib
    # (NameError, so û(I_0) = 0), and its one distinct candidate fared the same, so the
    # paper's rule reverted it.
    scored = [e for e in log if e["kind"] == "meta_score"]
    assert [(e["val"], e["test"]) for e in scored] == [(0.0, 0.0), (0.0, 0.0)]
    assert (iteration["accepted"], iteration["reason"]) == (False, "û = 0; runs: ok x1")
    assert (run / "improver_1.py").read_text() == (run / "improver_0.py").read_text()
    runs = [e for e in log if e["kind"] == "improver_run"]
    assert all(e["lm_calls"] <= 1 and e["utility_calls"] <= 2 for e in runs)
    usage = [json.loads(line) for line in (run / "usage.jsonl").read_text().splitlines()]
    assert usage and all(u["n_cached"] == u["n_responses"] for u in usage)  # all replayed


def test_transfer_prints_and_saves_table_1(tmp_path):
    # The improvers of the recorded run: a replayed run may pick the other of two candidates
    # whose timed Fibonacci scores are close, and its parity prompts were never recorded.
    improvers = Path(__file__).parent / "cassettes" / "improvers"
    proc = selftaught("transfer", str(improvers), "--tasks", "parity", *replay_args(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run,) = (tmp_path / "runs").iterdir()
    table = (run / "transfer.md").read_text()
    assert "| task | u(s) | û(I_0) | û(I_1) |" in table and "| parity |" in table
    (row,) = json.loads((run / "transfer.json").read_text())["rows"]
    assert set(row["improvers"]) == {"I_0", "I_1"} and round(row["seed_program"], 3) == 0.488
    # I_1 is I_0 (the recorded iteration was reverted): the same runs, a paired difference of 0
    assert row["improvers"]["I_1"] == row["improvers"]["I_0"] and row["versus_first"]["I_1"]["mean"] == 0.0


def test_transfer_compares_improver_files_and_resumes_without_them(tmp_path):
    # A .py file before a run directory: labelled by its name, it is the reference of the paired
    # differences. It keeps the seed program, so its cell is u(s) and I_0's difference is I_0 - u(s).
    # The run keeps every improver it compares, so a resume no longer needs the sources.
    improvers = Path(__file__).parent / "cassettes" / "improvers"
    mine = tmp_path / "mine.py"
    mine.write_text("def improve_algorithm(initial_solution, utility, language_model):\n    return initial_solution\n")
    proc = selftaught("transfer", str(mine), str(improvers), "--tasks", "parity", *replay_args(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run,) = (tmp_path / "runs").iterdir()
    saved = json.loads((run / "transfer.json").read_text())
    assert saved["labels"] == ["mine", "I_0", "I_1"]
    (row,) = saved["rows"]
    cells, versus = row["improvers"], {k: v["mean"] for k, v in row["versus_first"].items()}
    assert cells["mine"] == row["seed_program"] and round(cells["mine"], 3) == 0.488
    assert cells["I_0"] == cells["I_1"] == 0.0  # the recorded sample's parity program scores 0 on test
    assert versus == {"I_0": pytest.approx(-cells["mine"]), "I_1": pytest.approx(-cells["mine"])}
    # The CLI table shows them too (one run per cell: no interval, the title gives n)
    assert proc.stdout.count(f"vs mine: {versus['I_0']:+.3f}") == 2
    assert sum(e["kind"] == "improver_run" for e in events(run)) == 2  # two distinct improvers, n_tests = 1
    # The key stays in this machine's key store: the run says where, for a resume elsewhere.
    fingerprint = (run / "instance_key.sha256").read_text().strip()
    said = " ".join(proc.stderr.split())  # progress and notices go to stderr
    assert f"keys/{fingerprint}, passed there with --instance-secret FILE" in said
    mine.unlink()
    resumed = selftaught("transfer", "--resume", str(run), *replay_args(tmp_path)[-8:])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert json.loads((run / "transfer.json").read_text()) == saved


def test_transfer_refuses_two_improvers_with_one_label(tmp_path):
    improvers = Path(__file__).parent / "cassettes" / "improvers"
    (tmp_path / "a").mkdir()
    shutil.copy(improvers / "improver_0.py", tmp_path / "a" / "improver_1.py")
    proc = selftaught("transfer", str(improvers / "improver_1.py"), str(tmp_path / "a" / "improver_1.py"),
                      "--tasks", "parity", *replay_args(tmp_path))
    assert proc.returncode != 0 and "both be labelled 'improver_1'" in proc.stderr
    assert not (tmp_path / "runs").exists()


def assert_resumed_without_redoing(run: Path, before: list[dict], tmp: Path) -> None:
    resumed = selftaught("self-improve", "--resume", str(run), *replay_args(tmp)[-8:])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    after = events(run)
    assert after[: len(before)] == before  # nothing lost
    done = Counter(e["key"] for e in after if e["kind"] in ("improver_run", "evaluation", "meta_score"))
    assert all(n == 1 for n in done.values()), done  # nothing finished was redone
    started = Counter(e["run"] for e in after if e["kind"] == "improver_run_started")
    assert all(started[e["key"]] == 1 for e in before if e["kind"] == "improver_run")
    assert [e["t"] for e in after if e["kind"] == "iteration"] == [1]
    assert (run / "improver_1.py").is_file()


def test_a_run_cut_mid_iteration_resumes_without_redoing_anything(self_improve_run, tmp_path):
    """The on-disk state of a kill -9 inside iteration 1, while the candidate's û run was
    running (the journal is fsynced line by line), plus a line torn mid-write."""
    run = tmp_path / "runs" / self_improve_run.name
    shutil.copytree(self_improve_run, run)
    log = events(run)
    start = next(i for i, e in enumerate(log) if e["kind"] == "iteration_started")
    cut = next(i for i, e in enumerate(log) if i > start and e["kind"] == "improver_run")
    assert any(e["kind"] == "improver_run" for e in log[cut:]), "the cut must leave work undone"
    lines = (run / "events.jsonl").read_text().splitlines(keepends=True)
    (run / "events.jsonl").write_text("".join(lines[:cut]) + lines[cut][: len(lines[cut]) // 2])
    for name in ("improver_1.py",):
        (run / name).unlink()
    assert_resumed_without_redoing(run, log[:cut], tmp_path)


def test_a_run_killed_with_sigkill_resumes_without_redoing_anything(tmp_path):
    """A real kill -9 of a running process, after its first improver run finished."""
    proc = selftaught("self-improve", "--task", "fibonacci", "-T", "1", *replay_args(tmp_path), background=True)
    runs = tmp_path / "runs"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        journal = next(runs.glob("*/events.jsonl"), None) if runs.exists() else None
        if journal and '"kind": "improver_run"' in journal.read_text():
            break
        time.sleep(0.02)
    assert proc.poll() is None, f"finished before it could be killed: {proc.stderr.read()[-2000:]}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    run = journal.parent
    assert_resumed_without_redoing(run, events(run), tmp_path)


def test_show_summarises_a_run(self_improve_run):
    proc = selftaught("show", str(self_improve_run))
    assert proc.returncode == 0, proc.stderr
    assert "meta-utility û per improver" in proc.stdout and "iterations" in proc.stdout
    assert "LM calls" in proc.stdout and "prompt" in proc.stdout and "all from the cache" in proc.stdout
    assert "I_0=I_1 (a39fa3da)" in proc.stdout  # the recorded iteration kept its incumbent


@pytest.fixture(scope="module")
def acceptance_run(tmp_path_factory) -> Path:
    """Paired acceptance on parity, replayed: the seed improver proposes a candidate that keeps
    the seed program unless a rewrite beats it (really different), which then proposes one that
    returns its first rewrite unscored. Downstream, all send the seed improver's requests, so
    they are compared on the same recorded samples (common random numbers)."""
    tmp = tmp_path_factory.mktemp("accept")
    proc = selftaught("self-improve", "--task", "parity", "-T", "2", "--seed-improver",
                      str(CASSETTES / "acceptance" / "seed.py"), *replay_args(tmp, ACCEPT))
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run,) = (tmp / "runs").iterdir()
    return run


def test_paired_acceptance_takes_the_really_better_candidate_and_rejects_the_worse(acceptance_run):
    log = events(acceptance_run)
    first, second = [e for e in log if e["kind"] == "iteration"]
    # The recorded model's parity programs all score 0, so the seed improver's û is 0, and the
    # candidate that keeps the seed program (0.505 on val) wins every fresh pair; the sign
    # test passes at 6 pairs (p = 1/64 < 0.05/3).
    assert (first["accepted"], first["reason"]) == (
        True, "accepted: better on 6 fresh pairs, mean difference +0.505 [+0.505, +0.505], 6 wins / 0 losses")
    assert first["evidence"]["look"] == 3 and first["evidence"]["comparison"]["indices"] == [2, 3, 4, 5, 6, 7]
    assert round(first["val"], 3) == 0.505 and round(first["test"], 3) == 0.488
    # Its proposal returns its first rewrite unscored: û = 0, rejected before any race.
    assert (second["accepted"], second["reason"]) == (False, "û = 0; runs: ok x2")
    keep_best = (CASSETTES / "acceptance" / "keep_best.py").read_text()
    assert (acceptance_run / "improver_2.py").read_text() == keep_best


def test_the_final_comparison_is_paired_on_fresh_test_runs(acceptance_run):
    summary = json.loads((acceptance_run / "self_improvement.json").read_text())
    final = summary["final"]
    assert final["indices"] == [8, 9] and final["split"] == "test"  # after the 2 û runs and 6 race runs
    # at index 9 the model wrote a parity program that scores 0.466 on test, so keeping the seed
    # program gained only 0.022 there: two pairs cannot show an improvement at 95%
    assert [round(d, 3) for d in final["differences"]] == [0.488, 0.022] and summary["improved"] is False
    assert (round(final["difference"]["mean"], 3), final["difference"]["n"]) == (0.255, 2)

