"""`LMConfig`: every setting of the language-model layer, from defaults < TOML < environment < CLI."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from selftaught.errors import ConfigError
from selftaught.lm.budget import Budget
from selftaught.lm.cache import CacheMode
from selftaught.lm.client import check_temperature
from selftaught.lm.local import speculative as spec
from selftaught.lm.local.embedded import QWEN_CODER_1_5B, cache_dir
from selftaught.tomlconfig import read_table, typed, unknown_key

BACKENDS = ("local", "openai", "replay")
MAX_TOKENS_LIMIT = 32_768


@dataclass(frozen=True)
class LMConfig:
    backend: str = "local"
    model: str | None = None  # openai: required; local/replay: the embedded model's name
    base_url: str | None = None  # openai: default OPENAI_BASE_URL, then OpenAI's API
    api_key_env: str = "OPENAI_API_KEY"  # the key itself never sits in a config file
    model_path: Path | None = None  # local: another GGUF instead of the embedded one
    max_tokens: int = 1024  # the paper's limit
    temperature: float = 0.7
    budget: Budget = field(default_factory=Budget)
    cache: CacheMode = CacheMode.READWRITE
    cache_path: Path | None = None  # default: <user cache>/responses.sqlite
    timeout_s: float = 600.0
    max_retries: int = 4
    port: int = 0
    threads: int | None = None
    ctx_per_slot: int = 4096
    startup_timeout_s: float = 180.0
    speculative: str = spec.DEFAULT  # local: none | ngram | draft
    draft_model_path: Path | None = None  # local, draft: another GGUF instead of the 0.5B draft model

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f"unknown backend {self.backend!r}", f"use one of: {', '.join(BACKENDS)}")
        spec.check_kind(self.speculative)
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


_FIELDS = {f.name: f for f in dataclasses.fields(LMConfig)}
_BUDGET_KEYS = {"max_calls", "max_responses_per_call"}
_PATHS = {"model_path", "cache_path", "draft_model_path"}


def from_sources(toml_path: Path | None = None, **overrides: Any) -> LMConfig:
    """Build a config: defaults, then the [lm] table of a TOML file, then OPENAI_* environment
    variables, then explicit overrides (CLI flags; None means "not given")."""
    values: dict[str, Any] = {}
    if toml_path is not None:
        values.update(read_table(toml_path, "lm"))
    env = {"base_url": os.environ.get("OPENAI_BASE_URL"), "model": os.environ.get("OPENAI_MODEL")}
    values.update({k: v for k, v in env.items() if v})
    values.update({k: v for k, v in overrides.items() if v is not None})
    return _build(values, source=str(toml_path) if toml_path else "options")


def from_record(record: Mapping[str, Any]) -> LMConfig:
    """Exactly the config a run recorded in its config.json: no TOML file, no environment
    variables (a run resumed with OPENAI_MODEL set keeps its own model, cache keys and samples).
    A recorded budget is ignored: a run's LM budget belongs to its run settings."""
    values = {k: v for k, v in record.items() if k != "budget" and v is not None}
    return _build(values, source="the run's config.json")


def _build(values: Mapping[str, Any], source: str) -> LMConfig:
    kwargs: dict[str, Any] = {}
    budget: dict[str, int] = {}
    for key, value in values.items():
        if key in _BUDGET_KEYS:
            budget[key] = typed(source, f"lm.{key}", value, int)
        elif key in _FIELDS and key != "budget":
            kwargs[key] = _coerce(key, value, source)
        else:
            raise unknown_key(source, "lm", key, (set(_FIELDS) - {"budget"}) | _BUDGET_KEYS)
    if budget:
        kwargs["budget"] = Budget(**budget)
    return LMConfig(**kwargs)


def _coerce(key: str, value: Any, source: str) -> Any:
    """A value of the field's declared type, or an error naming the source, key and fix; never a
    conversion (`timeout_s = true` is not 1.0 s and `max_tokens = "100"` is not 100)."""
    declared = str(_FIELDS[key].type)
    if key in _PATHS:
        if not isinstance(value, (str, Path)):
            raise ConfigError(f"{source}: lm.{key} = {value!r} is not a path", f"give {key} a path string")
        return Path(value).expanduser()
    if key == "cache":
        return value if isinstance(value, CacheMode) else CacheMode.parse(value if isinstance(value, str) else repr(value))
    for name, kind in (("bool", bool), ("int", int), ("float", float), ("str", str)):
        if declared.startswith(name):
            return typed(source, f"lm.{key}", value, kind)
    return value
