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


def test_a_run_is_written_by_one_process_at_a_time(tmp_path):
    import signal
    import subprocess
    import sys

    run = RunDir.create(tmp_path, "improve", {})
    with pytest.raises(ConfigError, match="open already in this process"):
        RunDir.resume(run.path, "improve")
    run.close()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, pathlib; from selftaught.runs.rundir import RunDir; "
                               "run = RunDir.resume(pathlib.Path(sys.argv[1]), 'improve'); print('held', flush=True); "
                               "sys.stdin.read()", str(run.path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == b"held\n"
        with pytest.raises(ConfigError, match=f"in use by process {holder.pid}") as info:
            RunDir.resume(run.path, "improve")  # two `--resume` at once would journal the same work twice
        assert "Ctrl-C" in info.value.fix
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    RunDir.resume(run.path, "improve").close()  # the kernel released a killed holder's lock


def test_a_saved_program_is_checked_against_its_id(tmp_path):
    run = RunDir.create(tmp_path, "improve", {})
    pid = run.save_program("def f(): return 1\n").stem
    (run.path / "programs" / f"{pid}.py").write_text("def f(): return 2\n")
    with pytest.raises(ConfigError, match=rf"programs/{pid}.py, the seed improver, was changed after the run saved"):
        run.load_program(pid, "seed improver")
    (run.path / "programs" / f"{pid}.py").unlink()
    with pytest.raises(ConfigError, match=rf"cannot read programs/{pid}.py, the program"):
        run.load_program(pid)
    for odd in ("x = '\udcff'\n", "def f():\r\n    return 1\r\n", "x = 1\ry = 2"):  # as the LM or a caller wrote it
        assert run.load_program(run.save_program(odd).stem) == odd


@pytest.mark.parametrize("content", [b"", b"not json", b"[]", b"\xff\xfe{}", b"[" * 100_000, b'{"command": "improve"}',
                                     b'{"command": 3, "settings": {}}', b'{"command": "improve", "settings": []}'])
def test_a_damaged_config_json_is_named(tmp_path, content):
    run = RunDir.create(tmp_path, "improve", {})
    run.close()
    (run.path / "config.json").write_bytes(content)
    with pytest.raises(ConfigError, match="config.json") as info:
        RunDir.resume(run.path, "improve")
    assert "copy of the run" in info.value.fix


@pytest.mark.parametrize("entry, make", [("events.jsonl", "dir"), ("usage.jsonl", "dir"), ("programs", "file")])
def test_a_run_directory_with_a_file_where_a_directory_belongs_is_named(tmp_path, entry, make):
    import shutil

    run = RunDir.create(tmp_path, "improve", {})
    run.close()
    target = run.path / entry
    if target.is_dir():
        shutil.rmtree(target)
    else:
        target.unlink(missing_ok=True)
    target.mkdir() if make == "dir" else target.write_text("x")
    with pytest.raises(ConfigError, match=f"{entry} should be a {'file' if make == 'dir' else 'directory'}"):
        RunDir.resume(run.path, "improve")


def test_a_lock_that_cannot_be_written_is_an_error_and_released(tmp_path, monkeypatch):
    import os

    run = RunDir.create(tmp_path, "improve", {})
    run.close()

    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    for _ in range(2):  # the second attempt meets the disk again, not a lock it left behind
        with pytest.raises(ConfigError, match="cannot write .*.lock: No space left on device"):
            RunDir.resume(run.path, "improve")


def test_a_resume_says_what_damage_it_will_redo(tmp_path):
    run = RunDir.create(tmp_path, "improve", {})
    run.journal.record("evaluation", "a", score=1.0)
    run.close()
    with (run.path / "events.jsonl").open("a") as f:
        f.write("7\n{}\n")
    with RunDir.resume(run.path, "improve") as again:
        assert again.damage == ["2 damaged line(s) of events.jsonl were skipped: the work they recorded is done again"]
    (run.path / "events.jsonl").write_text("")
    (run.path / "usage.jsonl").write_text('{"prompt_tokens": 5}\n')
    with RunDir.resume(run.path, "improve") as again:
        assert again.damage and "usage.jsonl goes on counting" in again.damage[0]


def test_two_runs_in_the_same_second_get_different_directories(tmp_path):
    assert RunDir.create(tmp_path, "improve", {}).path != RunDir.create(tmp_path, "improve", {}).path


def test_resume_checks_the_directory_and_the_command(tmp_path):
    run = RunDir.create(tmp_path, "self-improve", {"tasks": ["lpn"]})
    run.journal.record("evaluation", "k", score=0.25)
    run.close()
    with RunDir.resume(run.path, "self-improve") as resumed:
        assert resumed.settings == {"tasks": ["lpn"]} and resumed.journal.get("evaluation", "k")["score"] == 0.25
    with pytest.raises(ConfigError, match="is a `self-improve` run, not `improve`") as info:
        RunDir.resume(run.path, "improve")
    assert "selftaught self-improve --resume" in info.value.fix
    with pytest.raises(ConfigError, match="not a run directory") as info:
        RunDir.resume(tmp_path, "self-improve")
    assert "runs/20261124-093000-self-improve" in info.value.fix  # an example of the command's own runs


def test_improver_files_are_ordered_by_iteration_and_ignore_strays(tmp_path):
    from selftaught.stop import improver_files, load_improver

    for t in (0, 2, 10):
        (tmp_path / f"improver_{t}.py").write_text(f"# I_{t}\n")
    (tmp_path / "improver_best.py").write_text("# stray\n")
    assert [p.name for p in improver_files(tmp_path)] == ["improver_0.py", "improver_2.py", "improver_10.py"]
    assert load_improver(tmp_path) == "# I_10\n"
    with pytest.raises(ConfigError, match="holds no improver_<t>.py"):
        improver_files(tmp_path / "empty")
