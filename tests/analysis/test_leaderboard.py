"""The leaderboard of a transfer run: paired differences against the first improver, pooled and
per task, never-worse and crash rates, tokens and wall time per run."""

from __future__ import annotations

import pytest

from selftaught.analysis.leaderboard import better_default, standings
from selftaught.analysis.rundata import load_run
from selftaught.ids import program_id
from selftaught.improvers import library_improver

from .factory import SETTINGS, improver_run, make_run

TESTS = {  # label -> test score of runs (task, index)
    "paper": {("parity", 0): 0.4, ("parity", 1): 0.5, ("max_cut", 0): 0.6, ("max_cut", 1): 0.6},
    "keep_best": {("parity", 0): 0.5, ("parity", 1): 0.5, ("max_cut", 0): 0.7, ("max_cut", 1): 0.8},
    "beam": {("parity", 0): 0.0, ("parity", 1): 0.4, ("max_cut", 0): 0.6, ("max_cut", 1): 0.5},
}
SEED = {"parity": 0.5, "max_cut": 0.6}


@pytest.fixture
def run(tmp_path):
    ids = {label: program_id(library_improver(label)) for label in TESTS}  # the library's own code
    events = []
    for label, scores in TESTS.items():
        for (task, index), test in scores.items():
            event = improver_run(1.0, ids[label], index, test, test, task=task,
                                 status="crash" if test == 0.0 else "ok")
            events.append({**event, "completion_tokens": 100 * (1 + list(TESTS).index(label))})
    means = {task: {label: sum(v for (t, _), v in scores.items() if t == task) / 2 for label, scores in TESTS.items()}
             for task in SEED}
    events += [{"ts": 2.0, "kind": "transfer_row", "key": task, "seed_program": u, "improvers": means[task]}
               for task, u in SEED.items()]
    settings = {**SETTINGS, "improvers": [[label, pid] for label, pid in ids.items()], "tasks": list(SEED)}
    return load_run(make_run(tmp_path, "20261202-120000-transfer", "transfer", events, settings=settings))


def test_the_reference_first_then_the_best_paired_difference(run):
    board = standings(run)
    assert [s.label for s in board] == ["paper", "keep_best", "beam"]
    assert board[0].versus_reference is None and board[0].runs == 4
    keep_best = board[1]
    assert keep_best.versus_reference.mean == pytest.approx(0.1)  # (0.1 + 0 + 0.1 + 0.2) / 4
    assert {t: round(i.mean, 3) for t, i in keep_best.per_task.items()} == {"max_cut": 0.15, "parity": 0.05}
    assert keep_best.versus_reference.lo < keep_best.versus_reference.mean < keep_best.versus_reference.hi


def test_the_default_changes_only_for_a_clear_winner_never_below_the_seed(run):
    import dataclasses

    from selftaught.stats import Interval

    paper, keep_best, beam = standings(run)
    assert (paper.below_seed, keep_best.below_seed, beam.below_seed) == (("parity",), (), ("max_cut", "parity"))
    # keep_best: 4 pairs, mean +0.1 [-0.05, 0.25]: not clearly better, so paper stays
    assert keep_best.versus_reference.lo < 0 and better_default([paper, keep_best, beam], SEED) is None
    clear = dataclasses.replace(keep_best, versus_reference=Interval(0.1, 0.02, 0.18, 20))
    assert better_default([paper, clear, beam], SEED) is clear
    assert better_default([paper, clear, beam], [*SEED, "mqap"]) is None  # not yet paired on every task
    below = dataclasses.replace(clear, below_seed=("parity",))  # beats paper, yet worse than u(s) somewhere
    assert better_default([paper, below, beam], SEED) is None
    unknown = dataclasses.replace(clear, seed_unknown=("parity",))  # u(s) not journalled: cannot tell
    assert better_default([paper, unknown, beam], SEED) is None


def test_never_worse_crashes_tokens_and_time_per_improver(run):
    paper, keep_best, beam = standings(run)
    assert (paper.never_worse.k, keep_best.never_worse.k, beam.never_worse.k) == (3, 4, 1)
    assert (beam.crashed.k, beam.crashed.n, paper.crashed.k) == (1, 4, 0)
    assert (paper.completion_tokens, keep_best.completion_tokens, beam.completion_tokens) == (100, 200, 300)
    assert beam.wall_time_s == 5.0


def test_the_report_shows_the_leaderboard_of_a_transfer_with_three_improvers(run, tmp_path):
    from selftaught.report.build import build_report

    text = build_report([run.path]).html
    assert "Leaderboard: each improver against paper" in text and "keep_best" in text and "beam" in text
    assert "replace paper as the default" in text and "None here." in text  # keep_best is not clearly better
    assert text.index("keep_best</td>") < text.index("beam</td>")  # ranked by pooled difference


