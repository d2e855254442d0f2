"""The improver library, each improver in the real sandbox against a scripted model: within the
seed improver's budgets, never worse than its initial solution (all but `paper`, which returns
its best sample as the paper's seed does), and doing what its name says."""

from __future__ import annotations

import dataclasses

import pytest

from selftaught.improvers import library_improver, library_names, summary
from selftaught.lm.budget import Budget
from selftaught.lm.cache import CacheMode, ResponseCache
from selftaught.lm.client import LanguageModelClient
from selftaught.lm.usage import UsageLog
from selftaught.utility import BudgetedUtility
from selftaught.work import ImproverLimits, open_pools, run_improver

from .lm.conftest import CountingBackend

INITIAL = "def f():\n    return 'initial'\n\n\ndef g():\n    return 2\n"


class Scripted(CountingBackend):
    """Answer k is program `x = k` in a code block, unless `answer(prompt, k)` says otherwise;
    each request's temperature and messages are recorded."""

    def __init__(self, answer=None) -> None:
        super().__init__()
        self.answer, self.temperatures, self.prompts = answer, [], []

    def complete(self, messages, sampling):
        done = super().complete(messages, sampling)
        k = int(done.text.split()[1])
        prompt = messages[-1]["content"]
        self.prompts.append(prompt)
        text = self.answer(prompt, k) if self.answer else None
        return dataclasses.replace(done, text=text or f"Idea {k}.\n```python\nx = {k}\n```\n")

    def complete_n(self, messages, sampling, n):
        self.temperatures.append(sampling.temperature)
        return super().complete_n(messages, sampling, n)


@pytest.fixture(scope="module")
def pools():
    with open_pools() as pools:
        yield pools


def run(pools, name, scores, backend, calls=2, responses=3, utility_budget=6):
    used = []

    def score(source: str) -> float:
        used.append(source)
        return scores.get(source.strip(), scores.get("*", 0.0))

    utility = BudgetedUtility(score, "def utility(source): ...", budget=utility_budget)
    lm = LanguageModelClient(backend, ResponseCache(None, CacheMode.OFF), UsageLog(None), Budget(calls, responses), 64)
    result = run_improver(pools.improvers, library_improver(name), INITIAL, utility, lm,
                          ImproverLimits(Budget(calls, responses), utility_budget, 60))
    return result, used


@pytest.mark.parametrize("name", library_names())
@pytest.mark.parametrize("calls, responses, utility_budget", [(2, 3, 6), (4, 6, 25), (1, 1, 2), (2, 3, 1)])
def test_every_improver_runs_within_the_seeds_budgets(pools, name, calls, responses, utility_budget):
    backend = Scripted()
    result, used = run(pools, name, {"*": 0.3}, backend, calls, responses, utility_budget)
    assert result.status == "ok", result.diagnostics
    assert isinstance(result.solution, str) and result.solution.strip()
    assert result.lm_calls <= calls and result.utility_calls <= utility_budget
    assert all(n <= responses for _, n in backend.batches)
    assert summary(library_improver(name))  # `selftaught improvers` has a line for it


@pytest.mark.parametrize("name", [n for n in library_names() if n != "paper"])
def test_no_improver_but_the_papers_returns_worse_than_its_initial_solution(pools, name):
    result, _ = run(pools, name, {INITIAL.strip(): 0.5, "*": 0.1}, Scripted())
    assert result.solution.strip() == INITIAL.strip()


def test_the_papers_seed_returns_its_best_sample_even_when_worse(pools):
    result, used = run(pools, "paper", {INITIAL.strip(): 0.5, "x = 1": 0.2, "*": 0.1}, Scripted())
    assert result.solution.strip() == "x = 1" and INITIAL not in used


@pytest.mark.parametrize("name", [n for n in library_names() if n not in ("decompose", "search_replace")])
def test_a_better_rewrite_wins(pools, name):
    """(decompose and search_replace build their candidates from the program: tested below)"""
    result, _ = run(pools, name, {INITIAL.strip(): 0.5, "x = 1": 0.9, "*": 0.1}, Scripted())
    assert result.solution.strip() == "x = 1"


def test_beam_search_expands_the_best_programs_of_the_last_round(pools):
    backend = Scripted()
    run(pools, "beam", {INITIAL.strip(): 0.1, "x = 0": 0.9, "x = 1": 0.8, "*": 0.0}, backend)
    first, later = backend.prompts[:2], backend.prompts[2:]
    assert all("return 'initial'" in p for p in first)
    # round two: the two best of round one, one message each (sent concurrently: any order)
    assert len(later) == 2 and any("x = 0" in p for p in later) and any("x = 1" in p for p in later)


def test_the_genetic_algorithm_combines_two_parents(pools):
    backend = Scripted()
    run(pools, "genetic", {INITIAL.strip(): 0.2, "x = 0": 0.9, "x = 1": 0.8, "*": 0.0}, backend)
    children = [p for p in backend.prompts if p.startswith("Combine the best ideas")]
    assert any("Program A:\n```python\nx = 0" in p and "Program B:\n```python\nx = 1" in p for p in children)


