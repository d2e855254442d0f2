import pytest

from selftaught.acceptance import make_rule
from selftaught.errors import ConfigError

from .fakes import KnownScores


def scores(table):
    return KnownScores(lambda improver, task, i: (table[improver], improver))


def test_the_paper_rule_keeps_any_candidate_above_zero_even_a_worse_one():
    meta = scores({"inc": 0.8, "cand": 0.1})
    decision = make_rule("paper").decide("inc", "cand", meta.score("cand"), meta)
    assert decision.accepted and decision.reason == "accepted (paper rule: û > 0)"


def test_the_paper_rule_reverts_a_candidate_with_zero_meta_utility():
    meta = KnownScores(lambda improver, task, i: (0.0, None))
    decision = make_rule("paper").decide("inc", "cand", meta.score("cand"), meta)
    assert not decision.accepted and decision.reason == "û = 0; runs: ok x4"


@pytest.mark.parametrize("inc, cand, accepted", [(0.5, 0.4, False), (0.5, 0.5, True), (0.5, 0.6, True)])
def test_keep_incumbent_compares_the_meta_utilities(inc, cand, accepted):
    meta = scores({"inc": inc, "cand": cand})
    assert make_rule("incumbent").decide("inc", "cand", meta.score("cand"), meta).accepted is accepted


def test_an_unknown_rule_names_the_choices():
    with pytest.raises(ConfigError, match="unknown acceptance rule 'best'"):
        make_rule("best")
