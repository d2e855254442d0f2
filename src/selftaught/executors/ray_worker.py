"""The worker's side of the `ray` executor (ray_cluster.py is the driver's): the Ray task that
performs one unit on any node, with this process's sandbox pools and proxies that carry its LM
calls and journal lookups to the driver's Desk.

A unit's proxies mirror what work.perform uses of a LanguageModelClient and a Journal, so the
same perform() runs here as in-process.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import ray

from selftaught.errors import ConfigError
from selftaught.lm.budget import Budget
from selftaught.tasks.loader import load_task
from selftaught.tasks.secret import InstanceSecret
from selftaught.utility import ScoreMemo
from selftaught.work import ImproverLimits, Pools, RunSpec, open_pools, perform

MAX_RETRIES = 3  # crashes of one unit (worker process or node lost) before the run stops


@dataclass(frozen=True)
class UnitContext:
    """What a worker needs besides the spec; in the object store once per perform()."""

    mailbox: Any  # the Mailbox actor's handle
    limits: ImproverLimits
    program_slots: int
    secret: InstanceSecret
    code: str  # fingerprint of the driver's selftaught


class _Driver:
    """Calls into the driver's Desk; its exceptions are raised here."""

    def __init__(self, mailbox: Any) -> None:
        self._mailbox = mailbox

    def __call__(self, op: str, *args: Any) -> Any:
        ok, value = ray.get(self._mailbox.ask.remote(op, args))
        if not ok:
            raise value
        return value


class _LM:
    """The unit's language model as improve.perform uses it: `with_fresh_budget` makes a client
    on the driver (the unit's); its calls, budget and sample count live there. `close` lets
    the driver forget the clients this one made."""

    def __init__(self, driver: _Driver, budget: Budget | None = None, handle: int | None = None) -> None:
        self._driver, self._handle, self._made = driver, handle, []
        self.budget = _Budget(driver, budget, handle)

    def with_fresh_budget(self, budget: Budget | None = None, stream: str | None = None) -> "_LM":
        self._made.append(_LM(self._driver, budget, self._driver("lm_open", budget, stream)))
        return self._made[-1]

    def batch_prompt(self, expertise, messages, temperature=None):
        return self._driver("lm_call", self._handle, "batch_prompt", expertise, messages, temperature)

    def prompt(self, expertise, message, n_responses=1, temperature=None):
        return self._driver("lm_call", self._handle, "prompt", expertise, message, n_responses, temperature)

    @property
    def completion_tokens(self) -> int:
        return self._driver("lm_completion_tokens", self._handle)

    def cancel(self) -> None:
        """The unit's improver run ended: its requests on the driver stop (LanguageModelClient.cancel)."""
        if self._handle is not None:
            self._driver("lm_cancel", self._handle)

    def close(self) -> None:
        for client in self._made:
            client.close()
        if self._handle is not None:
            self._driver("lm_close", self._handle)


class _Budget:
    def __init__(self, driver: _Driver, budget: Budget | None, handle: int | None) -> None:
        self._driver, self.budget, self._handle = driver, budget, handle

    @property
    def calls_used(self) -> int:
        return self._driver("lm_calls_used", self._handle)


class _Journal:
    """The driver's journal as a ScoreMemo uses it: a step recorded there is not computed here;
    one computed here is recorded there unless another unit recorded it first (that one wins)."""

    def __init__(self, driver: _Driver) -> None:
        self._driver = driver

    def get(self, kind: str, key: str) -> dict | None:
        return self._driver("journal_get", kind, key)

    def once(self, kind: str, key: str, compute: Callable[[], dict]) -> dict:
        recorded = self.get(kind, key)
        return recorded if recorded is not None else self._driver("journal_once", kind, key, compute())


_PROCESS_POOLS: dict[int, Pools] = {}


def _pools(program_slots: int) -> Pools:
    """This worker process's sandbox pools (one improver at a time), opened on first use and
    kept for the tasks it runs next; never relaxed."""

    if program_slots not in _PROCESS_POOLS:
        stack = contextlib.ExitStack()
        _PROCESS_POOLS[program_slots] = stack.enter_context(open_pools(1, program_slots, unsafe=False))
        atexit.register(stack.close)
    return _PROCESS_POOLS[program_slots]


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of this selftaught's source: improvers, tasks and scoring must match the driver's."""
    root = Path(__file__).resolve().parent.parent  # the selftaught package
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@ray.remote(num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=False)
def perform_unit(spec: RunSpec, context: UnitContext) -> dict:
    """One unit on this node: improve.perform with this process's pools, and the driver's LM
    and journal behind proxies. Returns the journal event's data."""
    import platform

    if code_fingerprint() != context.code:
        raise ConfigError(f"node {platform.node()} runs another selftaught (source {code_fingerprint()}, "
                          f"the driver's {context.code})", "install the driver's selftaught on every node")
    driver = _Driver(context.mailbox)
    # The node, so that a reader (and the node-loss test) sees where each attempt ran.
    driver("journal_record", f"{spec.kind}_started", None,
           {"run": spec.key, "node": ray.get_runtime_context().get_node_id()})
    task = load_task(spec.task)
    lm = _LM(driver)
    try:
        memo = ScoreMemo(_Journal(driver), context.secret)  # type: ignore[arg-type]
        return perform(spec, task, _pools(context.program_slots), lm, memo, context.limits)  # type: ignore[arg-type]
    finally:
        lm.close()
