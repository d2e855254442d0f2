"""Running I(u, s, L) in the real sandbox. The backends here are seams, not models: one that
fails like a crashed engine, one that counts; model behaviour is covered by the replayed
end-to-end tests."""

import pytest

from selftaught.errors import EngineError, RequestError
from selftaught.work import ImproverLimits, lm_handler, open_pools, run_improver
from selftaught.improvers import seed_improver
from selftaught.lm.budget import Budget
from selftaught.lm.cache import CacheMode, ResponseCache
from selftaught.lm.client import LanguageModelClient
from selftaught.lm.usage import UsageLog
from selftaught.utility import BudgetedUtility

from .lm.conftest import CountingBackend

OVERSPENDER = '''
def improve_algorithm(initial_solution, utility, language_model):
    got = []
    for _ in range(3):
        try:
            got += language_model.batch_prompt("e", ["m"], temperature=0.5)
        except BudgetExceeded:
            got.append("refused")
    for candidate in got:
        try:
            utility(candidate)
        except BudgetExceeded:
            pass
    return "|".join(got)
'''


class CrashedEngine(CountingBackend):
    def complete(self, messages, sampling):
        raise EngineError("llama-server exited with code -9", "check the log")


@pytest.fixture(scope="module")
def pools():
    with open_pools() as pools:
        yield pools


def client(backend, budget=Budget(1, 2)):
    return LanguageModelClient(backend, ResponseCache(None, CacheMode.OFF), UsageLog(None), budget, 16)


def test_budgets_hold_whatever_the_improver_does(pools):
    scored = []
    utility = BudgetedUtility(lambda s: scored.append(s) or 0.5, "u", budget=1)
    result = run_improver(pools.improvers, OVERSPENDER, "seed", utility, client(CountingBackend()),
                          ImproverLimits(time_limit_s=30))
    assert result.status == "ok" and result.lm_calls == 1 and result.utility_calls == 1
    assert result.solution.split("|")[1:] == ["refused", "refused"] and len(scored) == 1


def test_a_crashed_engine_stops_the_run_instead_of_scoring_zero(pools):
    utility = BudgetedUtility(lambda s: 0.5, "u", budget=6)
    with pytest.raises(EngineError, match="exited with code -9"):
        run_improver(pools.improvers, seed_improver(), "def f():\n    pass\n", utility, client(CrashedEngine()),
                     ImproverLimits(time_limit_s=30))


class RefusingEndpoint(CountingBackend):
    """What the openai backend raises when llama-server answers 400 to a prompt longer than
    its context window."""

    def complete(self, messages, sampling):
        raise RequestError("the endpoint http://127.0.0.1:1/v1 refused this request (400): the request "
                           "exceeds the available context size", "send a shorter prompt")


def test_a_request_the_endpoint_refuses_fails_only_that_improver(pools):
    utility = BudgetedUtility(lambda s: 0.5, "u", budget=6)
    result = run_improver(pools.improvers, seed_improver(), "def f():\n    pass\n", utility,
                          client(RefusingEndpoint()), ImproverLimits(time_limit_s=30))
    assert result.status == "crash" and result.solution is None  # its failure, scored as such
    assert "refused this request (400)" in result.diagnostics
    # the improver sees a clear exception and may go on without the LM
    catching = ("def improve_algorithm(initial_solution, utility, language_model):\n    try:\n"
                "        language_model.prompt('e', 'x' * 100000)\n    except Exception as exc:\n"
                "        return type(exc).__name__ + ': ' + str(exc)\n")
    result = run_improver(pools.improvers, catching, "seed", utility, client(RefusingEndpoint()),
                          ImproverLimits(time_limit_s=30))
    assert result.status == "ok" and result.solution.startswith("HostError: the endpoint")
    assert "exceeds the available context size" in result.solution


@pytest.mark.parametrize("method, kwargs, problem", [
    ("batch_prompt", {"expertise": "e", "messages": 5}, "messages must be a list of strings"),
    ("prompt", {"expertise": "e", "message": "m", "n_responses": 0}, "n_responses a positive integer"),
    ("prompt", {"expertise": 3, "message": "m"}, "expertise must be a string"),
    ("fine_tune", {}, "no method 'fine_tune'"),
])
def test_malformed_requests_from_inside_are_refused(method, kwargs, problem):
    with pytest.raises(TypeError, match=problem):
        lm_handler(client(CountingBackend()))(method, kwargs)


def test_an_improver_returning_invalid_text_is_bad_output(pools):
    utility = BudgetedUtility(lambda s: 0.5, "u", budget=1)
    liar = "def improve_algorithm(initial_solution, utility, language_model):\n    return '\\ud800'\n"
    result = run_improver(pools.improvers, liar, "seed", utility, client(CountingBackend()),
                          ImproverLimits(time_limit_s=30))
    assert result.status == "bad_output" and result.solution is None


