import json

import pytest

from selftaught.analysis.rundata import load_run, read_jsonl
from selftaught.errors import ConfigError
from tests.analysis.factory import make_run, usage


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
