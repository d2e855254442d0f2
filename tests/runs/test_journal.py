import json

from selftaught.runs.journal import Journal


def test_records_are_kept_in_order_and_found_by_key(tmp_path):
    journal = Journal(tmp_path / "events.jsonl")
    journal.record("start")
    journal.record("evaluation", "a", score=0.5)
    journal.record("evaluation", "a", score=0.7)
    assert journal.get("evaluation", "a")["score"] == 0.7
    assert journal.get("evaluation", "b") is None
    assert [e["kind"] for e in journal.events()] == ["start", "evaluation", "evaluation"]


def test_a_reopened_journal_remembers_and_skips_a_torn_last_line(tmp_path):
    path = tmp_path / "events.jsonl"
    Journal(path).record("evaluation", "a", score=0.5)
    with path.open("a") as f:
        f.write('{"kind": "evaluation", "key": "b", "sco')  # kill -9 mid-write
    again = Journal(path)
    assert again.get("evaluation", "a")["score"] == 0.5 and again.get("evaluation", "b") is None
    again.record("evaluation", "c", score=1.0)
    assert Journal(path).get("evaluation", "c")["score"] == 1.0


def test_listeners_see_new_events(tmp_path):
    journal, seen = Journal(tmp_path / "e.jsonl"), []
    journal.subscribe(seen.append)
    journal.record("x", "k", value=1)
    assert seen[0]["value"] == 1 and json.loads((tmp_path / "e.jsonl").read_text())["key"] == "k"
