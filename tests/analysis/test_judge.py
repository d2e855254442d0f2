from selftaught.analysis.judge import judge_strategies, parse_labels
from selftaught.lm.protocol import LanguageModel


class FakeLM:
    """Answers every prompt with a fixed text and remembers what it was asked."""

    def __init__(self, answer: str) -> None:
        self.answer, self.calls = answer, []

    def batch_prompt(self, expertise, messages, temperature=None):
        return [self.answer for _ in messages]

    def prompt(self, expertise, message, n_responses=1, temperature=None):
        self.calls.append((expertise, message, n_responses, temperature))
        return [self.answer] * n_responses


def test_the_judge_asks_once_and_keeps_only_catalogue_names():
    lm = FakeLM('It keeps a beam.\n["beam_search", "teleportation", "uses_more_lm_budget"]')
    assert isinstance(lm, LanguageModel)
    verdict = judge_strategies("def improve_algorithm(s, u, lm):\n    return s\n", lm)
    assert verdict.labels == {"beam_search", "uses_more_lm_budget"}
    (expertise, message, n, temperature), = lm.calls
    assert n == 1 and temperature == 0.0
    assert "def improve_algorithm(s, u, lm)" in message and "- genetic_algorithm:" in message


def test_answers_without_a_json_list_are_read_for_names():
    assert parse_labels("I think: local_search and uses_feedback.") == {"local_search", "uses_feedback"}
    assert parse_labels("[]") == frozenset()
    assert parse_labels("[not json] then [\"hint_prompts\"]") == {"hint_prompts"}
