"""The `ray` executor, the driver's side (ray_worker.py is the worker's): each improver run is a
Ray task on any node of a cluster; the run's journal, response cache, usage log and LM endpoint
stay with the driver.

    driver (this process, head node)                    a worker process, any node
    --------------------------------                    --------------------------
    RayExecutor.perform ---- one Ray task per unit ---> perform_unit: work.perform with this
      journals each result as it arrives                  process's sandbox pools, the Task,
    Desk: per unit, an LM client made by the    <------   and proxies for the LM client and the
      run's client (its budget, sample count,    Mailbox  score memo's journal
      cache, log, endpoint), and the journal      actor

- Ray actors cannot live in the driver process, so the Mailbox actor (pinned to the driver's
  node) only passes requests and answers; the driver's own objects serve them.
- Each unit's LM client is made on the driver by the run's client, exactly as in-process
  (`with_fresh_budget`): the same budget checks, the same count of identical requests (the
  k-th gets sample k of the unit's stream), the same cache and endpoint cap. Every claim on a
  sample starts and ends in the driver, so a worker that dies mid-call leaves none dangling:
  the call still finishes and records its samples, and the retried unit replays them.
- Program evaluations are looked up in, and recorded to, the driver's journal (the first
  result of a program wins), so `show`, the report and a resumed run see them.
- A crash (the worker process or its node dies) is retried by Ray on any node, up to
  MAX_RETRIES times; it never scores 0. Exceptions are not retried: an improver's own
  failure is already a result (its status), and a failure of the machinery (engine,
  endpoint, replay miss, a node that cannot start the sandbox) stops the run as in-process.
- Nothing of the sandbox is relaxed on workers: they always isolate, and a driver started
  with --unsafe-no-sandbox is refused. The instance secret travels to the workers (trusted
  machinery), never into a sandbox.
- Every node must run the same selftaught (checked: a fingerprint of its source) and see
  each task: a built-in's name, or a task directory at the same absolute path.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Mapping, Sequence

from selftaught.errors import ConfigError, SelftaughtError

try:
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
except ImportError:  # pragma: no cover - depends on the install
    raise ConfigError("--executor ray needs Ray, which is not installed",
                      "pip install 'selftaught[ray]' on the driver and on every node") from None

from selftaught.executors.ray_replicas import Replicas, start_replicas
from selftaught.executors.ray_worker import MAX_RETRIES, UnitContext, code_fingerprint, perform_unit
from selftaught.lm.budget import Budget
from selftaught.lm.config import LMConfig
from selftaught.tasks.secret import user_secret
from selftaught.tasks.task import Task
from selftaught.work import RunSpec, Workplace

class RayExecutor:
    def __init__(self, address: str = "", program_slots: int = 2) -> None:
        self.address = address
        self.program_slots = program_slots  # each worker process's sandbox pool for scoring programs
        self._started_ray = not ray.is_initialized()
        if self._started_ray:
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # nothing leaves the cluster
            if address:
                _check_reachable(address)  # Ray itself retries an unreachable address for minutes
            try:
                ray.init(address=address or None, log_to_driver=False, logging_level=logging.WARNING)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise ConfigError(f"cannot join the Ray cluster at {address or 'RAY_ADDRESS/local'}: {exc}",
                                  "start one with `ray start --head` and pass its address (HOST:6379) as "
                                  "--ray-address, or leave --ray-address empty for a Ray on this machine") from None
        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._desk: Desk | None = None

    def perform(self, session: Workplace, specs: Sequence[RunSpec], tasks: Mapping[str, Task]) -> list[dict]:
        """Units not yet journalled run as Ray tasks; each result is journalled here as it
        arrives (so --resume works as in-process); the journal events in the order of specs."""
        if session.pools.programs.config.unsafe:
            raise ConfigError("--executor ray always runs programs in the sandbox",
                              "drop --unsafe-no-sandbox, or use --executor local")
        journal = session.journal
        done: dict[tuple[str, str], dict] = {}
        pending: dict[Any, RunSpec] = {}
        todo = {}
        for spec in specs:
            recorded = journal.get(spec.kind, spec.key)
            if recorded is not None:
                done[(spec.kind, spec.key)] = recorded
            else:
                todo.setdefault((spec.kind, spec.key), spec)
        if todo:
            context = ray.put(self._context(session))
            for spec in todo.values():
                pending[perform_unit.options(name=f"improver run {spec.key}").remote(spec, context)] = spec
        errors: list[BaseException] = []
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                spec = pending.pop(ready[0])
                try:
                    data = ray.get(ready[0])
                except ray.exceptions.RayTaskError as exc:  # raised by the unit: not retried
                    errors.append(exc.cause if isinstance(exc.cause, BaseException) else exc)
                    continue
                except ray.exceptions.RayError as exc:  # lost MAX_RETRIES + 1 times
                    errors.append(SelftaughtError(
                        f"improver run {spec.key} was lost {MAX_RETRIES + 1} times on the Ray cluster "
                        f"({type(exc).__name__}: {str(exc)[:300]})",
                        "check the nodes with `ray status`; --resume continues the run"))
                    continue
                done[(spec.kind, spec.key)] = journal.once(spec.kind, spec.key, lambda data=data: data)
        finally:
            for ref in pending:  # Ctrl-C: the cluster stops working for this run
                ray.cancel(ref, force=True)
        if errors:
            raise errors[0]
        return [done[(spec.kind, spec.key)] for spec in specs]

    def _context(self, session: Workplace) -> UnitContext:
        if self._desk is None or not self._desk.serves(session):
            if self._desk is not None:
                self._desk.close()
            self._desk = Desk(session)
        return UnitContext(mailbox=self._desk.mailbox, limits=session.settings.improver_limits(),
                           program_slots=self.program_slots,
                           secret=session.memo.secret or user_secret(), code=code_fingerprint())

    def start_replicas(self, lm: LMConfig, slots: int, count: str) -> Replicas:
        """Engine replicas on the cluster's nodes (ray_replicas.py) for the run's LM."""
        return start_replicas(lm, slots, count)

    def close(self) -> None:
        if self._desk is not None:
            self._desk.close()
            self._desk = None
        if self._started_ray and ray.is_initialized():
            ray.shutdown()


def _check_reachable(address: str, timeout_s: float = 10.0) -> None:
    fix = "start the head with `ray start --head --port=6379` and pass HOST:6379 as --ray-address"
    if address.startswith("ray://"):
        raise ConfigError(f"--ray-address {address}: Ray Client addresses are not supported; the driver must "
                          "run on a node of the cluster (it serves the run's LM, cache and journal)",
                          "run selftaught on the head node and pass the head's HOST:PORT")
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"--ray-address {address!r} is not HOST:PORT", fix)
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ConfigError(f"no Ray cluster answers at {address} ({exc})", fix) from None


# The driver's side -------------------------------------------------------------------------


@ray.remote(num_cpus=0, max_concurrency=1000)
class Mailbox:
    """Where workers leave requests for the driver: `ask` waits until the driver has `take`n
    the request and `answer`ed it."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue = asyncio.Queue()
        self._waiting: dict[int, asyncio.Future] = {}
        self._ids = itertools.count()

    async def ask(self, op: str, args: tuple) -> tuple[bool, Any]:
        rid = next(self._ids)
        answer = self._waiting[rid] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((rid, op, args))
        return await answer

    async def take(self, wait_s: float) -> list[tuple[int, str, tuple]]:
        """Every waiting request; [] if none came within wait_s."""
        try:
            batch = [await asyncio.wait_for(self._queue.get(), wait_s)]
        except asyncio.TimeoutError:
            return []
        while not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return batch

    async def answer(self, rid: int, ok: bool, value: Any) -> None:
        answer = self._waiting.pop(rid, None)
        if answer is not None and not answer.done():
            answer.set_result((ok, value))


