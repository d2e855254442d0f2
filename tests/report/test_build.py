import re

from selftaught.report import build_report
from tests.analysis.factory import improver_run, make_run, self_improve_run
from tests.analysis.test_recorded import SELF_IMPROVE, TRANSFER
from tests.report.hostile import hostile_run


def test_the_page_is_self_contained_and_shows_every_section():
    page = build_report([SELF_IMPROVE, TRANSFER], generated="2026-11-28T00:00:00")
    html = page.html
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html
    assert "default-src 'none'; img-src data:" in html  # the browser itself refuses any fetch
    sources = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert sources and all(s.startswith(("data:image/png;base64,", "#")) for s in sources)
    assert len([s for s in sources if s.startswith("data:")]) == 7
    for heading in ("Runs", "Safety telemetry", "Strategies of the improvers", "Meta-utility per iteration",
                    "Candidates per iteration", "Transfer to held-out tasks (test split)", "Language-model usage",
                    "Lineage", "Best improvers", "Best programs"):
        assert f">{heading}</h" in html, heading
    assert "0.542 [0.479, 0.606]" in html  # û(I_0) on val with its interval
    assert "2/14 · 14.3% (CI 4.0-39.9%)" in html  # budget flags of the self-improve run
    assert "I_1=I_2 run 1" in html and 'class="badge best">best</span>' in html
    # What each candidate changed against its parent (analysis/edits.py): the recorded I_1 is I_0
    # with comments only; a step-2 candidate does not parse.
    assert "changed: nothing (the same syntax tree, comments and docstrings aside)" in html
    assert "changed: unparsable: SyntaxError: &#39;(&#39; was never closed" in html
    # The transfer of I_0 and I_1=I_2 is a leaderboard of two: rates with their intervals, per-task
    # differences, and the default question, since I_0 is the default improver's code.
    assert "Leaderboard: each improver against I_0" in html and "minus I_0, per task [95% CI]" in html
    assert "0/4 · 0.0% (CI 0.0-49.0%)" in html and "+0.000 (4 equal values)" in html
    assert "Would an improver replace I_0 (= paper) as the default" in html


def test_untrusted_text_is_escaped_everywhere(tmp_path):
    html = build_report([hostile_run(tmp_path)]).html
    assert "<script" not in html and "<img src=x" not in html and "<link" not in html
    assert "\x1b" not in html and "\u202e" not in html and "\x07" not in html
    assert "example.invalid" in html  # shown as text...
    assert 'href="http' not in html  # ...never as a link
    assert "&lt;/script&gt;" in html and "\\x1b[2J" in html and "\\u202e" in html
    html.encode("utf-8")  # the lone surrogate became text too


def test_an_improve_run_and_several_runs_side_by_side(tmp_path):
    improve = make_run(tmp_path, "20261124-100000-improve", "improve",
                       [improver_run(1, "imp", 0, 0.9, 0.8, kind="improve", task="fibonacci")],
                       settings={"task": "fibonacci"})
    a, b = self_improve_run(tmp_path, "a"), self_improve_run(tmp_path, "b")
    page = build_report([improve, a, b])
    assert "Improvement of fibonacci" in page.html and "(all self-improve runs)" in page.html
    assert [x.run.name for x in page.analyses] == ["20261124-100000-improve", "a", "b"]
    saved = page.save(tmp_path / "out" / "report.html")
    assert saved.read_text(encoding="utf-8") == page.html


def test_the_final_comparison_and_paired_transfer_differences_are_shown(tmp_path):
    import json

    run = self_improve_run(tmp_path)
    with (run / "events.jsonl").open("a") as f:
        f.write(json.dumps({"ts": 190, "kind": "final_comparison", "key": "x", "improver": "x", "seed": "y",
                            "split": "test", "a": {"mean": 0.6, "lo": 0.4, "hi": 0.8, "n": 4},
                            "b": {"mean": 0.4, "lo": 0.2, "hi": 0.6, "n": 4},
                            "difference": {"mean": 0.2, "lo": 0.05, "hi": 0.35, "n": 4}, "wins": 3, "losses": 0}) + "\n")
    html = build_report([run]).html
    assert "+0.200 [+0.050, +0.350]</b>" in html and "over 4 pairs (3 wins, 0 losses)" in html
    assert "I_T is better (the interval lies above 0)" in html
    assert "did not compare I_T with I_0" in build_report([self_improve_run(tmp_path, "no-final")]).html


def test_transfer_cells_show_the_paired_difference_to_the_first_improver(tmp_path):
    interval = {"mean": 0.4, "lo": 0.1, "hi": 0.7, "n": 5}
    row = {"ts": 1, "kind": "transfer_row", "key": "mqap", "seed_program": 0.8, "improvers": {"I_0": 0.3, "I_1": 0.4},
           "intervals": {"I_0": {**interval, "mean": 0.3}, "I_1": interval},
           "versus_first": {"I_1": {"mean": 0.1, "lo": -0.2, "hi": 0.4, "n": 5}}}
    html = build_report([make_run(tmp_path, "t", "transfer", [row], settings={"tasks": ["mqap"]})]).html
    assert "0.400 [0.100, 0.700]" in html and "vs I_0: +0.100 [-0.200, +0.400]" in html


def test_transfer_usage_rows_give_each_tasks_calls_and_the_span_of_its_runs(tmp_path):
    from tests.analysis.factory import usage

    events = [{"ts": 100, "kind": "improver_run_started", "run": "ia/parity/0"},
              {"ts": 100, "kind": "improver_run_started", "run": "ia/mqap/0"},
              improver_run(160, "ia", 0, 0.5, 0.5, task="mqap"), improver_run(400, "ia", 0, 0.5, 0.5, task="parity")]
    rows = [{"ts": 401 + i, "kind": "transfer_row", "key": task, "seed_program": 0.5, "improvers": {"I_0": 0.5}}
            for i, task in enumerate(("parity", "mqap"))]
    calls = [dict(usage(150, 11, 5), stream="s/mqap/0"), dict(usage(390, 22, 5), stream="s/parity/0")]
    html = build_report([make_run(tmp_path, "t", "transfer", events + rows, calls,
                                  settings={"tasks": ["parity", "mqap"], "run": {"n_tests": 1}})]).html
    table = html[html.index("Language-model usage"):html.index("<h3>Strategies")]
    text = " ".join(re.sub(r"<[^>]+>", " ", table[table.index("wall time"):]).split())
    # task, calls, responses, cached, prompt tokens, completion tokens, LM latency, wall time
    assert text == "wall time parity 1 3 0 22 5 0.0 min 5.0 min mqap 1 3 0 11 5 0.0 min 1.0 min"


def test_a_task_name_too_long_for_a_file_name_and_infinite_settings_still_report(tmp_path):
    from tests.analysis.factory import SETTINGS

    task = "t" * 300
    settings = {**SETTINGS, "tasks": [task], "run": {**SETTINGS["run"], "iterations": float("inf")}}
    run = make_run(tmp_path, "r", "self-improve", [improver_run(1, "imp", 0, 0.5, 0.4, task=task)], settings=settings)
    page = build_report([run])
    assert task in page.html and page.analyses[0].entry.status == "finished"
