import pytest

from selftaught.acceptance import make_rule
from selftaught.acceptance.paired import PairedRace, compare, race_stages

from .fakes import KnownScores


def by_improver(table: dict):
    return lambda improver, task, i: table[improver](task, i)


def test_race_stages_double_up_to_the_cap():
    assert race_stages(2, 8) == [2, 4, 8]
    assert race_stages(2, 6) == [2, 4, 6]
    assert race_stages(3, 3) == [3]
    with pytest.raises(ValueError):
        PairedRace(first_runs=4, max_runs=2)


def test_a_clearly_better_candidate_is_accepted_on_fresh_runs_only():
    # The candidate scores 0.9 where the incumbent scores 0.4, with small noise per run.
    meta = KnownScores(by_improver({
        "inc": lambda task, i: (0.4 + 0.01 * (i % 3), f"p{task}{i}"),
        "cand": lambda task, i: (0.9 - 0.01 * (i % 2), f"q{task}{i}"),
    }))
    decision = PairedRace(first_runs=2, max_runs=8).decide("inc", "cand", meta.score("cand"), meta)
    assert decision.accepted and decision.reason.startswith("accepted: better on 8 fresh pairs")
    # Looks: 4 pairs (2 per task) cannot pass the sign test at 0.05/3; 8 pairs can.
    assert decision.evidence["look"] == 2 and decision.evidence["comparison"]["wins"] == 8
    assert decision.evidence["sign_test_p"] == pytest.approx(0.5 ** 8)
    assert meta.fresh_indices("cand") == [2, 3, 4, 5] and meta.fresh_indices("inc") == [2, 3, 4, 5]


def test_a_candidate_that_behaves_like_the_incumbent_is_rejected_at_the_first_look():
    same = lambda task, i: (0.5, f"p{task}{i}")  # noqa: E731 - identical programs, so identical scores
    meta = KnownScores(by_improver({"inc": same, "cand": same}))
    decision = PairedRace(first_runs=2, max_runs=8).decide("inc", "cand", meta.score("cand"), meta)
    assert not decision.accepted
    assert decision.reason == "same behaviour as the incumbent: identical programs on 4 pairs"
    assert meta.fresh_indices("cand") == [2, 3]


def test_a_clear_loser_is_dropped_early():
    meta = KnownScores(by_improver({
        "inc": lambda task, i: (0.8 + 0.02 * (i % 2), "a"),
        "cand": lambda task, i: (0.1 + 0.03 * (i % 3), "b"),
    }))
    decision = PairedRace(first_runs=2, max_runs=8).decide("inc", "cand", meta.score("cand"), meta)
    assert not decision.accepted and decision.reason.startswith("rejected early: worse on 4 fresh pairs")
    assert decision.evidence["look"] == 1


def test_noise_around_zero_runs_to_the_cap_and_is_not_accepted():
    flip = lambda task, i: (1.0 if (i + len(task)) % 2 else 0.0, f"c{task}{i}")  # noqa: E731
    meta = KnownScores(by_improver({"inc": lambda task, i: (0.5, "x"), "cand": flip}))
    decision = PairedRace(first_runs=2, max_runs=6).decide("inc", "cand", meta.score("cand"), meta)
    assert not decision.accepted and decision.reason.startswith("not shown better at 95% after 12 fresh pairs")
    assert decision.evidence["look"] == 3 == decision.evidence["looks"]
    assert meta.fresh_indices("cand") == [2, 3, 4, 5, 6, 7]


def test_a_candidate_whose_runs_all_score_zero_is_rejected_without_a_race():
    meta = KnownScores(by_improver({"inc": lambda t, i: (0.5, "x"), "cand": lambda t, i: (0.0, None)}))
    decision = make_rule("paired").decide("inc", "cand", meta.score("cand"), meta)
    assert not decision.accepted and decision.reason == "û = 0; runs: ok x4"
    assert meta.fresh_indices("cand") == []


def test_compare_pairs_runs_by_task_and_index():
    meta = KnownScores(by_improver({"a": lambda t, i: (0.2 * i, f"a{i}"), "b": lambda t, i: (0.1 * i, f"b{i}")}),
                       tasks=("x",))
    c = compare(meta, "a", "b", range(1, 4), "test")
    assert c.differences == pytest.approx((0.1, 0.2, 0.3)) and c.wins == 3 and c.losses == 0
    assert c.difference.mean == pytest.approx(0.2) and c.difference.n == 3
    # t(0.975, 2) = 4.303; sd = 0.1; half-width = 4.303 * 0.1 / sqrt(3)
    assert c.difference.half_width == pytest.approx(4.3027 * 0.1 / 3 ** 0.5, rel=1e-3)
    assert not c.identical
