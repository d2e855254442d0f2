"""Any OpenAI-compatible chat endpoint (OpenAI, Azure, vLLM, Ollama, llama-server) via the
official SDK, which already retries 408/409/429/5xx and connection errors with
exponential backoff and jitter; we only choose how often and how long."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import openai

from selftaught.errors import EndpointError
from selftaught.lm.protocol import Completion, Message, Sampling


@dataclass(frozen=True)
class EndpointConfig:
    base_url: str
    model: str
    api_key: str
    timeout_s: float = 600.0
    max_retries: int = 4


class OpenAIBackend:
    name = "openai"

    def __init__(
        self, config: EndpointConfig, on_failure: Callable[[], None] | None = None
    ) -> None:
        self.config = config
        self.model = config.model
        # Lets the local backend turn "connection refused" into "the server crashed".
        self._on_failure = on_failure
        self._client = openai.OpenAI(
            base_url=config.base_url,
            api_key=config.api_key,
            timeout=config.timeout_s,
            max_retries=config.max_retries,
        )

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        started = time.perf_counter()
        try:
            response = self._client.chat.completions.create(
                model=self.model,
                messages=list(messages),  # type: ignore[arg-type]
                temperature=sampling.temperature,
                max_tokens=sampling.max_tokens,
                top_p=sampling.top_p,
            )
        except openai.OpenAIError as exc:
            if self._on_failure is not None:
                self._on_failure()
            raise self._explain(exc) from exc
        latency = time.perf_counter() - started
        usage = response.usage
        text = (response.choices[0].message.content or "") if response.choices else ""
        return Completion(
            text=text,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            model=response.model or self.model,
            latency_s=latency,
        )

    def _explain(self, exc: openai.OpenAIError) -> EndpointError:
        url = self.config.base_url
        if isinstance(exc, openai.AuthenticationError):
            return EndpointError(
                f"the endpoint {url} rejected the API key (401)",
                "set a valid key in OPENAI_API_KEY (or the variable named by --api-key-env)",
            )
        if isinstance(exc, openai.PermissionDeniedError):
            return EndpointError(
                f"the endpoint {url} denied access to model {self.model!r} (403)",
                "use a key with access to this model, or choose another --model",
            )
        if isinstance(exc, openai.NotFoundError):
            return EndpointError(
                f"the endpoint {url} does not serve model {self.model!r} (404)",
                "check --model and that --base-url ends in /v1",
            )
        if isinstance(exc, openai.APITimeoutError):
            return EndpointError(
                f"the endpoint {url} did not answer within {self.config.timeout_s:g} s "
                f"after {self.config.max_retries} retries",
                "raise --timeout, lower --max-tokens, or check the server's load",
            )
        if isinstance(exc, openai.APIConnectionError):
            return EndpointError(
                f"cannot reach the endpoint {url} ({exc.__cause__ or exc})",
                "check --base-url (or OPENAI_BASE_URL) and that the server is running",
            )
        if isinstance(exc, openai.APIStatusError):
            detail = str(exc.message)[:200]
            return EndpointError(
                f"the endpoint {url} answered {exc.status_code}: {detail}",
                "check the request settings (--max-tokens, --model) against the endpoint's limits",
            )
        return EndpointError(f"the endpoint {url} failed: {exc}", "rerun with --debug for details")

    def close(self) -> None:
        self._client.close()
