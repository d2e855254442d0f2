"""A backend that never reaches a model: every answer must come from the response cache.

Paired with cache mode `replay`, a finished run can be re-run offline; a request that was
never recorded fails in the cache with a message naming it, before it gets here.
"""

from __future__ import annotations

from typing import Sequence

from selftaught.errors import CacheMiss
from selftaught.lm.protocol import Completion, Message, Sampling


class ReplayBackend:
    name = "replay"

    def __init__(self, model: str) -> None:
        self.model = model

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        raise CacheMiss(
            "the replay backend was asked for a response the cache does not hold",
            "use --cache replay with --backend replay, or another backend to record",
        )

    def complete_n(self, messages: Sequence[Message], sampling: Sampling, n: int) -> list[Completion]:
        return [self.complete(messages, sampling) for _ in range(n)]

    def close(self) -> None:
        pass
