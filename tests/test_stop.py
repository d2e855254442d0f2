"""The Python API: `improve_task` never hands back a program worse than the seed; transfer
returns a report that saves itself. Real sandbox, improvers that need no model."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from selftaught.work import open_pools
from selftaught.lm.budget import Budget
from selftaught.lm.cache import CacheMode, ResponseCache
from selftaught.lm.client import LanguageModelClient
from selftaught.lm.usage import UsageLog
from selftaught.runs.rundir import RunDir
from selftaught.session import Session
from selftaught.settings import PRESETS
from selftaught.errors import ConfigError
from selftaught.stop import improve_task, labelled_sources, load_improver, transfer_improvers
from selftaught.tasks.loader import load_task
from selftaught.utility import ScoreMemo

from .fakes import NoModel

FAST_FIB = "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n"


def returning(program: str) -> str:
    return f"def improve_algorithm(initial_solution, utility, language_model):\n    return {program!r}\n"


@pytest.fixture(scope="module")
def pools():
    with open_pools() as pools:
        yield pools


def session(tmp_path, pools, command="improve") -> Session:
    run = RunDir.create(tmp_path, command, {})
    lm = LanguageModelClient(NoModel(), ResponseCache(None, CacheMode.OFF), UsageLog(None), Budget(1, 1), 16)
    settings = dataclasses.replace(PRESETS["small"], n_tests=2, improver_time_limit_s=60.0)
    return Session(run, settings, pools, lm, ScoreMemo(run.journal))


def test_a_worse_output_is_kept_in_the_run_but_the_seed_is_handed_back(tmp_path, pools):
    s = session(tmp_path, pools)
    report = improve_task(s, load_task("fibonacci"), returning("def fib(n):\n    return 0\n"))
    assert report.status == "ok" and report.output_val == 0.0 and report.seed_val > 0.5
    assert not report.improved
    assert report.verdict.startswith("no improvement found: the improver's output scored 0.000 on val")
    assert (s.run.path / "improved_program.py").read_text() == load_task("fibonacci").seed_program
    assert (s.run.path / "output_program.py").read_text() == "def fib(n):\n    return 0\n"


def test_a_better_output_is_handed_back(tmp_path, pools):
    s = session(tmp_path, pools)
    report = improve_task(s, load_task("fibonacci"), returning(FAST_FIB))
    assert report.improved and report.output_val > report.seed_val
    assert (s.run.path / "improved_program.py").read_text() == FAST_FIB


def test_a_failed_improver_run_hands_back_the_seed(tmp_path, pools):
    s = session(tmp_path, pools)
    report = improve_task(s, load_task("fibonacci"), "def improve_algorithm(a, b, c):\n    raise ValueError\n")
    assert report.output is None and report.verdict.startswith("no improvement: the improver run failed")
    assert (s.run.path / "improved_program.py").read_text() == load_task("fibonacci").seed_program


def test_transfer_returns_a_report_with_paired_differences_and_saves_it(tmp_path, pools):
    s = session(tmp_path, pools, "transfer")
    fib = load_task("fibonacci")
    report = transfer_improvers(s, [("I_0", returning("def fib(n):\n    return 0\n")), ("I_1", returning(FAST_FIB))],
                                [fib])
    (row,) = report.rows
    assert row.improvers["I_0"].mean == 0.0 and row.improvers["I_1"].n == 2
    assert row.versus_first["I_1"].mean == pytest.approx(row.improvers["I_1"].mean)
    saved = json.loads((s.run.path / "transfer.json").read_text())
    assert saved["labels"] == ["I_0", "I_1"] and saved["rows"][0]["improvers"]["I_0"] == 0.0
    assert "| fibonacci |" in (s.run.path / "transfer.md").read_text()


def test_transfer_sources_are_labelled_by_run_and_file_name(tmp_path):
    for run, texts in (("run-a", ["a0", "a1"]), ("run-b", ["b0"])):
        (tmp_path / run).mkdir()
        for t, text in enumerate(texts):
            (tmp_path / run / f"improver_{t}.py").write_text(text)
    k = "def improve_algorithm(initial_solution, utility, language_model):\n    return initial_solution\n"
    (tmp_path / "keep_best.py").write_text(k)
    assert labelled_sources([tmp_path / "run-a"]) == [("I_0", "a0"), ("I_1", "a1")]
    assert labelled_sources([tmp_path / "keep_best.py", tmp_path / "run-a", tmp_path / "run-b"]) == [
        ("keep_best", k), ("run-a:I_0", "a0"), ("run-a:I_1", "a1"), ("run-b:I_0", "b0")]
    (tmp_path / "I_0.py").write_text(k)
    with pytest.raises(ConfigError, match="both be labelled 'I_0'"):
        labelled_sources([tmp_path / "I_0.py", tmp_path / "run-a"])
    with pytest.raises(ConfigError, match="both be labelled 'run-a:I_0'"):
        labelled_sources([tmp_path / "run-a", tmp_path / "run-a"])
    (tmp_path / "transfer.json").write_text('{"rows": [')
    with pytest.raises(ConfigError, match="transfer.json is not Python"):
        labelled_sources([tmp_path / "transfer.json"])
    (tmp_path / "compiled.py").write_bytes(b"\xff\x00")
    with pytest.raises(ConfigError, match="is not UTF-8"):
        labelled_sources([tmp_path / "compiled.py"])


def test_library_names_in_any_case_and_names_that_mean_two_things(tmp_path, monkeypatch):
    from selftaught.improvers import library_improver

    monkeypatch.chdir(tmp_path)
    assert labelled_sources([Path("Beam"), Path("PAPER")]) == [("beam", library_improver("beam")),
                                                              ("paper", library_improver("paper"))]
    with pytest.raises(ConfigError, match="give its name without .py: keep_best"):
        load_improver(Path("keep_best.py"))  # no such file here, but a library improver of that name
    Path("paper").write_text("x = 1\n")
    with pytest.raises(ConfigError, match="paper is both a library improver and a file") as error:
        load_improver(Path("paper"))
    assert str(tmp_path / "paper") in error.value.fix
    Path("beam").mkdir()
    with pytest.raises(ConfigError, match="beam is both a library improver and a directory"):
        load_improver(Path("beam"))
    Path("mine.py").write_text("def improve(initial_solution, utility, language_model):\n    return initial_solution\n")
    with pytest.raises(ConfigError, match="mine.py defines no improve_algorithm when it runs"):
        load_improver(Path("mine.py"))
    Path("coroutine.py").write_text("async def improve_algorithm(initial_solution, utility, language_model):\n"
                                    "    return initial_solution\n")
    with pytest.raises(ConfigError, match="with async def"):
        load_improver(Path("coroutine.py"))
    for bound in ("improve_algorithm = lambda initial_solution, utility, language_model: initial_solution\n",
                  "try:\n    from helpers import extract_code\nexcept ImportError:\n    pass\n"
                  "if True:\n    def improve_algorithm(initial_solution, utility, language_model):\n"
                  "        return initial_solution\n"):
        Path("bound.py").write_text(bound)
        assert load_improver(Path("bound.py")) == bound  # bound some other way: what the sandbox accepts
    with pytest.raises(ConfigError, match="cannot read improver missing.py") as error:
        load_improver(Path("missing.py"))
    assert "library improver's name" in error.value.fix


def test_a_resumed_run_uses_the_recorded_lm_config_not_the_environment(monkeypatch):
    from selftaught.config import Config
    from selftaught.lm.config import from_sources

    recorded = json.loads(json.dumps(Config(from_sources(None, backend="local"), PRESETS["small"]).record()))
    monkeypatch.setenv("OPENAI_MODEL", "gpt-4o")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://elsewhere/v1")
    config = Config.from_record(recorded).lm
    assert (config.model, config.base_url, config.backend) == (None, None, "local")


def test_improve_goes_through_the_sessions_executor(tmp_path, pools):
    """So that `improve --executor ray` runs its improver on the cluster, like self-improve."""
    from selftaught.executors import SerialExecutor

    class Recording(SerialExecutor):
        def perform(self, session, specs, tasks):
            self.seen = [(spec.kind, spec.task, sorted(tasks)) for spec in specs]
            return super().perform(session, specs, tasks)

    executor = Recording()
    s = dataclasses.replace(session(tmp_path, pools), executor=executor)
    report = improve_task(s, load_task("fibonacci"), returning("def fib(n):\n    return 0\n"))
    assert executor.seen == [("improve", "fibonacci", ["fibonacci"])] and report.output_val == 0.0
