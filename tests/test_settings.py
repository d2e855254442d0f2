import pytest

from selftaught.errors import ConfigError
from selftaught.settings import PRESETS, resolve


def test_the_paper_preset_is_the_papers_setting():
    paper = PRESETS["paper"]
    assert (paper.lm_calls, paper.lm_responses, paper.utility_budget, paper.n_tests) == (4, 6, 25, 5)
    assert paper.accept == "paper" and paper.final_runs == 0
    assert paper.meta_limits().lm_budget.max_responses_per_call == 6


def test_the_small_preset_races_six_candidates_per_step():
    small = PRESETS["small"]
    assert small.accept == "paired" and small.meta_limits().lm_budget.max_responses_per_call == 6
    assert small.meta_budget >= 6 and small.race_max_runs == 6 and small.final_runs == 4


def test_settings_recorded_by_older_runs_still_load():
    import dataclasses

    from selftaught.settings import RunSettings

    record = dataclasses.asdict(PRESETS["small"])
    del record["accept"]
    record["keep_incumbent"] = True
    assert RunSettings.from_record(record).accept == "incumbent"


def test_flags_override_toml_which_overrides_the_preset(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text("[run]\nn_tests = 3\nutility_budget = 9\n")
    settings = resolve("small", toml, n_tests=4, lm_calls=None)
    assert (settings.n_tests, settings.utility_budget, settings.lm_calls) == (4, 9, PRESETS["small"].lm_calls)


@pytest.mark.parametrize("overrides, problem", [
    ({"utility_budget": 0}, "utility_budget = 0 must be at least 1"),
    ({"n_tests": 0}, "n_tests = 0"),
    ({"iterations": -1}, "iterations = -1 is negative"),
    ({"accept": "best"}, "accept = 'best' is not one of 'paper', 'incumbent', 'paired'"),
    ({"race_first_runs": 9}, "race_first_runs = 9 must lie between 1 and race_max_runs = 6"),
    ({"improver_time_limit_s": float("nan")}, "improver_time_limit_s = nan is not a finite number"),
    ({"improver_time_limit_s": float("inf")}, "improver_time_limit_s = inf is not a finite number"),
    ({"improver_time_limit_s": 1e12}, "improver_time_limit_s = 1000000000000.0 must be positive and at most 86400"),
    ({"improver_time_limit_s": 0}, "improver_time_limit_s = 0.0 must be positive"),
])
def test_bad_budgets_are_named(overrides, problem):
    with pytest.raises(ConfigError, match=problem.replace("(", r"\(")):
        resolve("small", None, **overrides)


@pytest.mark.parametrize("overrides, problem", [
    ({"improver_slots": 2}, "improver_slots = 2 is too few for 2 worker"),
    ({"workers": 0}, "workers = 0 must be at least 1"),
    ({"program_slots": 0}, "program_slots = 0 must be at least 1"),
])
def test_bad_placements_are_named(overrides, problem):
    from selftaught.settings import place

    with pytest.raises(ConfigError, match=problem):
        place("small", None, **overrides)


def test_unknown_preset_and_toml_key(tmp_path):
    with pytest.raises(ConfigError, match="unknown preset 'huge'"):
        resolve("huge")
    toml = tmp_path / "run.toml"
    toml.write_text("[run]\nn_test = 3\n")
    with pytest.raises(ConfigError, match="unknown setting run.n_test"):
        resolve("small", toml)


def test_derived_limits():
    s = PRESETS["small"]
    assert s.improver_limits().utility_budget == s.utility_budget
    assert s.meta_limits().utility_budget == s.meta_budget
    assert s.meta_limits().time_limit_s > s.improver_time_limit_s * s.meta_budget
    assert s.meta_limits(3).time_limit_s > s.meta_limits(1).time_limit_s  # û runs every task
    assert s.fresh_offset() == s.n_tests + s.race_max_runs


def test_toml_values_are_type_checked(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text('[run]\nn_tests = "3"\n')
    with pytest.raises(ConfigError, match="run.n_tests = '3' is not an integer"):
        resolve("small", toml)
    toml.write_text('[run]\naccept = 1\nimprover_time_limit_s = 60\n')
    with pytest.raises(ConfigError, match="accept = 1 is not one of 'paper', 'incumbent', 'paired'"):
        resolve("small", toml)
    toml.write_text('[run]\nimprover_time_limit_s = 60\n')
    assert resolve("small", toml).improver_time_limit_s == 60


def test_the_improver_time_limit_is_checked_however_the_settings_are_made():
    import dataclasses

    with pytest.raises(ConfigError, match="improver_time_limit_s = nan must be positive"):
        dataclasses.replace(PRESETS["small"], improver_time_limit_s=float("nan"))


def test_a_setting_outside_the_run_table_is_refused(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text("n_tests = 3\n")
    with pytest.raises(ConfigError, match=r"n_tests is outside any table; it is a setting of the \[run\] table"):
        resolve("small", toml)
    toml.write_text("[runs]\nn_tests = 3\n")
    with pytest.raises(ConfigError, match=r"unknown table \[runs\]") as info:
        resolve("small", toml)
    assert "did you mean [run]?" in info.value.fix
