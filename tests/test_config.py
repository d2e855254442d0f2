import dataclasses
import json
from pathlib import Path

import pytest

from selftaught.config import Config, load
from selftaught.errors import ConfigError
from selftaught.lm.budget import Budget
from selftaught.lm.config import LMConfig
from selftaught.settings import PLACEMENTS, PRESETS, Placement


def roundtrip(config: Config) -> Config:
    return Config.from_record(json.loads(json.dumps(config.record(task="x"), default=str)))


def test_each_value_is_stored_once():
    record = Config(LMConfig(max_tokens=512), PRESETS["small"]).record()
    assert "max_tokens" not in record["run"] and record["lm"]["max_tokens"] == 512
    assert "budget" not in record["lm"] and record["run"]["lm_calls"] == 2


def test_the_session_budget_is_derived_from_the_run():
    small = Config(LMConfig(), PRESETS["small"], PLACEMENTS["small"])  # 2 workers x 3 responses, 6 candidates
    assert small.session_budget() == Budget(2, 6)
    wide = Config(LMConfig(), PRESETS["small"], Placement(workers=4, improver_slots=5))
    assert wide.session_budget() == Budget(2, 12)
    assert Config(LMConfig(), PRESETS["paper"]).session_budget() == Budget(4, 6)


def test_a_record_rebuilds_the_same_config():
    config = Config(LMConfig(model_path=Path("/m/x.gguf"), temperature=0.5, speculative="ngram"),
                    dataclasses.replace(PRESETS["small"], sample_seed="abc"), unsafe=True)
    assert roundtrip(config) == config


def test_older_records_still_load():
    old = {"run": {**dataclasses.asdict(PRESETS["small"]), "max_tokens": 768},
           "lm": {"backend": "local", "max_tokens": 768, "cache": "readwrite",
                  "budget": {"max_calls": 9, "max_responses_per_call": 9}},
           "unsafe_no_sandbox": False}
    config = Config.from_record(old)
    assert config.lm.max_tokens == 768 and config.run == PRESETS["small"]
    assert config.session_budget() == Budget(2, 6)  # the run's, not the recorded copy


def test_placed_changes_where_a_run_goes_and_nothing_else():
    config = Config(LMConfig(), PRESETS["small"], PLACEMENTS["small"])
    elsewhere = Placement(executor="ray", ray_address="10.0.0.1:6379")
    moved = config.placed(elsewhere)
    assert moved.placement == elsewhere and (moved.lm, moved.run, moved.unsafe) == (config.lm, config.run, False)


def test_the_recipe_and_the_placement_are_recorded_apart():
    record = Config(LMConfig(), PRESETS["small"], PLACEMENTS["small"]).record()
    assert record["placement"]["workers"] == 2 and "workers" not in record["run"]
    assert "sample_seed" in record["run"] and "sample_seed" not in record["placement"]


def test_runs_that_recorded_their_placement_with_the_recipe_still_load():
    # experiments 1-3's runs (the data's runs/) kept executor, workers and slots under "run"
    old = {"run": {**dataclasses.asdict(PRESETS["small"]), "workers": 2, "executor": "local", "ray_address": "",
                   "lm_replicas": "", "improver_slots": 3, "program_slots": 2},
           "lm": {"backend": "local", "cache": "readwrite"}, "unsafe_no_sandbox": False}
    config = Config.from_record(old)
    assert config.run == PRESETS["small"] and config.placement == PLACEMENTS["small"]


