"""`LMConfig`: every setting of the language-model layer, from defaults < TOML < environment < CLI."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from selftaught.errors import ConfigError
from selftaught.fields import described
from selftaught.lm.cache import CacheMode
from selftaught.lm.client import check_temperature
from selftaught.lm.local import engines
from selftaught.lm.local import speculative as spec
from selftaught.lm.local.embedded import QWEN_CODER_1_5B, cache_dir
from selftaught.tomlconfig import RECORD, read_table, validated

BACKENDS = ("local", "openai", "replay")
MAX_TOKENS_LIMIT = 32_768


@dataclass(frozen=True)
class LMConfig:
    backend: str = described("local (the embedded model served by llama.cpp), openai (any OpenAI-compatible "
                             "endpoint) or replay (the response cache only).", "local")
    model: str | None = described("Model name; required for openai (or OPENAI_MODEL); local/replay: the "
                                  "embedded model's name.", None, show_default=False)
    base_url: str | None = described("Endpoint for openai, e.g. http://127.0.0.1:8080/v1 (or OPENAI_BASE_URL; "
                                     "else OpenAI's API).", None, show_default=False)
    endpoints: tuple[str, ...] = described("openai: several endpoints serving the same model (vLLM or llama.cpp "
                                           "servers); each request goes to the least loaded, a failing one is "
                                           "taken out of rotation. Repeat the flag, or list them in [lm].",
                                           (), flag="--endpoint", show_default=False)
    api_key_env: str = described("Environment variable holding the API key (the key itself never sits in a "
                                 "config file).", "OPENAI_API_KEY")
    model_path: Path | None = described("A GGUF to serve instead of the embedded Qwen2.5-Coder-1.5B.", None,
                                        show_default=False)
    max_tokens: int = described("Completion tokens per response (the paper's limit).", 1024)
    temperature: float = described("Default sampling temperature, 0-2.", 0.7)
    cache: CacheMode = described("Response cache: off, readwrite or replay.", CacheMode.READWRITE)
    cache_path: Path | None = described("SQLite file of the response cache [default: <user cache>/"
                                        "responses.sqlite].", None, show_default=False)
    timeout_s: float = described("Seconds to wait for one response.", 600.0, flag="--timeout")
    max_retries: int = described("Retries of 429/5xx/connection errors, with backoff and jitter.", 4)
    port: int = described("Port for the local server (0: any free port).", 0)
    threads: int | None = described("CPU threads for the local server [default: llama.cpp's, the physical "
                                    "cores].", None, show_default=False)
    ctx_per_slot: int = described("Context tokens per server slot: the prompt (~1.5k tokens for an improver) "
                                  "plus max_tokens.", 4096)
    startup_timeout_s: float = described("Seconds to wait for the local server to load.", 180.0,
                                         flag="--startup-timeout")
    speculative: str = described("Speculative decoding in the local server: none, ngram or draft.", spec.DEFAULT)
    draft_model_path: Path | None = described("A GGUF draft model for --speculative draft [default: the 0.5B "
                                              "model of selftaught[draft]].", None, show_default=False)
    engine: str = described("Which llama.cpp serves the local model: prebuilt (the xllamacpp wheel, AVX2), "
                            "native (llama-server built on this machine, selftaught[native]) or auto (prebuilt "
                            "if installed; BENCHMARKS.md, Engines). A crash on this CPU falls back to the next.",
                            "auto")
    llama_server: Path | None = described("A llama-server binary for --engine native instead of "
                                          "selftaught[native]'s.", None, show_default=False)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f"unknown backend {self.backend!r}", f"use one of: {', '.join(BACKENDS)}")
        spec.check_kind(self.speculative)
        engines.check_engine(self.engine)
        if self.draft_model_path is not None and self.speculative != "draft":
            raise ConfigError(f"a draft model is given but speculative is {self.speculative!r}",
                              "add --speculative draft, or leave out --draft-model-path")
        if not 1 <= self.max_tokens <= MAX_TOKENS_LIMIT:
            raise ConfigError(
                f"max_tokens {self.max_tokens} is out of range",
                f"use --max-tokens between 1 and {MAX_TOKENS_LIMIT} (the paper uses 1024)",
            )
        check_temperature(self.temperature)
        if self.max_tokens >= self.ctx_per_slot and self.backend == "local":
            raise ConfigError(
                f"max_tokens {self.max_tokens} leaves no room for the prompt in a "
                f"{self.ctx_per_slot}-token context slot",
                "raise --ctx-per-slot or lower --max-tokens",
            )
        if self.timeout_s <= 0:
            raise ConfigError(f"timeout {self.timeout_s} s", "use a positive --timeout")
        if not all(self.endpoints):
            raise ConfigError(f"an endpoint is empty: {list(self.endpoints)}",
                              'give each endpoint a URL, e.g. endpoints = ["http://gpu1:8000/v1", "http://gpu2:8000/v1"]')
        if self.endpoints and self.backend != "openai":
            raise ConfigError(f"endpoints are given but the backend is {self.backend!r}",
                              "add --backend openai (and --model), or leave out --endpoint")
        if self.backend == "openai" and not self.model:
            raise ConfigError(
                "the openai backend needs a model name",
                "pass --model (or set OPENAI_MODEL), e.g. --model gpt-4o-mini",
            )

    @property
    def model_name(self) -> str:
        """The name requests and cache entries are recorded under."""
        if self.model:
            return self.model
        if self.model_path is not None:
            return self.model_path.stem
        return QWEN_CODER_1_5B.name

    @property
    def resolved_cache_path(self) -> Path:
        return self.cache_path or cache_dir() / "responses.sqlite"

    def api_key(self) -> str:
        key = os.environ.get(self.api_key_env, "")
        if not key and self.backend == "openai":
            raise ConfigError(
                f"no API key: the environment variable {self.api_key_env} is empty",
                f"export {self.api_key_env}=... (for a local server without auth, any value works)",
            )
        return key


# The LM budget is not an [lm] setting: a STOP run's is its [run] lm_calls x lm_responses
# (Config.session_budget), `selftaught prompt` takes --max-calls and --max-responses.
_BUDGET_KEYS = {"max_calls": "lm_calls", "max_responses_per_call": "lm_responses"}
_PATHS = {"model_path", "cache_path", "draft_model_path", "llama_server"}


def from_sources(toml_path: Path | None = None, elsewhere: Mapping[str, str] | None = None,
                 **overrides: Any) -> LMConfig:
    """Build a config: defaults, then the [lm] table of a TOML file, then OPENAI_* environment
    variables, then explicit overrides (CLI flags; None means "not given"). `elsewhere` (setting ->
    table) names the table of a key that belongs to another one."""
    env = {"base_url": os.environ.get("OPENAI_BASE_URL"), "model": os.environ.get("OPENAI_MODEL")}
    # Given every table's settings, the file's top level is checked too (tomlconfig.read_table).
    layers = [(str(toml_path), read_table(toml_path, "lm", elsewhere))] if toml_path is not None else []
    layers += [("the OPENAI_* environment", {k: v for k, v in env.items() if v}),
               ("the given settings", {k: v for k, v in overrides.items() if v is not None})]
    values: dict[str, Any] = {}
    for source, layer in layers:
        values.update(_checked(layer, source, elsewhere))
    return LMConfig(**values)


def from_record(record: Mapping[str, Any]) -> LMConfig:
    """Exactly the config a run recorded in its config.json: no TOML file, no environment
    variables (a run resumed with OPENAI_MODEL set keeps its own model, cache keys and samples).
    A budget recorded by older versions is ignored: a run's LM budget is its run settings'."""
    values = {k: v for k, v in record.items() if k != "budget" and v is not None}
    return LMConfig(**_checked(values, source=RECORD))


def _checked(values: Mapping[str, Any], source: str, elsewhere: Mapping[str, str] | None = None) -> dict[str, Any]:
    for key in values:
        if key in _BUDGET_KEYS:
            raise ConfigError(f"{source}: lm.{key} is not a language-model setting: the LM budget is a run's",
                              f"set {_BUDGET_KEYS[key]} in the [run] table (`selftaught prompt` takes "
                              "--max-calls and --max-responses)")
    given = dict(values)
    if isinstance(given.get("endpoints"), str):  # one endpoint may be written without a list
        given["endpoints"] = [given["endpoints"]]
    kwargs = validated(LMConfig, "lm", source, given, elsewhere)
    for key in _PATHS & kwargs.keys():
        if kwargs[key] is not None:
            kwargs[key] = kwargs[key].expanduser()
    return kwargs
