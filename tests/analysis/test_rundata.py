import json

import pytest

from selftaught.analysis.rundata import load_run, number, read_jsonl
from selftaught.errors import ConfigError
from tests.analysis.factory import S0, SEED, make_run, self_improve_run, usage


def test_reading_skips_torn_and_malformed_lines_and_never_repairs_the_file(tmp_path):
    run = make_run(tmp_path, "r", "improve", [{"ts": 1.0, "kind": "improve_started", "run": "x"}])
    journal = run / "events.jsonl"
    with journal.open("a") as f:
        f.write('not json\n[1, 2]\n{"no_kind": true}\n{"ts": 2.0, "kind": "evaluation", "key": "t/val/x", "sco')
    before = journal.read_bytes()
    data = load_run(run)
    assert [e["kind"] for e in data.events] == ["improve_started"]
    assert journal.read_bytes() == before  # a running run's journal is left alone


def test_config_fields_are_optional_and_the_model_comes_from_the_usage_log(tmp_path):
    run = make_run(tmp_path, "r", "transfer", [], [usage(1.0, 1, 1, model="m-from-usage")],
                   settings={"tasks": ["/abs/path/my_task", "parity"], "lm": {"model": "configured"}})
    data = load_run(run)
    assert data.kind == "transfer" and data.tasks == ["my_task", "parity"] and data.model == "m-from-usage"
    (run / "usage.jsonl").write_text("")
    assert load_run(run).model == "configured"
    (run / "config.json").write_text(json.dumps({"command": "improve"}))
    bare = load_run(run)
    assert (bare.tasks, bare.model, bare.created, bare.unsafe) == ([], "embedded", "", False)


def test_a_directory_without_config_is_refused_with_a_fix(tmp_path):
    with pytest.raises(ConfigError, match="not a run directory"):
        load_run(tmp_path)
    (tmp_path / "config.json").write_text("{broken")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_run(tmp_path)


def test_lone_surrogates_in_the_journal_survive_reading(tmp_path):
    file = tmp_path / "events.jsonl"
    file.write_text('{"kind": "improve", "solution_source": "x = \\"\\ud800\\""}\n')
    (event,) = read_jsonl(file)
    assert event["solution_source"] == 'x = "\ud800"'


def test_program_ids_from_the_journal_cannot_name_files_outside_programs(tmp_path):
    run = make_run(tmp_path, "r", "improve", [], programs=["x = 1\n"])
    (tmp_path / "secret.py").write_text("token = 'do not show'\n")
    data = load_run(run)
    from selftaught.ids import program_id

    assert data.program(program_id("x = 1\n")) == "x = 1\n"
    assert data.program("../../secret") is None and data.program("") is None


def _deny(monkeypatch, denied):
    """Reading `denied` (a path, or anything under it) fails as chmod 000 makes it for a user
    other than root; tests run as root too, where chmod does not deny reads."""
    from pathlib import Path

    def guard(original, itself: bool):
        def call(self, *args, **kwargs):
            if (itself and self == denied) or denied in self.parents:
                raise PermissionError(13, "Permission denied", str(self))
            return original(self, *args, **kwargs)
        return call

    for method in ("read_bytes", "read_text"):
        monkeypatch.setattr(Path, method, guard(getattr(Path, method), itself=True))
    for method in ("is_file", "is_dir"):  # stat: denied inside an unreadable directory only
        monkeypatch.setattr(Path, method, guard(getattr(Path, method), itself=False))


@pytest.mark.parametrize("name", ["config.json", "events.jsonl", "usage.jsonl", "."])
def test_an_unreadable_run_file_or_directory_is_a_config_error_naming_it(tmp_path, monkeypatch, name):
    run = self_improve_run(tmp_path)
    denied = (run / name).resolve() if name == "." else run / name
    _deny(monkeypatch, denied)
    with pytest.raises(ConfigError) as info:
        load_run(run)
    assert info.value.problem == f"cannot read {denied}: Permission denied" and "readable" in info.value.fix


