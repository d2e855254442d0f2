"""Helpers for the built-in task tests: outcomes built by hand, no sandbox needed."""

import ast
import inspect

import pytest

from selftaught.sandbox import SandboxConfig, SandboxPool
from selftaught.sandbox.outcome import STATUSES, Outcome

FAILED_STATUSES = sorted(STATUSES - {"ok"})


@pytest.fixture
def ok():
    """ok(value): the Outcome of a call that returned `value`."""
    return lambda value: Outcome("ok", value=value, wall_time_s=0.01, cpu_time_s=0.01)


@pytest.fixture(params=FAILED_STATUSES)
def failed(request):
    """failed(value): an Outcome that did not succeed; it carries `value` to show the
    scorer looks at the status, not just the value."""
    return lambda value: Outcome(request.param, value=value, wall_time_s=0.01, cpu_time_s=0.01)


def entry_point_arity(task) -> int | None:
    """Number of positional parameters of the seed program's top-level entry point."""
    for node in ast.parse(task.seed_program).body:
        if isinstance(node, ast.FunctionDef) and node.name == task.entry_point:
            return len(node.args.args)
    return None


@pytest.fixture
def arity():
    return entry_point_arity


def program(function) -> str:
    """`function`'s source as a program whose entry point `algorithm` it is: a reference
    algorithm written as a plain function in a test, run through the real sandbox."""
    return f"{inspect.getsource(function)}\nalgorithm = {function.__name__}\n"


@pytest.fixture(scope="module")
def pool():
    """A real sandbox pool for the tests that score programs end to end."""
    with SandboxPool(SandboxConfig(slots=2)) as pool:
        yield pool