def test_annealing_moves_to_a_better_rewrite_and_keeps_the_best(pools):
    backend = Scripted()
    result, _ = run(pools, "annealing", {INITIAL.strip(): 0.2, "x = 0": 0.6, "x = 3": 0.7, "*": 0.0}, backend)
    assert "x = 0" in backend.prompts[backend.batches[0][1]]  # step two rewrites the program it moved to
    assert result.solution.strip() == "x = 3"


def test_decomposition_rewrites_one_function_and_keeps_the_rest(pools):
    def answer(prompt, k):
        if "one function" in prompt and "def f" in prompt:
            return "```python\ndef f():\n    return 'faster'\n```"
        return None

    backend = Scripted(answer)
    spliced = INITIAL.replace("return 'initial'", "return 'faster'").strip()
    result, _ = run(pools, "decompose", {INITIAL.strip(): 0.2, spliced: 0.9, "*": 0.0}, backend)
    assert "def g" not in backend.prompts[0] and "def f" in backend.prompts[0]
    assert result.solution.strip() == spliced


def test_the_bandit_tries_each_prompt_variant_before_exploiting(pools):
    backend = Scripted()
    run(pools, "ucb_prompts", {"*": 0.1}, backend, calls=3)
    assert [n for _, n in backend.batches] == [1, 1, 1]  # 5 utility calls left over 3 calls
    assert ["Make it faster" in backend.prompts[0], "more accurate" in backend.prompts[1],
            "simpler" in backend.prompts[2]] == [True, True, True]


def test_the_temperature_falls_from_call_to_call(pools):
    backend = Scripted()
    run(pools, "temperature_schedule", {"*": 0.1}, backend)
    assert backend.temperatures == [1.0, 0.4]


def test_repair_sends_a_failing_rewrite_back_with_its_error(pools):
    def answer(prompt, k):
        return "```python\ndef broken(:\n```" if k == 0 else None

    backend = Scripted(answer)
    result, _ = run(pools, "repair", {INITIAL.strip(): 0.2, "x = 3": 0.9, "*": 0.0}, backend)
    repairs = [p for p in backend.prompts if p.startswith("This program was meant to improve")]
    assert any("SyntaxError" in p and "def broken(" in p for p in repairs)
    assert result.solution.strip() == "x = 3"  # the first repair's answer


def test_short_output_asks_for_code_only(pools):
    backend = Scripted()
    run(pools, "short_output", {"*": 0.1}, backend)
    assert all("Do not explain it" in p for p in backend.prompts)


def test_search_replace_applies_the_models_edits(pools):
    def answer(prompt, k):
        return "<<<<<<< SEARCH\n    return 2\n=======\n    return 3\n>>>>>>> REPLACE" if k == 0 else "no edit"

    edited = INITIAL.replace("return 2", "return 3").strip()
    result, used = run(pools, "search_replace", {INITIAL.strip(): 0.2, edited: 0.9, "*": 0.0}, Scripted(answer))
    assert result.solution.strip() == edited and len(used) == 2  # an answer without an edit is not scored


@pytest.mark.parametrize("name", [n for n in library_names() if n != "paper"])
def test_no_rewrite_is_asked_for_once_no_utility_call_is_left_to_score_it(pools, name):
    """A utility budget of 1 scores the initial solution and nothing else: a rewrite could never
    be scored, so asking for one would only spend tokens (the paper's seed does not check)."""
    backend = Scripted()
    result, used = run(pools, name, {"*": 0.3}, backend, calls=2, responses=3, utility_budget=1)
    assert result.status == "ok", result.diagnostics
    assert result.lm_calls == 0 and result.solution.strip() == INITIAL.strip() and len(used) <= 1


def test_decomposition_never_scores_a_program_whose_function_the_answer_left_out(pools):
    def answer(prompt, k):
        return "I would cache it." if k == 0 else "```python\ndef other():\n    return 0\n```"

    result, used = run(pools, "decompose", {INITIAL.strip(): 0.5, "*": 0.9}, Scripted(answer))
    assert used == [INITIAL]  # neither deleting f nor splicing in a function of another name is a candidate
    assert result.solution == INITIAL


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_search_replace_reads_deletions_and_either_line_ending(pools, newline):
    """An empty REPLACE deletes its SEARCH text without swallowing the next edit, and answers
    written with CRLF line endings apply like the rest."""
    edits = ("<<<<<<< SEARCH\ndef g():\n    return 2\n=======\n>>>>>>> REPLACE\n"
             "<<<<<<< SEARCH\n    return 'initial'\n=======\n    return 'edited'\n>>>>>>> REPLACE\n")
    edited = "def f():\n    return 'edited'\n\n\n\n"

    result, used = run(pools, "search_replace", {INITIAL.strip(): 0.2, edited.strip(): 0.9, "*": 0.0},
                       Scripted(lambda prompt, k: edits.replace("\n", newline) if k == 0 else "no edit"))
    assert result.solution == edited and len(used) == 2


