"""Executors run the independent units of STOP's work: the improver runs of one û, the paired
runs of a race, the cells of a transfer table. The algorithm code maps a function over units
and reads the results in order; where the units run is the executor's business.

- `serial`: one after another (the paper's code).
- `local`: a thread pool on this machine; each unit takes its own sandbox slot, and the LM
  server batches the requests of concurrent units (it needs `workers x responses` slots).
- `ray`: Ray tasks on a cluster (executors/ray_cluster.py); results are journalled here.

A unit's LM samples depend only on its stream and its own requests (each improver run's client
counts its identical requests, lm/client.py), so its result does not depend on which executor
ran it, in what order, or whether the run was resumed.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Mapping, Protocol, Sequence, TypeVar

from selftaught.settings import Placement
from selftaught.work import RunSpec, Workplace, attempt
from selftaught.tasks.task import Task

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    workers: int

    def perform(self, session: Workplace, specs: Sequence[RunSpec], tasks: Mapping[str, Task]) -> list[dict]:
        """Each improver run of `specs` (tasks: the Task of each spec.task), journalled once in
        the run's journal; the journal events in the order of specs. An improver's
        own failure is a result (its status); a run that raises (a failure of the machinery:
        engine, endpoint, replay miss) re-raises here, after the others have finished."""
        ...

    def close(self) -> None: ...


class _InProcess:
    """perform() through map(): each spec is `attempt`ed in this process."""

    def perform(self, session: Workplace, specs: Sequence[RunSpec], tasks: Mapping[str, Task]) -> list[dict]:
        return self.map(lambda spec: attempt(session, spec, tasks[spec.task]), specs)


class SerialExecutor(_InProcess):
    workers = 1

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        return [fn(item) for item in items]

    def close(self) -> None:
        pass


class LocalExecutor(_InProcess):
    """A thread pool. Units block on the sandbox and the LM, not on Python, so threads suffice."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="unit")

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        futures = [self._pool.submit(fn, item) for item in items]
        errors = [f.exception() for f in futures]  # waits for every unit
        first = next((e for e in errors if e is not None), None)
        if first is not None:
            raise first
        return [f.result() for f in futures]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def make_executor(placement: Placement) -> Executor:
    """`local`: serial for one worker, else a pool of `workers`; `ray`: the cluster at
    `ray_address` ("" starts a one-machine Ray, or joins the one RAY_ADDRESS names), whose
    workers each open `program_slots` sandbox slots."""
    if placement.executor == "ray":
        from selftaught.executors.ray_cluster import RayExecutor

        return RayExecutor(placement.ray_address, placement.program_slots)
    return SerialExecutor() if placement.workers <= 1 else LocalExecutor(placement.workers)
