"""experiments/headroom.py: experiment 4's pre-registered choice of tasks with headroom, read
from a transfer run's journal (every distinct sample scored on val is a trial)."""

import sys

import pytest

from selftaught.analysis.rundata import load_run
from selftaught.ids import program_id
from selftaught.tasks.loader import load_task
from selftaught.stats import Interval

from .analysis.factory import SETTINGS, improver_run, make_run
from .scripts import load_script


@pytest.fixture(scope="module")
def headroom():
    yield load_script("experiments/headroom.py", "headroom_experiment")
    del sys.modules["headroom_experiment"]


def scored(task: str, split: str, pid: str, score: float) -> dict:
    return {"ts": 1.0, "kind": "evaluation", "key": f"{task}/{split}/{pid}", "task": task, "split": split,
            "score": score, "instances": []}


def test_samples_that_beat_the_seed_are_counted_per_task(tmp_path, headroom):
    seed = program_id(load_task("fibonacci").seed_program)
    events = [scored("fibonacci", "val", seed, 0.5),
              scored("fibonacci", "val", "a" * 16, 0.7), scored("fibonacci", "val", "b" * 16, 0.5),
              scored("fibonacci", "val", "c" * 16, 0.2), scored("fibonacci", "val", "e" * 16, 0.0),
              scored("fibonacci", "test", "d" * 16, 0.9),
              improver_run(2.0, "k", 0, 0.7, 0.6, task="fibonacci"),
              improver_run(3.0, "k", 1, 0.5, 0.5, task="fibonacci")]
    run = load_run(make_run(tmp_path, "r-transfer", "transfer", events, settings={**SETTINGS, "tasks": ["fibonacci"]}))
    (row,) = headroom.headroom(run)
    assert (row.task, row.seed_val, row.samples, row.beat) == ("fibonacci", 0.5, 4, 1)  # a tie does not beat
    assert (row.runs, row.runs_improved) == (2, 1) and row.share.mean == pytest.approx(1 / 4)
    assert not row.qualifies  # 1 of 4: the Wilson lower bound is under 5%


def test_the_choice_takes_qualifying_tasks_by_share(headroom):
    def row(task: str, share: float, lo: float):
        return headroom.Headroom(task, 0.5, 40, int(40 * share), Interval(share, lo, min(1.0, share + 0.1), 40), 4, 1)

    rows = [row("a", 0.30, 0.18), row("b", 0.60, 0.45), row("c", 0.05, 0.01), row("d", 0.20, 0.10),
            row("e", 0.25, 0.14)]
    assert headroom.chosen(rows) == ["b", "a", "e"]  # c's lower bound is under 5%; at most three
    assert headroom.chosen([row("c", 0.05, 0.01)]) == []
    assert "fibonacci" in headroom.candidates() and "parity" not in headroom.candidates()
