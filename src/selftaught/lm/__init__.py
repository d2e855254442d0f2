"""The language-model layer: the paper's `batch_prompt`/`prompt` with budgets, a record/replay
cache, accounting, and three backends (local llama-server, OpenAI-compatible, replay)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from selftaught.lm.budget import Budget
from selftaught.lm.cache import CacheMode, ResponseCache
from selftaught.lm.client import LanguageModelClient
from selftaught.lm.config import LMConfig
from selftaught.lm.extract import extract_code
from selftaught.lm.local.embedded import Progress
from selftaught.lm.protocol import Backend, LanguageModel
from selftaught.lm.usage import UsageLog

__all__ = [
    "Budget", "CacheMode", "LMConfig", "LanguageModel", "LanguageModelClient",
    "extract_code", "make_backend", "open_language_model",
]


def make_backend(config: LMConfig, slots: int = 6, progress: Progress | None = None) -> Backend:
    """Start (local, with `slots` parallel sequences) or connect (openai) the configured
    backend. The caller closes it."""
    if config.backend == "replay":
        from selftaught.lm.backends.replay import ReplayBackend

        return ReplayBackend(config.model_name)
    if config.backend == "openai":
        from selftaught.lm.backends.openai_compat import EndpointConfig, OpenAIBackend

        def endpoint(url: str) -> OpenAIBackend:
            return OpenAIBackend(EndpointConfig(base_url=url, model=config.model_name, api_key=config.api_key(),
                                                timeout_s=config.timeout_s, max_retries=config.max_retries))

        if config.endpoints:
            from selftaught.lm.backends.pool import EndpointPool

            return EndpointPool([endpoint(url) for url in config.endpoints])
        return endpoint(config.base_url or "https://api.openai.com/v1")
    from selftaught.lm.backends.local import LocalBackend
    from selftaught.lm.local.embedded import QWEN_CODER_0_5B_DRAFT, ensure_model
    from selftaught.lm.local.server import ServerConfig

    model_path = config.model_path or ensure_model(progress=progress)
    draft = config.draft_model_path
    if config.speculative == "draft" and draft is None:
        draft = ensure_model(QWEN_CODER_0_5B_DRAFT, progress=progress)
    return LocalBackend(
        ServerConfig(
            model_path=model_path, slots=slots,
            ctx_per_slot=config.ctx_per_slot, threads=config.threads, port=config.port,
            alias=config.model_name, startup_timeout_s=config.startup_timeout_s,
            speculative=config.speculative, draft_model_path=draft,
            engine=config.engine, llama_server=config.llama_server,
        ),
        timeout_s=config.timeout_s,
    )


@contextmanager
def open_language_model(
    config: LMConfig, budget: Budget = Budget(), usage_log: Path | None = None, progress: Progress | None = None
) -> Iterator[LanguageModelClient]:
    """A ready client with `budget` (a local server gets one slot per response it may be asked
    for at once); the backend (and a local server) is stopped on exit, Ctrl-C included."""
    cache_mode = CacheMode.REPLAY if config.backend == "replay" else config.cache
    cache = ResponseCache(
        None if cache_mode is CacheMode.OFF else config.resolved_cache_path, cache_mode
    )
    backend = make_backend(config, budget.max_responses_per_call, progress)
    client = LanguageModelClient(
        backend, cache, UsageLog(usage_log), budget, config.max_tokens, config.temperature
    )
    try:
        yield client
    finally:
        client.close()
        backend.close()
        cache.close()
