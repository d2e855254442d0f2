"""The library's keep_best improver, the stronger seed of the fallback lever: the paper's seed
improver that also scores its initial solution and keeps it unless a rewrite scores higher. It
must send the paper's seed exactly the same LM request, so that under common random numbers the
two see the same samples and differ only in the fallback. It asks for min(responses per call,
budget - 1) samples, keeping one utility call for the initial solution: the paper seed's request
as long as responses per call < utility budget (small preset 3 < 6, paper 6 < 25). Real sandbox;
a backend that answers with numbered programs."""

import dataclasses

import pytest

from selftaught.work import ImproverLimits, open_pools, run_improver
from selftaught.improvers import library_improver, seed_improver
from selftaught.lm.budget import Budget
from selftaught.lm.cache import CacheMode, ResponseCache
from selftaught.lm.client import LanguageModelClient
from selftaught.lm.usage import UsageLog
from selftaught.utility import BudgetedUtility

from .lm.conftest import CountingBackend

KEEP_BEST = library_improver("keep_best")
INITIAL = "x = 'initial'\n"


class NumberedPrograms(CountingBackend):
    def complete(self, messages, sampling):
        done = super().complete(messages, sampling)
        n = done.text.split()[1]  # "sample <n> for ..."
        return dataclasses.replace(done, text=f"Idea {n}.\n```python\nx = {n}\n```\n")


@pytest.fixture(scope="module")
def pools():
    with open_pools() as pools:
        yield pools


def run(pools, improver, scores, backend):
    utility = BudgetedUtility(lambda s: scores.get(s.strip(), 0.0), "score", budget=6)
    lm = LanguageModelClient(backend, ResponseCache(None, CacheMode.OFF), UsageLog(None), Budget(2, 3), 16)
    return run_improver(pools.improvers, improver, INITIAL, utility, lm, ImproverLimits(Budget(2, 3), 6, 60))


@pytest.mark.parametrize("scores, kept", [
    ({"x = 'initial'": 0.5, "x = 0": 0.4, "x = 1": 0.5, "x = 2": 0.1}, "x = 'initial'"),  # a tie keeps it
    ({"x = 'initial'": 0.5, "x = 0": 0.4, "x = 1": 0.6, "x = 2": 0.1}, "x = 1"),
])
def test_keep_best_keeps_the_initial_solution_unless_a_rewrite_scores_higher(pools, scores, kept):
    result = run(pools, KEEP_BEST, scores, NumberedPrograms())
    assert (result.status, result.solution.strip(), result.lm_calls, result.utility_calls) == ("ok", kept, 1, 4)


def test_keep_best_sends_the_paper_seeds_request(pools):
    paper, keep_best = NumberedPrograms(), NumberedPrograms()
    scores = {"x = 'initial'": 0.5, "x = 0": 0.4, "x = 1": 0.3, "x = 2": 0.1}
    assert run(pools, seed_improver(), scores, paper).solution.strip() == "x = 0"  # the paper's seed never keeps it
    assert run(pools, KEEP_BEST, scores, keep_best).solution.strip() == "x = 'initial'"
    assert keep_best.batches == paper.batches and [n for _, n in paper.batches] == [3]


def test_at_a_budget_no_larger_than_the_responses_per_call_the_requests_differ(pools):
    # The limit of the claim above, pinned: budget 3 = responses per call 3.
    paper, keep_best = NumberedPrograms(), NumberedPrograms()
    for improver, backend in ((seed_improver(), paper), (KEEP_BEST, keep_best)):
        utility = BudgetedUtility(lambda s: 0.0, "score", budget=3)
        lm = LanguageModelClient(backend, ResponseCache(None, CacheMode.OFF), UsageLog(None), Budget(2, 3), 16)
        assert run_improver(pools.improvers, improver, INITIAL, utility, lm,
                            ImproverLimits(Budget(2, 3), 3, 60)).status == "ok"
    assert [n for _, n in paper.batches] == [3] and [n for _, n in keep_best.batches] == [2]
