import pytest

from selftaught.errors import ConfigError
from selftaught.settings import PRESETS, resolve


def test_the_paper_preset_is_the_papers_setting():
    paper = PRESETS["paper"]
    assert (paper.lm_calls, paper.lm_responses, paper.utility_budget, paper.n_tests) == (4, 6, 25, 5)
    assert paper.max_tokens == 1024


def test_flags_override_toml_which_overrides_the_preset(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text("[run]\nn_tests = 3\nutility_budget = 9\n")
    settings = resolve("small", toml, n_tests=4, lm_calls=None)
    assert (settings.n_tests, settings.utility_budget, settings.lm_calls) == (4, 9, PRESETS["small"].lm_calls)


@pytest.mark.parametrize("overrides, problem", [
    ({"utility_budget": 0}, "utility_budget = 0 must be at least 1"),
    ({"n_tests": 0}, "n_tests = 0"),
    ({"improver_slots": 1}, "improver_slots must be at least 2"),
    ({"iterations": -1}, "iterations = -1 is negative"),
])
def test_bad_budgets_are_named(overrides, problem):
    with pytest.raises(ConfigError, match=problem.replace("(", r"\(")):
        resolve("small", None, **overrides)


def test_unknown_preset_and_toml_key(tmp_path):
    with pytest.raises(ConfigError, match="unknown preset 'huge'"):
        resolve("huge")
    toml = tmp_path / "run.toml"
    toml.write_text("[run]\nn_test = 3\n")
    with pytest.raises(ConfigError, match="unknown setting run.n_test"):
        resolve("small", toml)


def test_derived_limits():
    s = PRESETS["small"]
    assert s.meta().n_tests == s.n_tests and s.meta().limits.utility_budget == s.utility_budget
    assert s.loop().limits.utility_budget == s.meta_budget
    assert s.loop().limits.time_limit_s > s.improver_time_limit_s * s.meta_budget


def test_toml_values_are_type_checked(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text('[run]\nn_tests = "3"\n')
    with pytest.raises(ConfigError, match="run.n_tests = '3' is not a int"):
        resolve("small", toml)
    toml.write_text('[run]\nkeep_incumbent = "false"\nimprover_time_limit_s = 60\n')
    with pytest.raises(ConfigError, match="keep_incumbent = 'false' is not a bool"):
        resolve("small", toml)
    toml.write_text('[run]\nimprover_time_limit_s = 60\n')
    assert resolve("small", toml).improver_time_limit_s == 60
