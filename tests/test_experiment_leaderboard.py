"""experiments/leaderboard.py's report (experiment 3): the last stage's table, the arms that
stopped at look 1 with their stage-1 numbers, u(s), and how far an unfinished stage is."""

from __future__ import annotations

from pathlib import Path

import pytest

from .analysis.factory import SETTINGS, improver_run, make_run
from .scripts import load_script


@pytest.fixture(scope="module")
def experiment():
    return load_script("experiments/leaderboard.py", "leaderboard_experiment")


def stage(root: Path, name: str, n_tests: int, scores: dict[str, list[float]], finished: bool,
          registered: tuple[str, ...] = (), seed_known: bool = True) -> Path:
    """A transfer run of the leaderboard's sample seed on parity: each label's test scores by run
    index; `registered`: arms the command named that have no runs; u(s) on parity is 0.5."""
    ids = {label: f"{i:016x}" for i, label in enumerate([*scores, *registered])}
    events = [improver_run(1.0 + i, ids[label], i, test, test, task="parity")
              for label, tests in scores.items() for i, test in enumerate(tests)]
    if seed_known:
        events.append({"ts": 9.0, "kind": "transfer_row", "key": "parity", "seed_program": 0.5, "improvers": {}})
    settings = {**SETTINGS, "run": {**SETTINGS["run"], "n_tests": n_tests, "sample_seed": "leaderboard"},
                "improvers": [[label, pid] for label, pid in ids.items()], "tasks": ["parity", "max_cut"]}
    return make_run(root, name, "transfer", events, settings=settings,
                    files={"transfer.json": "{}"} if finished else None)


def test_stage_two_unfinished_with_the_stopped_arms(experiment, tmp_path, monkeypatch):
    monkeypatch.setattr(experiment, "ENDED", {})  # unfinished, not ended
    runs = tmp_path / "runs"
    stage(runs, "20261203-040514-transfer", 2,
          {"paper": [0.2, 0.3], "keep_best": [0.5, 0.5], "beam": [0.1, 0.2]}, finished=True)
    stage(runs, "20261203-113219-transfer", 4, {"paper": [0.2, 0.3, 0.4], "keep_best": [0.5, 0.5, 0.6]},
          finished=False)
    text = experiment.report(tmp_path)
    assert "Run `20261203-113219-transfer`" in text
    assert "| keep_best | 3 | +0.233" in text  # stage 2's pairs
    assert "| beam (stopped at look 1; stage 1) | 2 | -0.100" in text  # its stage-1 pairs
    assert "| keep_best | +0.233 [" in text  # per task, with its interval
    assert "| beam (stopped at look 1; stage 1) | -0.100 (2 equal values) |" in text  # no zero-width interval
    assert "| paper | 3 | reference | - | 0/3 · 0.0% (CI 0.0-56.1%) |" in text  # never worse, with its Wilson interval
    assert "u(s) on test: parity 0.500" in text
    # 2 improvers x 2 tasks x 4 runs registered; 6 journalled
    assert "Stage 2 unfinished: 6 of 16 improver runs journalled" in text and "provisional" in text


def test_stage_one_alone_says_the_decision_waits(experiment, tmp_path):
    stage(tmp_path / "runs", "20261203-040514-transfer", 2, {"paper": [0.2, 0.3], "keep_best": [0.5, 0.5]},
          finished=False)
    text = experiment.report(tmp_path)
    assert "Stage 1 only" in text and "stopped at look 1" not in text


def test_a_stage_that_ended_short_is_final_only_where_its_missing_runs_cannot_matter(experiment, tmp_path,
                                                                                       monkeypatch):
    """u(s) on parity is 0.5. keep_best's mean on parity, a task it finished, is below it: no
    missing run can make keep_best the winner, so the ended stage's decision is final."""
    runs = tmp_path / "runs"
    name = "20261203-113219-transfer"
    monkeypatch.setattr(experiment, "ENDED", {name: "its key was lost"})
    stage(runs, name, 4, {"paper": [0.6] * 4, "keep_best": [0.4] * 4}, finished=False)
    assert experiment.unsettled(experiment.standings_of(runs / name), 4, ["paper", "keep_best"]) == []
    assert experiment.final_decision(runs) is None  # nothing won: paper stays
    text = experiment.report(tmp_path)
    assert "Stage 2 ended at 8 of 16 improver runs: its key was lost." in text and "is final" in text


def test_a_stage_that_ended_short_is_not_final_where_an_arm_could_still_win(experiment, tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    name = "20261203-113219-transfer"
    monkeypatch.setattr(experiment, "ENDED", {name: "its key was lost"})
    # keep_best is above u(s) on the one task it ran, with a run to go there: not settled
    stage(runs, name, 4, {"paper": [0.2] * 4, "keep_best": [0.7, 0.8, 0.7]}, finished=False)
    with pytest.raises(SystemExit, match="could still change the decision for: keep_best"):
        experiment.final_decision(runs)
    assert "is not final: the missing runs could change it for keep_best" in experiment.report(tmp_path)


def test_an_unfinished_stage_that_did_not_end_has_no_final_decision(experiment, tmp_path, monkeypatch):
    monkeypatch.setattr(experiment, "ENDED", {})
    runs = tmp_path / "runs"
    stage(runs, "20261203-113219-transfer", 4, {"paper": [0.6] * 4, "keep_best": [0.4] * 4}, finished=False)
    with pytest.raises(SystemExit, match="resume it with"):
        experiment.final_decision(runs)
    with pytest.raises(SystemExit, match="stage 2 has not started"):
        experiment.final_decision(tmp_path / "elsewhere")


@pytest.mark.parametrize(("scores", "registered", "seed_known", "open_"), [
    # below u(s) only on parity, which it has not finished: a last run of 1.0 would lift it
    ({"paper": [0.6] * 4, "keep_best": [0.4] * 3}, (), True, ["keep_best"]),
    # the reference lacks a run: keep_best's pairs on parity are short, so parity is not finished
    ({"paper": [0.6] * 3, "keep_best": [0.4] * 4}, (), True, ["keep_best"]),
    # u(s) on parity was never journalled: nothing rules keep_best out yet
    ({"paper": [0.6] * 4, "keep_best": [0.4] * 4}, (), False, ["keep_best"]),
    # a registered arm without a single run could still win
    ({"paper": [0.6] * 4, "keep_best": [0.4] * 4}, ("genetic",), True, ["genetic"]),
    # without the reference's runs nothing is settled
    ({"paper": [], "keep_best": [0.4] * 4}, (), True, ["paper", "keep_best"]),
])
def test_what_missing_runs_could_still_change(experiment, tmp_path, scores, registered, seed_known, open_):
    """The finished tasks of the ended-stage tests above are all of parity's runs; here each case
    leaves one way open for a missing run to matter."""
    run = stage(tmp_path / "runs", "20261203-113219-transfer", 4, scores, False, registered, seed_known)
    arms = experiment.registered_arms(run)
    assert experiment.unsettled(experiment.standings_of(run), 4, arms) == open_
