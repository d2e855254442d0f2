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
    assert "2 candidates scored (0 min, 320 completion tokens)" in text  # each step's cost
    # The recorded I_1 is I_0 with new comments: it scored exactly like I_0.
    assert "| nothing | 1 | 1 |" in text and "| unparsable | 1 | 0 |" in text and "| all | 4 | 1 |" in text
    assert f"Transfer `{TRANSFER.name}`:" in text and "- I_1=I_2 − I_0, test, pooled over 4 runs: +0.000" in text
    # What each run spent, as registered (the fixtures' journals and usage logs)
    assert "Cost: 0 min; 12 improver runs (ok 8, syntax_error 2, crash 2); 12 LM calls, 880 completion" in text
    assert "Cost: 0 min; 8 improver runs (ok 8); 8 LM calls, 640 completion" in text


def test_the_seed_is_the_fallback_when_experiment_3_ended_without_a_winner(best_seed, tmp_path, monkeypatch):
    import leaderboard  # the module best_seed imports (experiments/ is on sys.path)

    from .test_experiment_leaderboard import stage

    name = "20261203-113219-transfer"
    monkeypatch.setattr(leaderboard, "ENDED", {name: "its key was lost"})
    stage(tmp_path / "runs", name, 4, {"paper": [0.6] * 4, "keep_best": [0.4] * 4}, finished=False)
    assert best_seed.seed_improver(tmp_path) == "knobs"
    monkeypatch.setattr(leaderboard, "ENDED", {})
    with pytest.raises(SystemExit, match="stage 2 .* is unfinished"):
        best_seed.seed_improver(tmp_path)


def test_an_unfinished_run_whose_key_this_machine_lacks_is_abandoned_and_restarted(best_seed, tmp_path,
                                                                                  monkeypatch):
    """A sitting on a new machine (amendment in RESULTS.md): the run cannot resume, so it is
    marked, kept, and looked past; a run whose key is here, or a finished one, is left alone."""
    import json

    from stop_embedded import find_run

    from selftaught.tasks.secret import InstanceSecret, create_run_secret

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home"))
    runs = tmp_path / "runs"

    def make(name: str, sample_seed: str, secret: InstanceSecret) -> Path:
        run = runs / name
        create_run_secret(run, secret)
        (run / "config.json").write_text(json.dumps({"settings": {"run": {"sample_seed": sample_seed}}}))
        return run

    here = make("20261203-170000-self-improve", "exp4-b", InstanceSecret.generate())
    lost = make("20261203-170100-self-improve", "exp4-a", InstanceSecret.generate())
    for stored in (tmp_path / "home" / "selftaught" / "keys").iterdir():
        if stored.name == (lost / "instance_key.sha256").read_text().strip():
            stored.unlink()  # the key stayed on the machine that ran it
    logged: list[str] = []
    args = ("self-improve", "sample_seed")
    assert best_seed.abandon_if_keyless(runs, *args, "exp4-b", "self_improvement.json", logged.append) is None
    assert best_seed.abandon_if_keyless(runs, *args, "exp4-a", "self_improvement.json", logged.append) == lost
    assert "is not in this machine's key store" in (lost / "ABANDONED").read_text()
    assert "abandoned 20261203-170100-self-improve" in logged[0]
    assert find_run(runs, *args, "exp4-a") is None and find_run(runs, *args, "exp4-b") == here
    (here / "self_improvement.json").write_text("{}")
    carried = make("20261203-170200-self-improve", "exp4-c", InstanceSecret.generate())
    create_run_secret(carried, InstanceSecret.from_hex((tmp_path / "home" / "selftaught" / "keys" / (
        carried / "instance_key.sha256").read_text().strip()).read_text()), store=True)
    for stored in (tmp_path / "home" / "selftaught" / "keys").iterdir():
        stored.unlink()
    # finished, or carrying its own key (--store-instance-key): never abandoned
    assert best_seed.abandon_if_keyless(runs, *args, "exp4-b", "self_improvement.json", logged.append) is None
    assert best_seed.abandon_if_keyless(runs, *args, "exp4-c", "self_improvement.json", logged.append) is None
    assert len(logged) == 1
    assert f"- `{lost.name}`: " in best_seed.report(tmp_path)  # listed with its reason, not counted
