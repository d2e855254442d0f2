import json

import pytest

from selftaught.errors import ConfigError
from selftaught.ids import program_id
from selftaught.runs.rundir import RunDir


def test_a_run_keeps_config_programs_and_results(tmp_path):
    run = RunDir.create(tmp_path, "improve", {"task": "fibonacci"})
    config = json.loads((run.path / "config.json").read_text())
    assert config["command"] == "improve" and config["settings"]["task"] == "fibonacci"
    path = run.save_program("def f(): pass\n")
    assert path.name == f"{program_id('def f(): pass' + chr(10))}.py"
    assert run.load_program(path.stem) == "def f(): pass\n"
    assert run.write_result("best.py", "x = 1\n").read_text() == "x = 1\n"


def test_two_runs_in_the_same_second_get_different_directories(tmp_path):
    assert RunDir.create(tmp_path, "improve", {}).path != RunDir.create(tmp_path, "improve", {}).path


def test_resume_checks_the_directory_and_the_command(tmp_path):
    run = RunDir.create(tmp_path, "self-improve", {"tasks": ["lpn"]})
    run.journal.record("evaluation", "k", score=0.25)
    resumed = RunDir.resume(run.path, "self-improve")
    assert resumed.settings == {"tasks": ["lpn"]} and resumed.journal.get("evaluation", "k")["score"] == 0.25
    with pytest.raises(ConfigError, match="is a `self-improve` run, not `improve`") as info:
        RunDir.resume(run.path, "improve")
    assert "selftaught self-improve --resume" in info.value.fix
    with pytest.raises(ConfigError, match="not a run directory"):
        RunDir.resume(tmp_path, "improve")


def test_improver_files_are_ordered_by_iteration_and_ignore_strays(tmp_path):
    from selftaught.stop import improver_files, load_improver

    for t in (0, 2, 10):
        (tmp_path / f"improver_{t}.py").write_text(f"# I_{t}\n")
    (tmp_path / "improver_best.py").write_text("# stray\n")
    assert [p.name for p in improver_files(tmp_path)] == ["improver_0.py", "improver_2.py", "improver_10.py"]
    assert load_improver(tmp_path) == "# I_10\n"
    with pytest.raises(ConfigError, match="holds no improver_<t>.py"):
        improver_files(tmp_path / "empty")