def test_load_layers_preset_toml_and_flags(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text('[lm]\nmax_tokens = 512\ntemperature = 1\n[run]\nn_tests = 3\n[placement]\nworkers = 3\n'
                    'improver_slots = 4\n')
    config = load("small", toml, lm_flags={"temperature": None}, run_flags={"utility_budget": 9},
                  placement_flags={"program_slots": 5, "workers": None})
    assert (config.lm.max_tokens, config.lm.temperature) == (512, 1.0)
    assert (config.run.n_tests, config.run.utility_budget, config.run.lm_calls) == (3, 9, 2)
    assert config.placement == Placement(workers=3, improver_slots=4, program_slots=5)


@pytest.mark.parametrize("text, problem, fix", [
    ("[lm]\nmax_calls = 3\n", "lm.max_calls is not a language-model setting", "lm_calls in the [run] table"),
    ("[run]\nmax_tokens = 3\n", "run.max_tokens is a setting of the [lm] table", "[lm] table"),
    ("[run]\nworkers = 3\n", "run.workers is a setting of the [placement] table", "[placement] table"),
    ("[placement]\nn_tests = 3\n", "placement.n_tests is a setting of the [run] table", "[run] table"),
    ('[placement]\nworkers = "3"\n', "placement.workers = '3' is not an integer", "(no quotes)"),
    ("[lm]\ntimeout_s = true\n", "lm.timeout_s = True is not a number", "give timeout_s a number"),
    ("[run]\nn_tests = true\n", "run.n_tests = True is not an integer", "give n_tests an integer"),
    ('[lm]\nmax_tokens = "100"\n', "lm.max_tokens = '100' is not an integer", "(no quotes)"),
    ('[run]\nn_tests = "3"\n', "run.n_tests = '3' is not an integer", "(no quotes)"),
    ('[run]\naccept = "best"\n', "run.accept = 'best' is not one of 'paper', 'incumbent', 'paired'", "give accept one of"),
    ('[placement]\nexecutor = "slurm"\n', "placement.executor = 'slurm' is not one of 'local', 'ray'", "give executor"),
    ('[lm]\ncache = "sometimes"\n', "lm.cache = 'sometimes' is not one of 'off', 'readwrite', 'replay'", "give cache"),
    ('[run]\npreset = "paper"\n', "run.preset cannot be set here", "--preset"),
    ("[placement]\nlm_replicas = 2\n", "placement.lm_replicas = 2 is not a string", "a string (in quotes)"),
    ("[run]\nworkerz = 3\n", "unknown setting run.workerz", "did you mean placement.workers?"),
    ("[run]\nn_test = 3\n", "unknown setting run.n_test", "did you mean run.n_tests?"),
    ("n_tests = 3\n", "n_tests is outside any table; it is a setting of the [run] table", "under the [run] header"),
    ("max_tokens = 3\n[run]\n", "max_tokens is outside any table; it is a setting of the [lm] table", "[lm] header"),
    ("temperature = 0.5\n[run]\n", "temperature is outside any table; it is a setting of the [lm] table",
     "[lm] header"),
    ("[runs]\nn_tests = 3\n", "unknown table [runs]", "did you mean [run]?"),
    ("[placment]\nworkers = 3\n", "unknown table [placment]", "did you mean [placement]?"),
    ("foo = 1\n", "unknown setting foo outside any table", "[lm], [placement], [run]"),
    ("run = 3\n", "[run] must be a table", "[run] header"),
    ("lm = 3\n", "[lm] must be a table", "[lm] header"),
    ("[run]\nimprover_time_limit_s = nan\n", "run.improver_time_limit_s = nan is not a finite number",
     "give improver_time_limit_s a finite number"),
    ("[run]\nimprover_time_limit_s = inf\n", "run.improver_time_limit_s = inf is not a finite number", "finite"),
    ("[lm]\ntemperature = nan\n", "lm.temperature = nan is not a finite number", "give temperature a finite"),
    ("[lm]\ntimeout_s = inf\n", "lm.timeout_s = inf is not a finite number", "give timeout_s a finite"),
    ("[lm]\nstartup_timeout_s = -inf\n", "lm.startup_timeout_s = -inf is not a finite number", "finite"),
])
def test_every_table_refuses_wrong_values_the_same_way(tmp_path, text, problem, fix):
    toml = tmp_path / "c.toml"
    toml.write_text(text)
    with pytest.raises(ConfigError) as info:
        load("small", toml)
    assert str(toml) in info.value.problem and problem in info.value.problem and fix in info.value.fix


def test_a_resumed_run_keeps_its_placement_but_what_the_resuming_command_was_given(tmp_path):
    recorded = Config(LMConfig(), PRESETS["paper"], Placement(workers=4, improver_slots=5, program_slots=3))
    plain = load("small")  # no placement flags: the small preset's placement is not "given"
    assert plain.placement_given == frozenset()
    assert roundtrip(recorded).resumed_by(plain).placement == recorded.placement
    moved = load("small", placement_flags={"executor": "ray", "ray_address": "10.0.0.1:6379", "workers": None})
    assert moved.placement_given == {"executor", "ray_address"}
    assert roundtrip(recorded).resumed_by(moved).placement == Placement(
        executor="ray", ray_address="10.0.0.1:6379", workers=4, improver_slots=5, program_slots=3)
    toml = tmp_path / "c.toml"
    toml.write_text("[placement]\nprogram_slots = 6\n")
    assert roundtrip(recorded).resumed_by(load("small", toml)).placement.program_slots == 6


def test_open_run_journals_where_a_resumed_run_continues(tmp_path):
    from selftaught.api import open_run

    config = load("paper", placement_flags={"workers": 3, "improver_slots": 4})
    run, _ = open_run("improve", config, tmp_path, task="fibonacci")
    run.close()
    again, resumed = open_run("improve", load("small"), tmp_path, resume=run.path)
    assert resumed.placement == config.placement and resumed.run == config.run
    (event,) = [e for e in again.journal.events() if e["kind"] == "resumed"]
    assert event["placement"]["workers"] == 3


@pytest.mark.parametrize("damage, named", [
    ({"run": {"iterations": float("inf")}}, r"run.iterations = inf is not an integer"),
    ({"run": {"n_tests": "3"}}, r"run.n_tests = '3' is not an integer"),
    ({"run": {"itrations": 2}}, r"itrations"),
    ({"placement": {"workers": "2"}}, r"placement.workers = '2' is not an integer"),
    ({"placement": []}, r"has no placement settings table"),
    ({"run": None}, r"has no run settings table"),
    ({"unsafe_no_sandbox": "false"}, r"unsafe_no_sandbox = 'false' is not true or false"),
])
def test_damaged_recorded_settings_are_named_not_tracebacks(damage, named):
    record = json.loads(json.dumps(load("small").record(), default=str))
    for table, values in damage.items():
        record[table] = {**record[table], **values} if isinstance(values, dict) and table != "unsafe_no_sandbox" \
            else values
    with pytest.raises(ConfigError, match=rf"the run's config.json.*{named}") as info:
        Config.from_record(record)
    assert info.value.fix


def test_a_failed_resume_releases_the_run(tmp_path):
    from selftaught.api import open_run

    run, _ = open_run("improve", load("small"), tmp_path, task="fibonacci")
    run.close()
    config = json.loads((run.path / "config.json").read_text())
    config["settings"]["run"]["iterations"] = "two"
    (run.path / "config.json").write_text(json.dumps(config))
    failures = []  # kept: a traceback holds the run's RunDir, so only an explicit close lets go of it
    for _ in range(2):  # the second attempt meets the same error, not "in use"
        with pytest.raises(ConfigError, match="run.iterations") as info:
            open_run("improve", load("small"), tmp_path, resume=run.path)
        failures.append(info)


def test_a_resume_warns_of_a_lost_journal_before_journalling_its_resume(tmp_path):
    from selftaught.api import open_run

    run, _ = open_run("improve", load("small"), tmp_path, task="fibonacci")
    run.close()
    (run.path / "usage.jsonl").write_text('{"prompt_tokens": 5, "completion_tokens": 9}\n')
    again, _ = open_run("improve", load("small"), tmp_path, resume=run.path)
    with again:
        assert [e["kind"] for e in again.journal.events()] == ["resumed"]
        assert len(again.damage) == 1 and "events.jsonl is missing or empty" in again.damage[0]


def test_a_run_setting_in_the_lm_table_is_named_with_its_table(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text("[lm]\nn_tests = 3\n")
    with pytest.raises(ConfigError, match=r"lm.n_tests is a setting of the \[run\] table"):
        load("small", toml)
    toml.write_text("[lm]\nworkers = 3\n")
    with pytest.raises(ConfigError, match=r"lm.workers is a setting of the \[placement\] table"):
        load("small", toml)


def test_a_command_that_reads_only_lm_settings_checks_the_whole_file_too(tmp_path):
    from selftaught.config import ALL_TABLES
    from selftaught.lm.config import from_sources

    toml = tmp_path / "c.toml"
    toml.write_text("n_tests = 3\n[lm]\nmax_tokens = 10\n")
    with pytest.raises(ConfigError, match=r"n_tests is outside any table; it is a setting of the \[run\] table"):
        from_sources(toml, ALL_TABLES)


@pytest.mark.parametrize("flags", [{"temperature": float("nan")}, {"timeout_s": float("inf")}])
def test_non_finite_lm_flags_are_refused(flags):
    with pytest.raises(ConfigError, match="is not a finite number"):
        load("small", lm_flags=flags)


def test_an_unreadable_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError) as info:
        load("small", tmp_path)  # a directory
    assert f"cannot read config file {tmp_path}" in info.value.problem and "--config" in info.value.fix
    toml = tmp_path / "c.toml"
    toml.write_bytes("[run]\n# caf\u00e9\nn_tests = 3\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=f"config file {toml} is not UTF-8 text"):
        load("small", toml)