def test_an_unreadable_program_is_shown_as_not_recorded(tmp_path, monkeypatch):
    from tests.analysis.factory import C1

    run = self_improve_run(tmp_path)
    _deny(monkeypatch, run / "programs" / f"{C1}.py")
    data = load_run(run)
    assert data.program(C1) is None and data.program(S0) == SEED


def test_token_counts_that_are_missing_or_malformed_count_zero(tmp_path):
    from selftaught.runs.summary import summarize

    records = [usage(1.0, 100, 50), usage(2.0, 7, 3)]
    del records[0]["prompt_tokens"]
    records[1]["completion_tokens"] = "12"
    lines = "".join(json.dumps(r) + "\n" for r in records) + '{"ts": 3.0, "prompt_tokens": Infinity}\n'
    run = make_run(tmp_path, "r", "improve", [])
    (run / "usage.jsonl").write_text(lines)
    assert [(u["prompt_tokens"], u["completion_tokens"]) for u in load_run(run).usage] == [(0, 50), (7, 0), (0, 0)]
    s = summarize(run)  # `selftaught show`
    assert (s.lm_calls, s.prompt_tokens, s.completion_tokens) == (3, 7, 50)


def test_a_journal_and_usage_log_appended_twice_count_once(tmp_path):
    from selftaught.analysis import analyze
    from selftaught.runs.summary import summarize

    once = self_improve_run(tmp_path, "once")
    twice = self_improve_run(tmp_path, "twice")
    for name in ("events.jsonl", "usage.jsonl"):
        (twice / name).write_text((twice / name).read_text() * 2)
    assert load_run(twice).events == load_run(once).events and load_run(twice).usage == load_run(once).usage
    assert summarize(twice) == summarize(once)
    assert analyze(twice).steps == analyze(once).steps


def test_a_key_written_again_counts_once_the_last_time_at_its_place(tmp_path):
    # a resumed transfer writes its rows again; Journal's index keeps the last of a (kind, key);
    # a key that is no string is no event Journal wrote
    rows = [{"ts": 1.0, "kind": "transfer_row", "key": "parity", "seed_program": 0.1},
            {"ts": 2.0, "kind": "iteration_started", "t": 1},
            {"ts": 3.0, "kind": "transfer_row", "key": "parity", "seed_program": 0.3},
            {"ts": 4.0, "kind": "transfer_row", "key": ["not", "a", "key"]},
            {"ts": 2.0, "kind": "iteration_started", "t": 1}]
    data = load_run(make_run(tmp_path, "r", "transfer", rows))
    assert data.events == (rows[2], rows[4])


def test_numbers_no_reader_can_use_read_as_missing(tmp_path):
    run = make_run(tmp_path, "r", "improve", [])
    (run / "events.jsonl").write_text('{"ts": Infinity, "kind": "improve", "val": NaN, "test": 1e400, "index": 1'
                                      + "0" * 400 + ', "lm_calls": 3}\n')
    (event,) = load_run(run).events
    assert event == {"ts": None, "kind": "improve", "val": None, "test": None, "index": None, "lm_calls": 3}
    assert [number(v, -1.0) for v in (float("inf"), float("nan"), 10 ** 400, "1", None, True, 2)] == [
        -1.0, -1.0, -1.0, -1.0, -1.0, 1.0, 2.0]


@pytest.mark.parametrize("task", ["t" * 300, "/" + "d/" * 3000])
def test_a_task_name_that_cannot_name_a_file_has_no_seed_program(tmp_path, task):
    from selftaught.analysis import analyze

    run = make_run(tmp_path, "r", "transfer", [], settings={"tasks": [task], "source": task})
    data = load_run(run)
    assert data.seed_programs() == {} and data.source_run() is None
    assert analyze(run).seed_scores == {}


@pytest.mark.parametrize("entry", ["events.jsonl", "usage.jsonl"])
def test_a_directory_where_a_run_keeps_a_file_is_named_as_a_resume_names_it(tmp_path, entry):
    run = self_improve_run(tmp_path)
    (run / entry).unlink()
    (run / entry).mkdir()
    with pytest.raises(ConfigError, match=f"{entry} should be a file"):
        load_run(run)
