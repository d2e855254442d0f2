"""The strategy detector against improvers written and labelled by hand (tests/analysis/labelled/):
every strategy of the catalogue appears in at least two of them, and some use none. Names,
comments and docstrings in them deliberately mention strategies they do not use."""

from collections import Counter
from pathlib import Path

import pytest

from selftaught.analysis.strategies import STRATEGIES, detect, frequency
from selftaught.improvers import seed_improver

LABELLED = Path(__file__).parent / "labelled"
MORE = "uses_more_lm_budget"
LABELS: dict[str, set[str]] = {
    "seed": set(),
    "none_single_prompt": set(),
    "none_docstring_strategies": set(),
    "none_unused_hints": set(),
    "beam_basic": {"beam_search", MORE},
    "beam_threads_decay": {"beam_search", "temperature_schedule", "caches_utility", MORE, "keeps_incumbent"},
    "genetic_pairs": {"genetic_algorithm", MORE, "keeps_incumbent"},
    "genetic_weighted": {"genetic_algorithm", MORE, "keeps_incumbent"},
    "annealing_basic": {"simulated_annealing", "local_search", MORE, "keeps_incumbent"},
    "annealing_lm_temperature": {"simulated_annealing", "local_search", "temperature_schedule", MORE},
    "ucb_prompts": {"ucb_bandit", "hint_prompts", MORE},
    "thompson_temperatures": {"ucb_bandit", "temperature_schedule", MORE},
    "eps_greedy_hints": {"epsilon_greedy", "hint_prompts", MORE},
    "eps_greedy_temperatures": {"epsilon_greedy", "temperature_schedule", MORE},
    "temperature_sweep": {"temperature_schedule", MORE},
    "cache_lru": {"caches_utility", "keeps_incumbent"},
    "cache_dict_local_search": {"caches_utility", "local_search", MORE, "keeps_incumbent"},
    "decompose_functions": {"decomposition", MORE, "keeps_incumbent"},
    "decompose_chunks": {"decomposition", MORE},
    "local_search_basic": {"local_search", MORE, "keeps_incumbent"},
    "local_search_max": {"local_search", MORE, "keeps_incumbent"},
    "hints_list": {"hint_prompts"},
    "hints_dict_random": {"hint_prompts", MORE},
    "two_stage_ideas": {MORE},
    "retry_with_error": {"retries_on_failure", "uses_feedback", MORE},
    "retry_until_code": {"retries_on_failure", MORE},
    "feedback_history": {"uses_feedback", MORE, "keeps_incumbent"},
    "feedback_repair": {"uses_feedback", MORE},
}


def test_every_labelled_file_is_labelled_and_every_strategy_has_two_examples():
    assert {p.stem for p in LABELLED.glob("*.py")} == set(LABELS)
    counts = Counter(label for labels in LABELS.values() for label in labels)
    assert {s: counts[s] for s in STRATEGIES if counts[s] < 2} == {}
    assert sum(1 for labels in LABELS.values() if not labels) >= 3


@pytest.mark.parametrize("name", sorted(LABELS))
def test_detects_exactly_the_hand_labels(name):
    report = detect((LABELLED / f"{name}.py").read_text())
    assert report.parse_error is None
    assert set(report.labels) == LABELS[name]


def test_the_seed_improver_uses_none_and_unparsable_code_gets_no_labels():
    assert detect(seed_improver()).labels == frozenset()
    broken = detect("def improve_algorithm(:\n")
    assert broken.labels == frozenset() and broken.parse_error.startswith("SyntaxError")


def test_frequency_lists_every_strategy():
    reports = [detect((LABELLED / f"{name}.py").read_text()) for name in ("beam_basic", "genetic_pairs", "seed")]
    counts = frequency(reports)
    assert list(counts) == list(STRATEGIES)
    assert counts["beam_search"] == 1 and counts["genetic_algorithm"] == 1 and counts[MORE] == 2
    assert counts["local_search"] == 0


@pytest.mark.parametrize("source", [
    "x = 1\n",
    "def improve_algorithm(*args, **kwargs):\n    return (lambda *a, **k: a)(*args)\n",
    "def f(a, b=2, *c, d, **e):\n    return f(*[a], **{'b': b})\n" * 3,
    "improve_algorithm = lambda s, u, lm: max(lm.batch_prompt('e', [s] * 2), key=u)\n",
    "class Improver:\n    def improve_algorithm(self, s, u, lm):\n        while True:\n            break\n",
    "(" * 150 + "1" + ")" * 150 + "\n",
])
def test_odd_code_does_not_break_the_detector(source):
    report = detect(source)
    assert report.labels <= set(STRATEGIES)
