"""Call budgets for one improver run (the paper: 4 calls, at most 6 responses each)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from selftaught.errors import BudgetExceeded, ConfigError


@dataclass(frozen=True)
class Budget:
    max_calls: int = 4
    max_responses_per_call: int = 6

    def __post_init__(self) -> None:
        if self.max_calls < 1:
            raise ConfigError(
                f"LM budget max_calls={self.max_calls} allows no calls at all",
                "set --max-calls to 1 or more (the paper uses 4)",
            )
        if self.max_responses_per_call < 1:
            raise ConfigError(
                f"LM budget max_responses_per_call={self.max_responses_per_call} allows no responses",
                "set --max-responses to 1 or more (the paper uses 6)",
            )


class BudgetTracker:
    """Counts calls against a `Budget`. Thread-safe because improvers may call from threads."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self._calls = 0
        self._lock = threading.Lock()

    @property
    def calls_used(self) -> int:
        return self._calls

    def check(self, n_responses: int) -> None:
        """Raise if one call may not ask for `n_responses` responses."""
        if n_responses < 1:
            raise ValueError(f"a call must ask for at least 1 response, got {n_responses}")
        limit = self.budget.max_responses_per_call
        if n_responses > limit:
            raise BudgetExceeded(
                f"You asked for {n_responses} responses in one call, but at most "
                f"{limit} responses per call are allowed",
                f"ask for at most {limit} responses per call",
            )

    def charge(self, n_responses: int) -> None:
        """Charge one call for `n_responses` responses, or raise without charging."""
        self.check(n_responses)
        with self._lock:
            if self._calls >= self.budget.max_calls:
                raise BudgetExceeded(
                    f"You have exceeded your call budget of {self.budget.max_calls} "
                    "language-model calls",
                    "make fewer calls; batch several messages into one batch_prompt call",
                )
            self._calls += 1
