"""Any OpenAI-compatible chat endpoint (OpenAI, Azure, vLLM, Ollama, llama-server) via the
official SDK, which already retries 408/409/429/5xx and connection errors with
exponential backoff and jitter; we only choose how often and how long.

n samples of one request go out as one streamed request with `n` (the prompt is processed
once); an endpoint that ignores or refuses `n` gets separate requests from then on. A streamed
request stops when its `cancelled` event is set: closing the connection makes the server stop
generating."""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import openai

from selftaught.errors import Cancelled, EndpointError, RequestError
from selftaught.lm.backends.choices import ChoiceCollector
from selftaught.lm.backends.engine_counts import CountsTally, EngineCounts, from_timings
from selftaught.lm.backends.separate import complete_separately
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
    cancellable = True  # complete_n takes `cancelled`

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
        self.n_supported = True  # until the endpoint shows otherwise
        self._counts = CountsTally()

    def engine_counts(self) -> EngineCounts:
        """What llama-server reported doing so far (all 0 for other endpoints)."""
        return self._counts.snapshot()

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
        self._counts.add(from_timings((response.model_extra or {}).get("timings")))
        text = (response.choices[0].message.content or "") if response.choices else ""
        return Completion(
            text=text,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            model=response.model or self.model,
            latency_s=latency,
            endpoint=self.config.base_url,
        )

    def complete_n(self, messages: Sequence[Message], sampling: Sampling, n: int,
                   cancelled: threading.Event | None = None) -> list[Completion]:
        if n == 1 or not self.n_supported:
            return complete_separately(self.complete, messages, sampling, n)
        collector = ChoiceCollector(time.perf_counter())
        try:
            with self._client.chat.completions.create(
                model=self.model,
                messages=list(messages),  # type: ignore[arg-type]
                temperature=sampling.temperature,
                max_tokens=sampling.max_tokens,
                top_p=sampling.top_p,
                n=n,
                stream=True,
                stream_options={"include_usage": True},
            ) as stream:
                for chunk in stream:
                    if cancelled is not None and cancelled.is_set():
                        raise Cancelled("the improver run ended while this request was generating",
                                        "nothing to do: its samples are not needed")
                    collector.add(chunk)
        except openai.BadRequestError:
            # Perhaps `n` itself (llama-server allows n up to its --parallel slots): if n
            # separate requests work, stop using n; if not, their error is the real one.
            done = complete_separately(self.complete, messages, sampling, n)
            self.n_supported = False
            return done
        except openai.OpenAIError as exc:
            if self._on_failure is not None:
                self._on_failure()
            raise self._explain(exc) from exc
        done, counts = collector.completions(self.model)
        done = [dataclasses.replace(c, endpoint=self.config.base_url) for c in done]
        self._counts.add(counts)
        if len(done) < n:
            # The endpoint ignored `n` (one choice back): the rest, and from now on all, singly.
            self.n_supported = len(done) > 1
            done += complete_separately(self.complete, messages, sampling, n - len(done))
        return done[:n]

    def _explain(self, exc: openai.OpenAIError) -> EndpointError | RequestError:
        url = self.config.base_url
        if isinstance(exc, openai.APIStatusError) and _refused_request(exc):
            return RequestError(
                f"the endpoint {url} refused this request ({exc.status_code}): {str(exc.message)[:300]}",
                "send a shorter prompt (it must fit the model's context window with max_tokens)",
            )
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


REQUEST_ERROR_STATUSES = (400, 413, 422)  # the request itself is at fault, not the endpoint


def _refused_request(exc: openai.APIStatusError) -> bool:
    """400/413/422 (but not a bad key or model: those are 401/403/404), or a context overflow
    that some servers report as a 5xx."""
    if exc.status_code in REQUEST_ERROR_STATUSES:
        return True
    message = str(exc.message).lower()
    return "context" in message and any(word in message for word in ("exceed", "too long", "length"))

