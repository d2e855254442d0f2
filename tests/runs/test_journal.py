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


def test_once_computes_a_key_once_however_many_threads_ask(tmp_path):
    import threading
    import time

    journal, calls = Journal(tmp_path / "e.jsonl"), []
    gate = threading.Barrier(8)

    def compute():
        calls.append(1)
        time.sleep(0.05)  # long enough for every other thread to arrive and wait
        return {"value": 42}

    def ask(results, key):
        gate.wait()
        results.append(journal.once("step", key, compute)["value"])

    results: list[int] = []
    threads = [threading.Thread(target=ask, args=(results, "k")) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [42] * 8 and len(calls) == 1
    assert [e["key"] for e in journal.events("step")] == ["k"]
    assert journal._computing == {}  # no lock left behind per key
    # a reopened journal answers from disk without computing
    assert Journal(tmp_path / "e.jsonl").once("step", "k", lambda: {"value": 0})["value"] == 42


def test_once_does_not_make_other_keys_wait(tmp_path):
    import threading

    journal, release = Journal(tmp_path / "e.jsonl"), threading.Event()
    slow = threading.Thread(target=journal.once, args=("step", "slow", lambda: release.wait(5) and {}))
    slow.start()
    assert journal.once("step", "fast", lambda: {"v": 1})["v"] == 1  # not blocked by "slow"
    release.set()
    slow.join()


def test_once_records_nothing_when_compute_raises(tmp_path):
    import pytest

    journal = Journal(tmp_path / "e.jsonl")
    with pytest.raises(ZeroDivisionError):
        journal.once("step", "k", lambda: {"v": 1 / 0})
    assert journal.get("step", "k") is None and journal._computing == {}
    assert journal.once("step", "k", lambda: {"v": 2})["v"] == 2


def test_lines_that_are_not_events_are_skipped_counted_and_their_work_redone(tmp_path):
    path = tmp_path / "events.jsonl"
    Journal(path).record("evaluation", "a", score=0.5)
    damage = [b'{"kind": "evaluation", "key": "b", "score": 1.0, "note": "\xff"}', b"7", b"[1, 2]", b'"text"',
              b'{"key": "c", "score": 1.0}', b'{"kind": 3}', b'{"kind": "evaluation", "key": 5}', b"[" * 100_000,
              b"1" * 5000, b"", b"   "]
    with path.open("ab") as f:
        f.write(b"\n".join(damage) + b"\n")
    again = Journal(path)
    assert again.skipped == 9  # blank lines are not damage
    assert [e["kind"] for e in again.events()] == ["evaluation"] and again.get("evaluation", "a")["score"] == 0.5
    assert again.once("evaluation", "b", lambda: {"score": 0.25})["score"] == 0.25  # recomputed, not trusted
    assert Journal(path).get("evaluation", "b")["score"] == 0.25
