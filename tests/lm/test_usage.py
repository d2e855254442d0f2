import json

from selftaught.lm.usage import CallRecord, UsageLog


def test_records_are_appended_as_json_lines_and_totalled(tmp_path):
    log = UsageLog(tmp_path / "run" / "usage.jsonl")
    for i in range(2):
        log.record(CallRecord("prompt", "local", "m", 2, 1, 10 + i, 20, 0.5, 0.7, 64))
    lines = [json.loads(l) for l in (tmp_path / "run" / "usage.jsonl").read_text().splitlines()]
    assert [l["prompt_tokens"] for l in lines] == [10, 11]
    assert lines[0]["model"] == "m" and lines[0]["n_cached"] == 1 and "ts" in lines[0]
    assert (log.calls, log.prompt_tokens, log.completion_tokens) == (2, 21, 40)
