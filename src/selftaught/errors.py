"""Errors a user or an improver can act on.

Every error carries a `fix`: the CLI prints ``error: <problem>`` and ``fix: <fix>`` on
one screen and exits non-zero, without a traceback unless ``--debug`` is given.
"""

from __future__ import annotations


# The fix for a run directory whose files were damaged after the run wrote them.
DAMAGED_RUN_FIX = "restore it from a copy of the run, or start a new run"


class SelftaughtError(Exception):
    """A problem with input, configuration or environment that the user can fix."""

    exit_code = 2

    def __init__(self, problem: str, fix: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.problem} (fix: {self.fix})" if self.fix else self.problem


class ConfigError(SelftaughtError):
    """A setting is missing, malformed or out of range."""


class BudgetExceeded(SelftaughtError):
    """An improver asked for more language-model calls or responses than its budget allows.

    The message is written for the improver (and the LM that wrote it) to read.
    """

    exit_code = 3


class CacheMiss(SelftaughtError):
    """Replay mode was asked for a response that was never recorded."""


class EngineError(SelftaughtError):
    """The local inference engine (llama-server) is missing, failed to start or crashed."""


class EndpointError(SelftaughtError):
    """An OpenAI-compatible endpoint could not be reached or refused the request."""


class Cancelled(SelftaughtError):
    """The improver run that made this LM request has ended; the request was dropped."""


class RequestError(SelftaughtError):
    """The endpoint refused one request because of the request itself (HTTP 400/413/422: a
    prompt longer than the context window, a parameter out of range). The machinery works:
    the improver that sent it fails, the run goes on."""
