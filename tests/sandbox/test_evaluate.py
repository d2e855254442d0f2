from __future__ import annotations

import json

import pytest

from selftaught.errors import ConfigError
from selftaught.sandbox.evaluate import evaluate_task, render_text
from selftaught.tasks.parity import SEED_PROGRAM


def test_solver_scores_one(pool, solver):
    report = evaluate_task("parity", solver, "val", pool=pool)
    assert report["score"] == 1.0 and report["n_instances"] == 20
    assert json.loads(json.dumps(report)) == report
    assert {r["status"] for r in report["instances"]} == {"ok"}


def test_seed_program_is_near_chance(pool):
    report = evaluate_task("parity", SEED_PROGRAM, "test", pool=pool)
    assert report["n_instances"] == 50 and 0.35 < report["score"] < 0.65


def test_invalid_outputs_score_zero_with_a_reason(pool):
    report = evaluate_task("parity", "import numpy as np\ndef algorithm(a, b, c):\n    return np.ones(2000)\n",
                           "val", pool=pool)
    assert report["score"] == 0.0
    assert "invalid predictions" in report["instances"][0]["diagnostics"]


def test_builds_its_own_pool(solver):
    assert evaluate_task("parity", solver, "val", slots=1)["score"] == 1.0


def test_unknown_task_and_split(solver):
    with pytest.raises(ConfigError):
        evaluate_task("sorting", solver)
    with pytest.raises(ConfigError):
        evaluate_task("parity", solver, split="train")


def test_render_text_summarises(pool):
    report = evaluate_task("parity", "def algorithm(a, b, c):\n    raise ValueError('nope')\n", "val", pool=pool)
    text = render_text(report)
    assert "score 0.000 over 20 instances" in text and "crash 20" in text and "ValueError" in text
