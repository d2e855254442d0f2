from pathlib import Path

import pytest

from selftaught.errors import ConfigError
from selftaught.lm.cache import CacheMode
from selftaught.lm.config import LMConfig, from_sources


def test_defaults_are_the_papers_settings():
    cfg = LMConfig()
    assert (cfg.backend, cfg.max_tokens, cfg.temperature) == ("local", 1024, 0.7)
    assert not hasattr(cfg, "budget")  # the LM budget is a run's (Config.session_budget), not the LM layer's
    assert cfg.model_name == "qwen2.5-coder-1.5b-instruct-q4_k_m"


def test_toml_then_environment_then_flags(tmp_path, monkeypatch):
    toml = tmp_path / "lm.toml"
    toml.write_text('[lm]\nbackend = "openai"\nmodel = "from-toml"\ncache = "off"\n'
                    'base_url = "http://toml/v1"\n')
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env/v1")
    cfg = from_sources(toml, model="from-flag", max_tokens=None)
    assert cfg.model == "from-flag"
    assert cfg.base_url == "http://env/v1"
    assert cfg.cache is CacheMode.OFF and cfg.max_tokens == 1024


@pytest.mark.parametrize(
    "overrides, problem, fix",
    [
        ({"max_tokens": 0}, "max_tokens 0 is out of range", "--max-tokens between 1"),
        ({"max_tokens": 10**6}, "out of range", "--max-tokens"),
        ({"temperature": 3.0}, "temperature 3.0 is out of range", "between 0 and 2"),
        ({"temperature": -1}, "out of range", "temperature"),
        ({"max_calls": 2}, "lm.max_calls is not a language-model setting", "lm_calls in the [run] table"),
        ({"max_responses_per_call": 2}, "not a language-model setting", "lm_responses in the [run] table"),
        ({"backend": "gpt"}, "unknown backend 'gpt'", "local, openai, replay"),
        ({"backend": "openai"}, "needs a model name", "--model"),
        ({"cache": "maybe"}, "lm.cache = 'maybe' is not one of 'off', 'readwrite', 'replay'", "give cache one of"),
        ({"max_tokens": 4096}, "no room for the prompt", "--ctx-per-slot"),
    ],
)
def test_bad_settings_name_the_problem_and_the_fix(overrides, problem, fix, monkeypatch):
    monkeypatch.delenv("OPENAI_MODEL", raising=False)
    with pytest.raises(ConfigError) as info:
        from_sources(None, **overrides)
    assert problem in info.value.problem
    assert fix in info.value.fix


def test_unknown_toml_key_names_the_file_and_key(tmp_path):
    toml = tmp_path / "lm.toml"
    toml.write_text("[lm]\nmax_tokenz = 5\n")
    with pytest.raises(ConfigError) as info:
        from_sources(toml)
    assert str(toml) in info.value.problem and "lm.max_tokenz" in info.value.problem
    assert "max_tokens" in info.value.fix


@pytest.mark.parametrize("line, problem", [
    ('max_tokens = "many"', "lm.max_tokens = 'many' is not an integer"),
    ('max_tokens = "100"', "lm.max_tokens = '100' is not an integer"),  # no silent conversion
    ("timeout_s = true", "lm.timeout_s = True is not a number"),  # a bool is not 1.0 s
    ("threads = 2.5", "lm.threads = 2.5 is not an integer"),
    ("model = 3", "lm.model = 3 is not a string"),
    ("model_path = 3", "lm.model_path = 3 is not a path"),
])
def test_wrong_types_in_toml_are_refused_not_converted(tmp_path, line, problem):
    toml = tmp_path / "lm.toml"
    toml.write_text(f"[lm]\n{line}\n")
    with pytest.raises(ConfigError, match=problem.replace("(", r"\(")) as info:
        from_sources(toml)
    assert str(toml) in str(info.value)


def test_numbers_of_the_right_type_load(tmp_path):
    toml = tmp_path / "lm.toml"
    toml.write_text("[lm]\ntimeout_s = 30\nthreads = 2\nmax_tokens = 100\n")
    config = from_sources(toml)
    assert (config.timeout_s, config.threads, config.max_tokens) == (30.0, 2, 100)


def test_broken_and_missing_toml(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[lm\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        from_sources(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        from_sources(tmp_path / "absent.toml")


def test_openai_backend_needs_a_key(monkeypatch):
    monkeypatch.delenv("MY_KEY", raising=False)
    cfg = LMConfig(backend="openai", model="m", api_key_env="MY_KEY")
    with pytest.raises(ConfigError, match="MY_KEY is empty"):
        cfg.api_key()


def test_model_path_names_the_model(tmp_path):
    assert LMConfig(model_path=Path("/models/tiny-q8.gguf")).model_name == "tiny-q8"


def test_endpoints_come_from_toml_or_flags_and_survive_the_record(tmp_path):
    from selftaught.lm.config import from_record

    toml = tmp_path / "c.toml"
    toml.write_text('[lm]\nbackend = "openai"\nmodel = "m"\nendpoints = ["http://a:1/v1", "http://b:2/v1"]\n')
    config = from_sources(toml)
    assert config.endpoints == ("http://a:1/v1", "http://b:2/v1")
    record = {k: getattr(config, k) for k in ("backend", "model", "endpoints")}
    assert from_record({**record, "endpoints": list(config.endpoints)}).endpoints == config.endpoints
    with pytest.raises(ConfigError, match="lm.endpoints = 5 is not a list of strings"):
        from_sources(None, backend="openai", model="m", endpoints=5)
    with pytest.raises(ConfigError, match="endpoints are given but the backend is 'local'") as error:
        from_sources(None, endpoints=["http://a:1/v1"])
    assert "--backend openai" in error.value.fix