def test_a_name_that_is_not_in_the_library_names_the_fix():
    from selftaught.errors import ConfigError

    with pytest.raises(ConfigError, match="no library improver 'beem'") as error:
        library_improver("beem")
    assert "selftaught improvers" in error.value.fix



@pytest.mark.parametrize("edit", ["CALLS = 10", "SAMPLES_PER_CALL = 10", "TEMPERATURE = 9.0", "CALLS = 0"])
def test_an_overshooting_knob_uses_the_budget_instead_of_failing(pools, edit):
    name, value = edit.split(" = ")
    source = library_improver("knobs")
    edited = "\n".join(f"{name} = {value}" if line.startswith(f"{name} = ") else line for line in source.splitlines())
    assert edited != source
    backend = Scripted()
    utility = BudgetedUtility(lambda s: 0.1, "def utility(source): ...", budget=6)
    lm = LanguageModelClient(backend, ResponseCache(None, CacheMode.OFF), UsageLog(None), Budget(2, 3), 64)
    result = run_improver(pools.improvers, edited, INITIAL, utility, lm, ImproverLimits(Budget(2, 3), 6, 60))
    assert result.status == "ok", result.diagnostics
    assert result.lm_calls <= 2 and result.utility_calls <= 6 and all(n <= 3 for _, n in backend.batches)


@pytest.mark.parametrize("calls, responses, utility_budget", [(2, 3, 6), (4, 6, 25)])  # the small and paper presets
def test_knobs_at_its_defaults_sends_the_papers_request(pools, calls, responses, utility_budget):
    """So under common random numbers it sees the paper seed's (and keep_best's) samples."""
    paper, knobs = Scripted(), Scripted()
    run(pools, "paper", {"*": 0.1}, paper, calls, responses, utility_budget)
    run(pools, "knobs", {"*": 0.1}, knobs, calls, responses, utility_budget)
    assert knobs.batches == paper.batches and knobs.temperatures == paper.temperatures


def test_knobs_writes_twelve_candidates_as_experiment_4_s_improver_of_improvers(pools):
    """Its meta-level budgets (experiments/best_seed.py): 12 responses per call and 13 û calls,
    one of them the incumbent's (journalled already, so free), leave room for 12 candidates."""
    backend = Scripted()
    result, used = run(pools, "knobs", {"*": 0.1}, backend, calls=2, responses=12, utility_budget=13)
    assert [n for _, n in backend.batches] == [12] and len(used) == 13


@pytest.mark.parametrize("name", library_names())
@pytest.mark.parametrize("answer", [
    "I would make it faster by caching.",  # prose, no code
    " ",  # next to nothing
    "```python\ndef f(:\n    return\n",  # an unclosed fence around code that does not parse
    "<<<<<<< SEARCH\nnot in the program\n=======\nx = 1\n>>>>>>> REPLACE\n",  # an edit that matches nothing
])
def test_answers_without_usable_code_never_break_an_improver(pools, name, answer):
    """What a 1.5B model often writes: every improver still returns a program, within budget, and
    (all but `paper`) one no worse than the initial solution."""
    backend = Scripted(lambda prompt, k: answer)
    result, _ = run(pools, name, {INITIAL.strip(): 0.5}, backend)
    assert result.status == "ok", result.diagnostics
    assert isinstance(result.solution, str) and result.lm_calls <= 2 and result.utility_calls <= 6
    if name != "paper":
        assert result.solution.strip() == INITIAL.strip()


def test_repair_sends_the_error_the_host_saw_through_utility_failure(pools):
    """A rewrite that crashes on a real task goes back to the model with its exception, which
    only the host knows: utility.failure, at no utility call."""
    from selftaught.runs.journal import Journal
    from selftaught.tasks.loader import load_task
    from selftaught.tasks.secret import InstanceSecret
    from selftaught.utility import ScoreMemo, task_utility

    task = load_task("fibonacci")
    utility = task_utility(task, pools.programs, ScoreMemo(Journal(None), InstanceSecret(bytes(32))), budget=6)
    backend = Scripted(lambda prompt, k: "```python\ndef fib(n):\n    return n // 0\n```" if k == 0 else None)
    lm = LanguageModelClient(backend, ResponseCache(None, CacheMode.OFF), UsageLog(None), Budget(2, 3), 64)
    result = run_improver(pools.improvers, library_improver("repair"), task.seed_program, utility, lm,
                          ImproverLimits(Budget(2, 3), 6, 120))
    assert result.status == "ok", result.diagnostics
    repairs = [p for p in backend.prompts if p.startswith("This program was meant to improve")]
    assert len(repairs) >= 1 and "ZeroDivisionError" in repairs[0] and "def fib(n):\n    return n // 0" in repairs[0]
    assert result.utility_calls <= 6
