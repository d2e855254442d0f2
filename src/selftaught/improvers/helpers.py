"""The `helpers` module improvers import inside the sandbox (`from helpers import extract_code`)."""

from code_extraction import extract_code as _extract_one  # the host's extraction, shipped unchanged


def extract_code(responses):
    """The paper's helper: the largest fenced code block of each response (a list in, a list
    out; a single string in, a string out). A response without code gives an empty program."""
    if isinstance(responses, str):
        return _extract_one(responses) or ""
    return [_extract_one(r) or "" for r in responses]


def improve_message(solution, utility_str, instruction="You must return an improved solution."):
    """The paper's request for a rewrite: the program, the score function, and what to do."""
    return f"""Improve the following solution:
```python
{solution}
```

You will be evaluated based on this score function:
```python
{utility_str}
```

{instruction}"""


class Scores:
    """The utility, memoized and kept within its budget: scores(p) is p's score, or None once
    the budget is spent (or for an empty program). Every library improver scores through one,
    so none can spend more utility calls than the seed improver may."""

    def __init__(self, utility):
        self.utility, self.seen, self.left = utility, {}, getattr(utility, "budget", 1)

    def __call__(self, program):
        if program in self.seen:
            return self.seen[program]
        if not program or self.left <= 0:
            return None
        self.left -= 1
        try:
            score = self.utility(program)
        except BudgetExceeded:  # noqa: F821 (the sandbox puts it in builtins)
            self.left = 0
            return None
        self.seen[program] = score
        return score

    @property
    def spent(self):
        """True once no utility call is left: a rewrite asked for now could never be scored,
        so asking for it would only spend tokens."""
        return self.left <= 0

    def ranked(self):
        """Every program scored so far, best first."""
        return sorted(self.seen, key=self.seen.get, reverse=True)

    def best(self, fallback):
        """The best program scored so far, or `fallback` when nothing was scored."""
        ranked = self.ranked()
        return ranked[0] if ranked else fallback


def calls_and_samples(language_model, scores, wanted_calls):
    """(calls, samples per call) within both budgets: LM calls, responses per call, and the
    utility calls left to score the samples."""
    calls = max(1, min(wanted_calls, getattr(language_model, "budget", 1)))
    per_call = max(1, min(language_model.max_responses_per_call, scores.left // calls or 1))
    return calls, per_call
