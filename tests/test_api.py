"""The paper's verbs from the package root, replayed from the recorded cassettes (the same runs
tests/test_stop_e2e.py drives through the CLI): the library gives the CLI's results, and reads
like the paper."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from selftaught.errors import ConfigError

from .test_stop_e2e import CASSETTE, SECRET

# tests/cassettes/record.sh's budgets, by field name.
RECORDED = dict(lm_calls=1, lm_responses=2, utility_budget=2, n_tests=1, meta_budget=2, max_tokens=900,
                sample_seed="stop-e2e", accept="paper", workers=1, improver_slots=2, final_runs=0,
                improver_time_limit_s=3000.0, backend="replay")


@pytest.fixture
def cassette(tmp_path) -> Path:
    copy = tmp_path / "cassette.sqlite"
    shutil.copy(CASSETTE, copy)  # replay still opens the file: keep the committed one pristine
    return copy


def test_the_verbs_are_the_package_roots():
    import selftaught
    from selftaught import improve, self_improve, transfer

    assert [f.__module__ for f in (improve, self_improve, transfer)] == ["selftaught.api"] * 3
    assert {"improve", "self_improve", "transfer", "open_run", "configure"} <= set(selftaught.__all__)


def test_self_improve_and_transfer_from_python_give_the_clis_results(tmp_path, cassette):
    from selftaught import self_improve, transfer

    result = self_improve(["fibonacci"], iterations=1, runs_dir=tmp_path / "runs", instance_secret=SECRET,
                          cache_path=cassette, **RECORDED)
    assert [it.t for it in result.iterations] == [0, 1] and not result.iterations[1].accepted
    assert [(it.val.mean, it.test.mean) for it in result.iterations] == [(0.0, 0.0), (0.0, 0.0)]
    assert result.run_dir.parent == tmp_path / "runs" and (result.run_dir / "improver_1.py").is_file()
    assert set(result.seed_programs) == {"fibonacci"} and result.settings.sample_seed == "stop-e2e"

    table = transfer([Path(__file__).parent / "cassettes" / "improvers"], tasks=["parity"],
                     runs_dir=tmp_path / "runs", instance_secret=SECRET, cache_path=cassette, **RECORDED)
    (row,) = table.rows
    assert table.labels == ["I_0", "I_1"] and round(row.seed_program, 3) == 0.488  # as the CLI's test
    assert json.loads((table.run_dir / "transfer.json").read_text())["rows"][0]["task"] == "parity"


def test_a_library_caller_gets_a_fresh_sample_seed_as_the_cli_does():
    from selftaught import configure

    first, second = configure(backend="replay"), configure(backend="replay")
    assert first.run.sample_seed and first.run.sample_seed != second.run.sample_seed
    assert configure(sample_seed="mine").run.sample_seed == "mine"


def test_bad_input_names_the_setting_and_the_fix(tmp_path):
    from selftaught import configure, improve

    with pytest.raises(ConfigError, match="unknown setting 'lm_call'") as error:
        configure(lm_call=3)
    assert "lm_calls" in error.value.fix
    with pytest.raises(ConfigError, match="no task given"):
        improve(runs_dir=tmp_path)
    with pytest.raises(ConfigError, match="no library improver 'beem'") as error:
        improve("fibonacci", "beem", runs_dir=tmp_path, backend="replay")
    assert error.value.fix.startswith("did you mean 'beam'? use one of: paper, ")
    assert not (tmp_path / "runs").exists() and not list(tmp_path.iterdir())  # nothing created on bad input


def test_the_one_liner_reads_like_the_paper(tmp_path, cassette):
    """`python -c "from selftaught import transfer; print(transfer(...).markdown())"`, replayed
    (the cassettes hold no `improve` run, so the one-liner is the transfer table's)."""
    code = ("from selftaught import transfer; "
            f"t = transfer([{str(Path(__file__).parent / 'cassettes' / 'improvers')!r}], tasks=['parity'], "
            f"runs_dir={str(tmp_path / 'runs')!r}, instance_secret={str(SECRET)!r}, cache_path={str(cassette)!r}, "
            + ", ".join(f"{k}={v!r}" for k, v in RECORDED.items()) + "); print(t.markdown())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| task | u(s) | û(I_0) | û(I_1) |" in done.stdout and "| parity |" in done.stdout


def test_keyword_settings_are_checked_like_a_config_file():
    from selftaught import configure

    with pytest.raises(ConfigError, match="run.n_tests = '3' is not an integer") as error:
        configure(n_tests="3")
    assert "no quotes" in error.value.fix
    assert configure(workers=1, improver_slots=2, max_tokens=512).placement.workers == 1
    with pytest.raises(ConfigError, match="unknown setting 'n_test'"):
        configure(n_test=3)


def test_improve_without_an_improver_records_the_default(tmp_path, monkeypatch):
    """`improve(task)` uses improvers.DEFAULT_IMPROVER (experiment 3's decision may change it);
    the run records it before the model is needed (here the session never opens)."""
    from selftaught import api, improve
    from selftaught.ids import program_id
    from selftaught.improvers import DEFAULT_IMPROVER, library_improver

    def no_session(*args, **kwargs):
        raise ConfigError("stopped before the model")

    monkeypatch.setattr(api, "open_session", no_session)
    recorded = tmp_path / "recorded.sqlite"  # a replay cache must exist; this one is never opened
    recorded.touch()
    with pytest.raises(ConfigError, match="stopped before the model"):
        improve("fibonacci", runs_dir=tmp_path / "runs", backend="replay", cache_path=recorded)
    (config,) = (tmp_path / "runs").glob("*-improve/config.json")
    assert json.loads(config.read_text())["settings"]["improver"] == program_id(library_improver(DEFAULT_IMPROVER))


def test_a_missing_replay_cache_fails_before_a_run_directory_with_a_fix_that_works(tmp_path):
    """The replay backend always replays, so `--cache readwrite` is no fix for it."""
    from selftaught import improve

    with pytest.raises(ConfigError, match="replay cache .*absent.sqlite does not exist") as error:
        improve("fibonacci", runs_dir=tmp_path / "runs", backend="replay", cache="readwrite",
                cache_path=tmp_path / "absent.sqlite")
    assert "with a model backend (--backend local or openai) and --cache readwrite" in error.value.fix
    assert "--cache-path" in error.value.fix
    assert not (tmp_path / "runs").exists()


def _task_dir(path: Path, name: str) -> str:
    from selftaught.tasks.loader import builtin_dir

    shutil.copytree(builtin_dir() / "fibonacci", path, ignore=shutil.ignore_patterns("__pycache__"))
    meta = path / "task.toml"
    meta.write_text(meta.read_text().replace('name = "fibonacci"', f'name = "{name}"'))
    return str(path)


def test_tasks_of_one_name_are_refused_before_a_run_directory(tmp_path):
    """Scores are memoized by task name: two tasks named alike would share them."""
    from selftaught import self_improve, transfer

    base, dup = _task_dir(tmp_path / "base", "base"), _task_dir(tmp_path / "dup", "base")
    copy = _task_dir(tmp_path / "copy", "fibonacci")
    settings = dict(runs_dir=tmp_path / "runs", backend="replay", cache_path=tmp_path / "absent.sqlite")
    with pytest.raises(ConfigError, match=f"tasks {base} and {dup} are both named 'base'") as error:
        self_improve([base, dup], **settings)
    assert error.value.fix == f"rename one: change `name` in {dup}/task.toml"
    with pytest.raises(ConfigError, match="both named 'base'"):
        transfer(["paper"], tasks=[base, dup], **settings)
    with pytest.raises(ConfigError, match="both named 'fibonacci'") as error:  # a built-in's name
        transfer(["paper"], tasks=[copy, "fibonacci"], **settings)
    assert error.value.fix == f"rename one: change `name` in {copy}/task.toml"  # not the built-in's
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("twice", [["fibonacci", "fibonacci"], ["{base}", "{base}/."]])
def test_a_task_given_twice_is_refused_before_a_run_directory(tmp_path, twice):
    from selftaught import self_improve, transfer

    base = _task_dir(tmp_path / "base", "base")
    tasks = [t.format(base=base) for t in twice]
    settings = dict(runs_dir=tmp_path / "runs", backend="replay", cache_path=tmp_path / "absent.sqlite")
    for verb in (lambda: self_improve(tasks, **settings), lambda: transfer(["paper"], tasks=tasks, **settings)):
        with pytest.raises(ConfigError, match="is given twice") as error:
            verb()
        assert error.value.fix == "give each task once"
    assert not (tmp_path / "runs").exists()


def test_a_resume_refuses_a_changed_seed_improver_and_releases_the_run(tmp_path, monkeypatch):
    """A program file edited after the run saved it would become I_0 (and improver_0.py) unnoticed."""
    from selftaught import api, self_improve

    def no_session(*args, **kwargs):
        raise ConfigError("stopped before the model")

    monkeypatch.setattr(api, "open_session", no_session)
    recorded = tmp_path / "recorded.sqlite"
    recorded.touch()
    with pytest.raises(ConfigError, match="stopped before the model"):
        self_improve(["fibonacci"], runs_dir=tmp_path / "runs", backend="replay", cache_path=recorded)
    (run,) = (tmp_path / "runs").iterdir()
    seed = run / "programs" / f"{json.loads((run / 'config.json').read_text())['settings']['seed_improver']}.py"
    original = seed.read_text()
    seed.write_text(original + "\nimport os\n")
    failures = []  # kept: a traceback holds the run's RunDir, so only an explicit close lets go of it
    for _ in range(2):  # a failed resume lets go of the run: the second meets the same error, not "in use"
        with pytest.raises(ConfigError, match="the seed improver, was changed after the run saved it") as info:
            self_improve(resume=run)
        failures.append(info)
    assert not (run / "improver_0.py").exists()
    seed.write_text(original)
    with pytest.raises(ConfigError, match="stopped before the model"):
        self_improve(resume=run)
