"""The default backend: the embedded model (or any GGUF) served by a private llama.cpp server."""

from __future__ import annotations

import threading
from typing import Sequence

from selftaught.lm.backends.engine_counts import EngineCounts
from selftaught.lm.backends.openai_compat import EndpointConfig, OpenAIBackend
from selftaught.lm.local import speculative
from selftaught.lm.local.engines import Served
from selftaught.lm.local.server import LlamaServer, ServerConfig
from selftaught.lm.protocol import Completion, Message, Sampling


class LocalBackend:
    name = "local"
    cancellable = True

    def __init__(self, server: ServerConfig, timeout_s: float = 600.0) -> None:
        self.model = server.alias
        self.server = LlamaServer(server).start()
        endpoint = EndpointConfig(
            base_url=self.server.base_url, model=server.alias, api_key=server.api_key or "no-key",
            timeout_s=timeout_s, max_retries=1,
        )
        # On any request failure, first ask whether the server died: that is the real error.
        self._http = OpenAIBackend(endpoint, on_failure=self.server.check_alive)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def served(self) -> Served:
        """Which engine serves, and any fallback taken on the way (engines.py)."""
        assert self.server.served is not None
        return self.server.served

    @property
    def speculative(self) -> str:
        """The speculative-decoding setting in use, with its llama.cpp flags."""
        return speculative.describe(self.server.config.speculative)

    def engine_counts(self) -> EngineCounts:
        return self._http.engine_counts()

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        return self._http.complete(messages, sampling)

    def complete_n(self, messages: Sequence[Message], sampling: Sampling, n: int,
                   cancelled: threading.Event | None = None) -> list[Completion]:
        return self._http.complete_n(messages, sampling, n, cancelled)

    def close(self) -> None:
        self._http.close()
        self.server.stop()
