"""The self-improvement loop with real sandboxed improvers and a meta-utility whose downstream
runs have known scores (no model): revert on failure and on û = 0, the acceptance rules, the
final comparison, and resume."""

from __future__ import annotations

import dataclasses

import pytest

from selftaught.work import open_pools
from selftaught.lm.budget import Budget
from selftaught.lm.cache import CacheMode, ResponseCache
from selftaught.lm.client import LanguageModelClient
from selftaught.lm.usage import UsageLog
from selftaught.loop import self_improve
from selftaught.meta import MetaUtility
from selftaught.runs.rundir import RunDir
from selftaught.session import Session
from selftaught.settings import PRESETS
from selftaught.utility import ScoreMemo

from .fakes import NoModel


def returning(text: str, probe: bool = True) -> str:
    """An improver that asks û about `text` once (when probe) and returns it."""
    call = "    utility(candidate)\n" if probe else ""
    return f"def improve_algorithm(initial_solution, utility, language_model):\n    candidate = {text!r}\n{call}    return candidate\n"


CRASHING = "def improve_algorithm(initial_solution, utility, language_model):\n    raise RuntimeError('no')\n"
GOOD = "def improve_algorithm(initial_solution, utility, language_model):\n    return initial_solution\n"
BAD = "def improve_algorithm(s, u, lm):\n    return 'bad'\n"


class KnownMeta(MetaUtility):
    """Downstream runs score by which improver runs them: GOOD 0.8, BAD 0.2, CRASHING 0, others 0.5."""

    SCORES = {GOOD: 0.8, BAD: 0.2}

    def run(self, improver, task, index):
        def compute():
            val = self.SCORES.get(improver, 0.5 if improver != CRASHING else 0.0)
            return {"val": val, "test": val, "status": "ok", "solution": str(val), "index": index}

        return self.session.journal.once("improver_run", f"{hash(improver)}/{task.name}/{index}", compute)

    def runs(self, units):
        return [self.run(*unit) for unit in units]


@pytest.fixture(scope="module")
def pools():
    with open_pools() as pools:
        yield pools


def session_for(tmp_path, pools, **settings) -> Session:
    run = RunDir.create(tmp_path, "self-improve", {})
    lm = LanguageModelClient(NoModel(), ResponseCache(None, CacheMode.OFF), UsageLog(None), Budget(1, 1), 16)
    settings = dataclasses.replace(PRESETS["small"], **{"improver_time_limit_s": 60.0, **settings})
    return Session(run, settings, pools, lm, ScoreMemo(run.journal))


def run_loop(tmp_path, pools, seed, **settings):
    session = session_for(tmp_path, pools, **settings)
    from selftaught.tasks.loader import load_task

    meta = KnownMeta(session, [load_task("fibonacci")])
    return session, self_improve(session, seed, meta, session.settings)


def test_a_crashing_improver_run_keeps_the_incumbent(tmp_path, pools):
    _, result = run_loop(tmp_path, pools, CRASHING, iterations=1)
    it = result.iterations[1]
    assert not it.accepted and it.reason.startswith("improver run failed (")
    assert it.improver == result.iterations[0].improver and it.candidate is None


def test_a_candidate_with_zero_meta_utility_is_reverted(tmp_path, pools):
    _, result = run_loop(tmp_path, pools, returning(CRASHING), iterations=1, accept="paper")
    it = result.iterations[1]
    assert not it.accepted and it.reason == "û = 0; runs: ok x2"
    assert it.val.mean == 0.5  # û(I_1) = û(I_0): the incumbent stayed


def test_the_paper_rule_accepts_a_worse_candidate_and_paired_rejects_it(tmp_path, pools):
    _, paper = run_loop(tmp_path / "a", pools, returning(BAD), iterations=1, accept="paper")
    assert paper.iterations[1].accepted and paper.iterations[1].val.mean == 0.2
    _, paired = run_loop(tmp_path / "b", pools, returning(BAD), iterations=1, accept="paired")
    it = paired.iterations[1]
    assert not it.accepted and it.reason.startswith("rejected early: worse on 2 fresh pairs")
    assert it.val.mean == 0.5


def test_paired_accepts_a_better_candidate_and_the_final_comparison_reports_it(tmp_path, pools):
    session, result = run_loop(tmp_path, pools, returning(GOOD), iterations=2, accept="paired",
                               race_first_runs=3, race_max_runs=12, final_runs=4)
    it1, it2 = result.iterations[1:]
    # 1 task: 3 pairs cannot pass the sign test at 0.05/3 (p = 1/8), 6 pairs can (1/64).
    assert it1.accepted and it1.reason.startswith("accepted: better on 6 fresh pairs, mean difference +0.300")
    assert it1.val.mean == 0.8 and (session.run.path / "improver_1.py").read_text() == GOOD
    assert not it2.accepted and it2.reason == "the improver returned the incumbent unchanged"
    assert result.final.difference.mean == pytest.approx(0.3) and result.final.indices == (14, 15, 16, 17)
    assert result.improved


def test_a_finished_loop_resumes_without_running_anything(tmp_path, pools):
    session, first = run_loop(tmp_path, pools, returning(GOOD), iterations=1, accept="incumbent")
    before = list(session.journal.events())
    session.run.close()  # as the first process's exit would
    again = RunDir.resume(session.run.path, "self-improve")
    resumed = Session(again, session.settings, pools, session.lm, ScoreMemo(again.journal))
    from selftaught.tasks.loader import load_task

    result = self_improve(resumed, returning(GOOD), KnownMeta(resumed, [load_task("fibonacci")]),
                          resumed.settings)
    assert [i.accepted for i in result.iterations] == [True, True]
    assert list(again.journal.events()) == before