def test_the_experiments_first_look_reads_the_same_pairs(run):
    """experiments/leaderboard.py's pre-registered look: nobody is clearly behind on 4 pairs at
    Bonferroni confidence, so every arm goes on (at least 3), best mean first."""
    from selftaught.analysis.leaderboard import differences

    from ..scripts import load_script

    assert {k: sorted(d.values()) for k, d in differences(run).items()} == {
        "keep_best": pytest.approx([0.0, 0.1, 0.1, 0.2]), "beam": pytest.approx([-0.4, -0.1, -0.1, 0.0])}
    module = load_script("experiments/leaderboard.py", "leaderboard_experiment")
    assert module.survivors(run.path) == ["paper", "keep_best", "beam"]


def test_a_run_killed_before_its_rows_judges_never_worse_by_the_seed_evaluation(tmp_path):
    """Rows are written when a task finishes: before that, u(s) comes from the seed program's own
    test evaluation, and a task with neither counts towards no never-worse rate (it used to count
    as never worse, as if u(s) were 0)."""
    from selftaught.analysis.rundata import task_seed
    from selftaught.ids import program_id

    ids = {"paper": "0" * 16, "keep_best": "1" * 16}
    events = [improver_run(1.0, ids[label], index, test, test, task=task)
              for label, task, index, test in [("paper", "parity", 0, 0.0), ("keep_best", "parity", 0, 0.5),
                                               ("paper", "max_cut", 0, 0.1), ("keep_best", "max_cut", 0, 0.3)]]
    seed = program_id(task_seed("parity"))
    events.append({"ts": 1.5, "kind": "evaluation", "key": f"parity/test/{seed}", "task": "parity",
                   "split": "test", "score": 0.5})
    settings = {**SETTINGS, "improvers": [[label, pid] for label, pid in ids.items()], "tasks": ["parity", "max_cut"]}
    run = load_run(make_run(tmp_path, "20261202-120000-transfer", "transfer", events, settings=settings))
    paper, keep_best = standings(run)
    assert (paper.never_worse.k, paper.never_worse.n) == (0, 1)  # parity only: max_cut's u(s) is unknown
    assert (keep_best.never_worse.k, keep_best.never_worse.n) == (1, 1)
    assert paper.below_seed == ("parity",) and keep_best.seed_unknown == ("max_cut",)


def test_one_pair_is_no_evidence_and_a_row_without_u_s_leaves_it_unknown(run, tmp_path):
    import dataclasses

    from selftaught.stats import Interval

    paper, keep_best, beam = standings(run)
    single = dataclasses.replace(keep_best, versus_reference=Interval(0.2, 0.2, 0.2, 1))  # what one pair gives
    assert better_default([paper, single, beam], SEED) is None
    # pairs that all agree: a t interval of zero width; the sign test needs 6 of them (p = 2^-5 < .05)
    agreeing = [dataclasses.replace(keep_best, versus_reference=Interval(0.1, 0.1, 0.1, n)) for n in (2, 5, 6)]
    assert [better_default([paper, a, beam], SEED) is a for a in agreeing] == [False, False, True]
    events = [improver_run(1.0, "0" * 16, 0, 0.4, 0.4, task="max_cut"),
              {"ts": 2.0, "kind": "transfer_row", "key": "max_cut", "seed_program": None, "improvers": {}}]
    settings = {**SETTINGS, "improvers": [["paper", "0" * 16]], "tasks": ["max_cut"]}
    (only,) = standings(load_run(make_run(tmp_path, "20261202-130000-transfer", "transfer", events, settings=settings)))
    assert only.seed_unknown == ("max_cut",) and only.never_worse.n == 0  # not "never worse than 0"


def test_a_users_own_paper_py_is_not_asked_the_default_question(tmp_path):
    """The question is for the default improver's code, not for whatever is labelled paper."""
    from selftaught.report.build import build_report

    ids = {"paper": "a" * 16, "keep_best": program_id(library_improver("keep_best"))}
    events = [improver_run(1.0, ids[label], i, 0.5, test, task="parity")
              for label, tests in (("paper", (0.4, 0.5)), ("keep_best", (0.5, 0.6))) for i, test in enumerate(tests)]
    events.append({"ts": 2.0, "kind": "transfer_row", "key": "parity", "seed_program": 0.5,
                   "improvers": {"paper": 0.45, "keep_best": 0.55}})
    settings = {**SETTINGS, "improvers": [[label, pid] for label, pid in ids.items()], "tasks": ["parity"]}
    html = build_report([make_run(tmp_path, "20261202-140000-transfer", "transfer", events, settings=settings)]).html
    assert "The reference is the first improver given, paper." in html and "Would an improver replace" not in html
