"""n samples as n separate, concurrent requests: the path for endpoints that ignore `n`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence

from selftaught.lm.protocol import Completion, Message, Sampling

Complete = Callable[[Sequence[Message], Sampling], Completion]


def complete_separately(complete: Complete, messages: Sequence[Message], sampling: Sampling,
                        n: int) -> list[Completion]:
    """Sent at once, so a server with n slots decodes them as one batch."""
    if n == 1:
        return [complete(messages, sampling)]
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="lm-separate") as pool:
        futures = [pool.submit(complete, messages, sampling) for _ in range(n)]
        return [f.result() for f in futures]
