import pytest

from selftaught.analysis.runs import list_runs
from selftaught.errors import ConfigError
from tests.analysis.factory import improver_run, make_run, self_improve_run


def test_runs_are_listed_with_status_and_best_score(tmp_path):
    self_improve_run(tmp_path, "20261124-090000-self-improve")
    make_run(tmp_path, "20261124-091000-improve", "improve",
             [improver_run(1, "imp", 0, 0.9, 0.8, kind="improve", task="fibonacci")], settings={"task": "fibonacci"})
    make_run(tmp_path, "20261124-092000-transfer", "transfer", [{"ts": 1, "kind": "improver_run_started"}],
             settings={"tasks": ["parity", "mqap"]})
    make_run(tmp_path, "20261124-093000-improve", "improve", [], settings={"task": "fibonacci"})
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{")
    listing = list_runs(tmp_path)
    assert [(e.path.name[16:], e.kind, e.status, e.best) for e in listing.entries] == [
        ("self-improve", "self-improve", "finished", pytest.approx(0.7)),
        ("improve", "improve", "finished", 0.8),
        ("transfer", "transfer", "incomplete", None),
        ("improve", "improve", "empty", None)]
    assert listing.entries[0].best_label == "û val of I_1" and listing.entries[0].model == "tiny-model"
    assert [p.name for p, _ in listing.unreadable] == ["broken"]
    assert list_runs(tmp_path / "20261124-091000-improve").entries[0].kind == "improve"


def test_a_missing_directory_is_an_error_with_a_fix(tmp_path):
    with pytest.raises(ConfigError, match="is not a directory"):
        list_runs(tmp_path / "nope")


def test_a_damaged_run_is_listed_with_its_reason_and_the_others_still_are(tmp_path, monkeypatch):
    from selftaught.analysis import runs

    self_improve_run(tmp_path, "a")
    self_improve_run(tmp_path, "b")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "config.json").write_text("[1]")
    real = runs.best_score

    def best_score(run):  # damage no reader foresaw
        if run.name == "b":
            raise TypeError("'int' object is not iterable")
        return real(run)

    monkeypatch.setattr(runs, "best_score", best_score)
    listing = list_runs(tmp_path)
    assert [e.path.name for e in listing.entries] == ["a"]
    assert [(p.name, why) for p, why in listing.unreadable] == [
        ("b", "cannot be analysed (TypeError: 'int' object is not iterable)"),
        ("c", f"{tmp_path / 'c' / 'config.json'} does not hold a JSON object")]


def test_numbers_in_the_settings_are_read_tolerantly(tmp_path):
    import json

    from tests.analysis.factory import SETTINGS

    for name, iterations in (("inf", float("inf")), ("nan", float("nan")), ("text", "2"), ("huge", 10 ** 400)):
        settings = {**SETTINGS, "run": {**SETTINGS["run"], "iterations": iterations}}
        run = self_improve_run(tmp_path, name)
        (run / "config.json").write_text(json.dumps({"command": "self-improve", "settings": settings}))
    listing = list_runs(tmp_path)
    assert not listing.unreadable and {e.status for e in listing.entries} == {"finished"}
