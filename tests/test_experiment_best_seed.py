"""experiments/best_seed.py (experiment 4, step 2): the registered commands, parsed by the real
CLI without running them."""

import importlib.util
import sys
from pathlib import Path

import pytest
import typer

from selftaught.cli import app
from selftaught.settings import TRANSFER_TASKS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def best_seed():
    sys.path.insert(0, str(ROOT / "experiments"))
    spec = importlib.util.spec_from_file_location("best_seed_experiment", ROOT / "experiments" / "best_seed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parsed(command: str, args: list[str]) -> dict:
    click_command = typer.main.get_command(app).commands[command]
    return click_command.make_context(command, list(args)).params


def test_the_self_improve_runs_use_the_registered_settings(best_seed):
    params = parsed("self-improve", best_seed.self_improve_args("knobs", ["tsp", "knapsack"], "exp4-a",
                                                                Path("/d/cache.sqlite")))
    assert str(params["seed"]) == "knobs" and params["task"] == ["tsp", "knapsack"]
    assert (params["iterations"], params["meta_responses"], params["meta_budget"]) == (2, 12, 12)
    assert (params["preset"], params["improver_time_limit_s"], params["sample_seed"]) == ("small", 1800.0, "exp4-a")
    assert params["accept"] is None and params["meta_feedback"] is None  # the small preset's: paired, off


def test_each_transfer_pairs_a_run_on_the_held_out_five(best_seed):
    params = parsed("transfer", best_seed.transfer_args(Path("/d/runs/x-self-improve"), Path("/d/cache.sqlite")))
    assert params["tasks"] == ",".join(TRANSFER_TASKS) and params["n_tests"] == 4
    assert params["sample_seed"] == "exp4-transfer"