def test_lm_requests_an_improver_leaves_running_are_cancelled_when_it_returns(pools):
    from .lm.conftest import StallingBackend

    stalling = StallingBackend()
    body = """import threading
def improve_algorithm(initial_solution, utility, language_model):
    threading.Thread(target=language_model.batch_prompt, args=("e", ["m", "m"]), daemon=True).start()
    import time
    time.sleep(0.5)
    return initial_solution
"""
    lm = client(stalling, Budget(2, 2))
    utility = BudgetedUtility(lambda s: 0.0, "d", 1)
    result = run_improver(pools.improvers, body, "def f():\n    return 1\n", utility, lm,
                          ImproverLimits(Budget(2, 2), 1, 30.0))
    assert result.status == "ok" and stalling.started.is_set()
    assert stalling.stopped.wait(5)  # the request ended with the run, not 30 s later


def test_scoring_an_improver_left_running_stops_when_it_returns(pools, tmp_path, monkeypatch):
    """An improver asks for a slow program's score in a thread and returns at once: no call of
    that evaluation starts after the improver has returned, and nothing is journalled for it,
    so the next honest evaluation does not queue behind it (issue 24: 66 s instead of 0.1 s)."""
    import time

    from selftaught.ids import program_id
    from selftaught.runs.journal import Journal
    from selftaught.tasks.loader import load_task
    from selftaught.utility import ScoreMemo, task_utility

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    slow = "def fib(n):\n    x = 0\n    for i in range(6_000_000):\n        x += i\n    return 1\n"
    improver = ("import threading, time\n"
                "def improve_algorithm(initial_solution, utility, language_model):\n"
                f"    threading.Thread(target=utility, args=({slow!r},), daemon=True).start()\n"
                "    time.sleep(0.5)\n"
                "    return initial_solution\n")
    starts: list[float] = []
    real_call = pools.programs.call

    def counted(source, *args, **kwargs):
        if source == slow:
            starts.append(time.perf_counter())
        return real_call(source, *args, **kwargs)

    monkeypatch.setattr(pools.programs, "call", counted)
    task, memo = load_task("fibonacci"), ScoreMemo(Journal(tmp_path / "events.jsonl"))
    utility = task_utility(task, pools.programs, memo, "val", budget=2)
    result = run_improver(pools.improvers, improver, task.seed_program, utility, client(CountingBackend()),
                          ImproverLimits(time_limit_s=60))
    returned = time.perf_counter()
    time.sleep(4)  # ample for the rest of the slow evaluation (5 instances x 3 measurements)
    assert result.status == "ok" and starts  # it did start scoring
    assert [t for t in starts if t > returned + 0.5] == []  # ...and started nothing after the return
    fast = "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n"
    assert memo.evaluation(task, fast, "val", pools.programs).score > 0.9
    assert [e["key"] for e in memo.journal.events("evaluation")] == [f"fibonacci/val/{program_id(fast)}"]


def test_an_improver_that_returns_with_requests_pending_keeps_its_answer(pools):
    """Four requests in flight (the most the host takes before it stops reading), then the
    improver returns: its answer is the result, and the pending requests are cancelled."""
    from .lm.conftest import StallingBackend

    improver = ("import threading, time\n"
                "def improve_algorithm(initial_solution, utility, language_model):\n"
                "    for i in range(4):\n"
                "        threading.Thread(target=language_model.prompt, args=('e', f'm{i}'), daemon=True).start()\n"
                "    time.sleep(1.0)\n"
                "    return 'the answer'\n")
    backend = StallingBackend()
    utility = BudgetedUtility(lambda s: 0.0, "score", budget=1)
    result = run_improver(pools.improvers, improver, "x = 1\n", utility, client(backend, Budget(4, 1)),
                          ImproverLimits(time_limit_s=60))
    assert (result.status, result.solution) == ("ok", "the answer"), result.diagnostics
    assert backend.stopped.wait(10)  # the requests it left behind were cancelled


def test_a_returned_program_over_the_size_cap_is_neither_scored_nor_journalled(pools):
    improver = "def improve_algorithm(initial_solution, utility, language_model):\n    return 'x = 1\\n' * 200_000\n"
    utility = BudgetedUtility(lambda s: 0.0, "score", budget=1)
    result = run_improver(pools.improvers, improver, "x = 1\n", utility, client(CountingBackend()),
                          ImproverLimits(time_limit_s=60))
    assert (result.status, result.solution) == ("bad_output", None)
    assert "1,200,000 bytes" in result.diagnostics and "262,144" in result.diagnostics
