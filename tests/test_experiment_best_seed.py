"""experiments/best_seed.py (experiment 4, step 2): the registered commands, parsed by the real
CLI without running them."""

import sys
from pathlib import Path

import pytest
import typer

from selftaught.cli import app
from selftaught.settings import TRANSFER_TASKS

from .scripts import load_script

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def best_seed():
    sys.path.insert(0, str(ROOT / "experiments"))
    return load_script("experiments/best_seed.py", "best_seed_experiment")


def parsed(command: str, args: list[str]) -> dict:
    click_command = typer.main.get_command(app).commands[command]
    return click_command.make_context(command, list(args)).params


def test_the_self_improve_runs_use_the_registered_settings(best_seed):
    params = parsed("self-improve", best_seed.self_improve_args("knobs", ["tsp", "knapsack"], "exp4-a",
                                                                Path("/d/cache.sqlite")))
    assert str(params["seed"]) == "knobs" and params["task"] == ["tsp", "knapsack"]
    assert (params["iterations"], params["meta_responses"], params["meta_budget"]) == (2, 12, 13)
    assert (params["preset"], params["improver_time_limit_s"], params["sample_seed"]) == ("small", 1800.0, "exp4-a")
    assert params["accept"] is None and params["meta_feedback"] is None  # the small preset's: paired, off


def test_each_transfer_pairs_a_run_on_the_held_out_five(best_seed):
    params = parsed("transfer", best_seed.transfer_args(Path("/d/runs/x-self-improve"), Path("/d/cache.sqlite")))
    assert params["tasks"] == ",".join(TRANSFER_TASKS) and params["n_tests"] == 4
    assert params["sample_seed"] == "exp4-transfer"


def test_the_report_reads_what_has_run(best_seed, tmp_path):
    """Recorded fixture runs, filed as experiment 4's first run and its transfer: the steps, the
    candidates by what they changed, and the transfer paired against I_0."""
    import json
    import shutil

    from tests.analysis.test_recorded import SELF_IMPROVE, TRANSFER

    runs = tmp_path / "runs"
    run, transfer = runs / SELF_IMPROVE.name, runs / TRANSFER.name
    shutil.copytree(SELF_IMPROVE, run)
    shutil.copytree(TRANSFER, transfer)
    for path, edit in ((run, lambda s: s["run"].update(sample_seed="exp4-a")),
                       (transfer, lambda s: s.update(source=str(run.resolve())))):
        config = json.loads((path / "config.json").read_text())
        edit(config["settings"])
        (path / "config.json").write_text(json.dumps(config))
    text = best_seed.report(tmp_path)
    assert f"## exp4-a: run `{SELF_IMPROVE.name}`" in text and "## exp4-b: not started" in text
    assert "- step 1: accepted (paper rule" in text and "- step 2: kept I_1" in text
    # The recorded I_1 is I_0 with new comments: it scored exactly like I_0.
    assert "| nothing | 1 | 1 |" in text and "| unparsable | 1 | 0 |" in text and "| all | 4 | 1 |" in text
    assert f"Transfer `{TRANSFER.name}`:" in text and "- I_1=I_2 − I_0, test, pooled over 4 runs: +0.000" in text
