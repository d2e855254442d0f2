import dataclasses
import json
from pathlib import Path

import pytest

from selftaught.config import Config, load
from selftaught.errors import ConfigError
from selftaught.lm.budget import Budget
from selftaught.lm.config import LMConfig
from selftaught.settings import PRESETS


def roundtrip(config: Config) -> Config:
    return Config.from_record(json.loads(json.dumps(config.record(task="x"), default=str)))


def test_each_value_is_stored_once():
    record = Config(LMConfig(max_tokens=512), PRESETS["small"]).record()
    assert "max_tokens" not in record["run"] and record["lm"]["max_tokens"] == 512
    assert "budget" not in record["lm"] and record["run"]["lm_calls"] == 2


def test_the_session_budget_is_derived_from_the_run():
    small = Config(LMConfig(), PRESETS["small"])  # 2 workers x 3 responses, 6 candidates
    assert small.session_budget() == Budget(2, 6)
    wide = Config(LMConfig(), dataclasses.replace(PRESETS["small"], workers=4, improver_slots=5))
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


def test_moved_changes_where_a_run_goes_and_nothing_else():
    config = Config(LMConfig(), PRESETS["small"])
    moved = config.moved("ray", "10.0.0.1:6379")
    assert (moved.run.executor, moved.run.ray_address) == ("ray", "10.0.0.1:6379")
    assert dataclasses.replace(moved.run, executor="local", ray_address="") == config.run


def test_load_layers_preset_toml_and_flags(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text('[lm]\nmax_tokens = 512\ntemperature = 1\n[run]\nn_tests = 3\n')
    config = load("small", toml, lm_flags={"temperature": None}, run_flags={"utility_budget": 9})
    assert (config.lm.max_tokens, config.lm.temperature) == (512, 1.0)
    assert (config.run.n_tests, config.run.utility_budget, config.run.lm_calls) == (3, 9, 2)


@pytest.mark.parametrize("text, problem, fix", [
    ("[lm]\nmax_calls = 3\n", "lm.max_calls is not a language-model setting", "lm_calls in the [run] table"),
    ("[run]\nmax_tokens = 3\n", "run.max_tokens is a language-model setting", "[lm] table"),
    ("[lm]\ntimeout_s = true\n", "lm.timeout_s = True is not a float", "give timeout_s a float"),
    ("[run]\nn_tests = true\n", "run.n_tests = True is not a int", "give n_tests a int"),
    ('[lm]\nmax_tokens = "100"\n', "lm.max_tokens = '100' is not a int", "(no quotes)"),
    ('[run]\nn_tests = "3"\n', "run.n_tests = '3' is not a int", "(no quotes)"),
    ("[run]\nworkerz = 3\n", "unknown setting run.workerz", "workers"),
])
def test_every_table_refuses_wrong_values_the_same_way(tmp_path, text, problem, fix):
    toml = tmp_path / "c.toml"
    toml.write_text(text)
    with pytest.raises(ConfigError) as info:
        load("small", toml)
    assert str(toml) in info.value.problem and problem in info.value.problem and fix in info.value.fix