class Desk:
    """Serves the workers' requests on the session's own objects, in the driver process. LM
    calls wait on the endpoint (capped by the run's client, as in-process), so they get
    threads of their own; journal lookups and records a few."""

    def __init__(self, session: Workplace) -> None:
        self._session = session
        node = ray.get_runtime_context().get_node_id()
        self.mailbox = Mailbox.options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)).remote()
        journal = session.journal
        self._clients: dict[int, Any] = {}  # the LM clients of running units, by handle
        self._handles = itertools.count()
        self._lm_pool = ThreadPoolExecutor(256, thread_name_prefix="desk-lm")
        self._fast_pool = ThreadPoolExecutor(4, thread_name_prefix="desk")
        self._ops: dict[str, tuple[ThreadPoolExecutor, Callable]] = {
            "lm_open": (self._fast_pool, self._lm_open),
            "lm_call": (self._lm_pool, self._lm_call),
            "lm_calls_used": (self._fast_pool, lambda handle: self._clients[handle].budget.calls_used),
            "lm_completion_tokens": (self._fast_pool, lambda handle: self._clients[handle].completion_tokens),
            "lm_close": (self._fast_pool, self._lm_close),
            "lm_cancel": (self._fast_pool, lambda handle: self._clients[handle].cancel()),
            "journal_get": (self._fast_pool, journal.get),
            "journal_record": (self._fast_pool, lambda kind, key, data: journal.record(kind, key, **data)),
            # first result wins: two units that evaluate one new program record it once
            "journal_once": (self._fast_pool, lambda kind, key, data: journal.once(kind, key, lambda: data)),
        }
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="desk", daemon=True)
        self._thread.start()

    def _lm_open(self, budget: Budget, stream: str | None) -> int:
        handle = next(self._handles)
        self._clients[handle] = self._session.lm.with_fresh_budget(budget, stream=stream)
        return handle

    def _lm_call(self, handle: int, method: str, *args: Any) -> list[str]:
        if method not in ("batch_prompt", "prompt"):
            raise TypeError(f"the language model has no method {method!r}")
        return getattr(self._clients[handle], method)(*args)

    def _lm_close(self, handle: int) -> None:
        client = self._clients.pop(handle, None)
        if client is not None:
            client.cancel()

    def serves(self, session: Workplace) -> bool:
        return session.journal is self._session.journal and session.lm is self._session.lm

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                batch = ray.get(self.mailbox.take.remote(0.5))
            except Exception:  # the cluster is going away; perform() reports the lost units
                if self._stop.wait(1.0):
                    return
                continue
            for rid, op, args in batch:
                pool, fn = self._ops[op]
                pool.submit(self._answer, rid, fn, args)

    def _answer(self, rid: int, fn: Callable, args: tuple) -> None:
        try:
            reply: tuple[bool, Any] = (True, fn(*args))
        except Exception as exc:  # raised again on the worker, in the unit that asked
            reply = (False, exc)
        try:
            self.mailbox.answer.remote(rid, *reply)
        except Exception as exc:  # e.g. an exception that cannot be pickled
            self.mailbox.answer.remote(rid, False, SelftaughtError(f"{type(exc).__name__}: {exc}"))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._lm_pool.shutdown(wait=False, cancel_futures=True)
        self._fast_pool.shutdown(wait=False, cancel_futures=True)
        with contextlib.suppress(Exception):
            ray.kill(self.mailbox)


