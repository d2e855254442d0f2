"""`selftaught report` and `selftaught runs` as a user meets them."""

import json
import os
import subprocess
import sys

import pytest

from tests.analysis.test_recorded import SELF_IMPROVE, TRANSFER


def selftaught(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "selftaught", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd, env={**os.environ, "COLUMNS": "200"})


@pytest.mark.parametrize("command", ["report", "runs"])
def test_help_explains_with_examples(command):
    proc = selftaught(command, "--help")
    assert proc.returncode == 0 and "Example" in proc.stdout and f"selftaught {command}" in proc.stdout


def test_report_writes_one_page_for_several_runs(tmp_path):
    out = tmp_path / "page.html"
    proc = selftaught("report", str(SELF_IMPROVE), str(TRANSFER), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {out}" in proc.stderr and "2 runs" in proc.stderr
    html = out.read_text(encoding="utf-8")
    assert SELF_IMPROVE.name in html and "Transfer to held-out tasks" in html


def test_report_without_out_writes_into_the_run_or_the_current_directory(tmp_path):
    import shutil

    run = tmp_path / SELF_IMPROVE.name
    shutil.copytree(SELF_IMPROVE, run)
    assert selftaught("report", str(run)).returncode == 0 and (run / "report.html").is_file()
    assert selftaught("report", str(run), str(run), cwd=tmp_path).returncode == 0
    assert (tmp_path / "report.html").is_file()


def test_report_of_a_directory_that_is_no_run_says_how_to_fix_it(tmp_path):
    proc = selftaught("report", str(tmp_path))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "error:" in proc.stderr and "is not a run directory" in proc.stderr and "fix:" in proc.stderr


def test_runs_lists_the_fixture_runs(tmp_path):
    import shutil

    for run in (SELF_IMPROVE, TRANSFER):
        shutil.copytree(run, tmp_path / run.name)
    proc = selftaught("runs", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    for text in (SELF_IMPROVE.name, TRANSFER.name, "finished", "0.542 (û val of I_0)"):
        assert text in proc.stdout
    lines = [json.loads(line) for line in selftaught("runs", str(tmp_path), "--json").stdout.splitlines()]
    assert [(r["kind"], r["status"], r["tasks"][0]) for r in lines] == [
        ("self-improve", "finished", "parity"), ("transfer", "finished", "parity")]


def test_runs_in_an_empty_directory_says_how_to_start(tmp_path):
    proc = selftaught("runs", str(tmp_path))
    assert proc.returncode == 0 and "no runs in" in proc.stderr


def test_runs_lists_a_damaged_run_with_its_reason_in_the_table_and_the_json(tmp_path):
    import shutil

    shutil.copytree(SELF_IMPROVE, tmp_path / SELF_IMPROVE.name)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{")
    proc = selftaught("runs", str(tmp_path))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert SELF_IMPROVE.name in proc.stdout and "broken" in proc.stdout and "damaged" in proc.stdout
    assert "JSON" in proc.stdout  # the reason, wrapped in its cell
    lines = [json.loads(line) for line in selftaught("runs", str(tmp_path), "--json").stdout.splitlines()]
    assert [(r["path"].rsplit("/", 1)[1], r["status"]) for r in lines] == [
        (SELF_IMPROVE.name, "finished"), ("broken", "damaged")]
    assert lines[1]["error"].startswith(f"{tmp_path / 'broken' / 'config.json'} is not valid JSON")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
@pytest.mark.parametrize("name", ["config.json", "events.jsonl", "usage.jsonl"])
def test_unreadable_run_files_are_errors_with_a_fix_not_tracebacks(tmp_path, name):
    import shutil

    run = tmp_path / SELF_IMPROVE.name
    shutil.copytree(SELF_IMPROVE, run)
    (run / name).chmod(0)
    for args in (["show", str(run)], ["report", str(run), "--out", str(tmp_path / "r.html")]):
        proc = selftaught(*args)
        assert proc.returncode != 0 and "Traceback" not in proc.stderr, args
        assert f"cannot read {run / name}" in proc.stderr and "fix:" in proc.stderr
    proc = selftaught("runs", str(tmp_path))
    assert proc.returncode == 0 and "damaged" in proc.stdout and "Traceback" not in proc.stderr
