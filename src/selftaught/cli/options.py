"""Option groups shared by several commands, declared once.

`lm_options` adds the language-model flags to a command and hands it a built `LMConfig`;
`stop_options` adds those and the preset and budget flags and hands it a `Config`. Typer reads
the combined signature, so every command's --help lists the flags under their own panels.
"""

from __future__ import annotations

import functools
import inspect
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Callable, Iterator, Optional, get_type_hints

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

console = Console(stderr=True)


def _option(name: str, kind: Any, default: Any, flag: str, help: str, panel: str) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=Annotated[kind, typer.Option(flag, help=help, rich_help_panel=panel)])


LM = "Language model"
LM_OPTIONS = [
    _option("backend", Optional[str], None, "--backend",
            "local (embedded llama-server), openai (any OpenAI-compatible endpoint) or replay (cache only) "
            "[default: local].", LM),
    _option("model", Optional[str], None, "--model", "Model name; required for openai (or OPENAI_MODEL).", LM),
    _option("base_url", Optional[str], None, "--base-url",
            "Endpoint for openai, e.g. http://127.0.0.1:8080/v1 (or OPENAI_BASE_URL).", LM),
    _option("api_key_env", Optional[str], None, "--api-key-env",
            "Environment variable holding the API key [default: OPENAI_API_KEY].", LM),
    _option("model_path", Optional[Path], None, "--model-path",
            "A GGUF to serve instead of the embedded Qwen2.5-Coder-1.5B.", LM),
    _option("max_tokens", Optional[int], None, "--max-tokens", "Completion tokens per response [default: 1024].", LM),
    _option("temperature", Optional[float], None, "--temperature", "Default sampling temperature, 0-2 [default: 0.7].", LM),
    _option("cache", Optional[str], None, "--cache", "Response cache: off, readwrite or replay [default: readwrite].", LM),
    _option("cache_path", Optional[Path], None, "--cache-path",
            "SQLite file of the response cache [default: in the user cache].", LM),
    _option("port", Optional[int], None, "--port", "Port for the local llama-server [default: any free port].", LM),
    _option("threads", Optional[int], None, "--threads", "CPU threads for the local llama-server.", LM),
    _option("startup_timeout_s", Optional[float], None, "--startup-timeout",
            "Seconds to wait for the local llama-server to load [default: 180].", LM),
    _option("max_retries", Optional[int], None, "--max-retries",
            "Retries of 429/5xx/connection errors, with backoff and jitter [default: 4].", LM),
    _option("timeout_s", Optional[float], None, "--timeout", "Seconds to wait for one response [default: 600].", LM),
    _option("speculative", Optional[str], None, "--speculative",
            "Speculative decoding in the local llama-server: none, ngram or draft [default: none].", LM),
    _option("draft_model_path", Optional[Path], None, "--draft-model-path",
            "A GGUF draft model for --speculative draft [default: the 0.5B model of selftaught[draft]].", LM),
    _option("config_file", Optional[Path], None, "--config", "TOML file with [lm] and [run] tables; flags override it.", LM),
]

DEBUG = _option("debug", bool, False, "--debug", "Show tracebacks for errors.", "Options")
BUDGET = "Budgets (override the preset)"
RUN_OPTIONS = [
    _option("preset", str, "small", "--preset",
            "small: fits a 2-core laptop with the embedded model; paper: the paper's budgets.", BUDGET),
    _option("lm_calls", Optional[int], None, "--lm-calls", "LM calls per improver run (paper: 4).", BUDGET),
    _option("lm_responses", Optional[int], None, "--lm-responses", "Responses per LM call (paper: 6).", BUDGET),
    _option("utility_budget", Optional[int], None, "--utility-budget", "Utility calls per improver run (paper: 25).", BUDGET),
    _option("n_tests", Optional[int], None, "--n-tests", "Improver runs per task in one meta-utility score (paper: 5).", BUDGET),
    _option("meta_budget", Optional[int], None, "--meta-budget", "Meta-utility calls per self-improvement step.", BUDGET),
    _option("accept", Optional[str], None, "--accept",
            "How a new improver replaces the current one: paper (anything with û > 0, the paper's rule), "
            "incumbent (û at least as high) or paired (better on fresh paired runs at 95%, raced) "
            "[default: from the preset: paper for paper, paired for small].", BUDGET),
    _option("meta_responses", Optional[int], None, "--meta-responses",
            "Responses per LM call of the improver-of-improvers, i.e. candidate improvers per step "
            "[default: --lm-responses].", BUDGET),
    _option("race_first_runs", Optional[int], None, "--race-first-runs",
            "paired: fresh runs per task before the first look.", BUDGET),
    _option("race_max_runs", Optional[int], None, "--race-max-runs",
            "paired: at most this many fresh runs per task.", BUDGET),
    _option("final_runs", Optional[int], None, "--final-runs",
            "Paired runs per task comparing the last improver with the seed improver on test.", BUDGET),
    _option("meta_feedback", Optional[bool], None, "--meta-feedback/--no-meta-feedback",
            "Tell the improver-of-improvers how the current improver's runs went (how often its output "
            "scored below the program it started from, how runs failed) [default: off].", BUDGET),
    _option("workers", Optional[int], None, "--workers",
            "Improver runs at once on this machine (local executor); the LM server batches their requests.",
            BUDGET),
    _option("executor", Optional[str], None, "--executor",
            "Where improver runs go: local (this machine, --workers at once) or ray (a Ray cluster; "
            "see --ray-address) [default: local].", BUDGET),
    _option("ray_address", Optional[str], None, "--ray-address",
            "ray: the cluster's address, HOST:PORT of `ray start --head` [default: RAY_ADDRESS, or a "
            "Ray started on this machine].", BUDGET),
    _option("improver_slots", Optional[int], None, "--improver-slots",
            "Sandbox slots for improvers: at least --workers + 1.", BUDGET),
    _option("improver_time_limit_s", Optional[float], None, "--improver-time-limit",
            "Wall-time limit of one improver run, in seconds.", BUDGET),
    _option("sample_seed", Optional[str], None, "--sample-seed",
            "Name of the run's LM sample streams in the response cache; two runs with the same seed and "
            "settings replay the same samples [default: a fresh random seed per run].", BUDGET),
]


def _inject(params: list[inspect.Parameter], build: Callable[[dict], dict]) -> Callable:
    """Add `params` to a command's signature; `build` turns their values into the keyword
    arguments the command declares (e.g. {"lm": LMConfig})."""

    def decorate(fn: Callable) -> Callable:
        hints = get_type_hints(fn, include_extras=True)
        own = [p.replace(annotation=hints.get(p.name, p.annotation))
               for p in inspect.signature(fn).parameters.values()]
        own = [p for p in own if p.name not in {"lm", "config"}]  # supplied by `build`

        @functools.wraps(fn)
        def wrapper(**kwargs: Any) -> Any:
            group = {p.name: kwargs.pop(p.name) for p in params}
            return fn(**kwargs, **build(group))

        wrapper.__signature__ = inspect.Signature(own + params)
        wrapper.__annotations__ = {p.name: p.annotation for p in wrapper.__signature__.parameters.values()}
        return wrapper

    return decorate


def _lm_config(group: dict) -> Any:
    from selftaught.lm.config import from_sources

    config_file = group.pop("config_file")
    return from_sources(config_file, **group)


def lm_options(fn: Callable) -> Callable:
    """Add the language-model flags; the command receives `lm: LMConfig`."""
    return _inject(LM_OPTIONS, lambda group: {"lm": _lm_config(group)})(fn)


def stop_options(fn: Callable) -> Callable:
    """Add the language-model, preset and budget flags; the command receives `config: Config`."""

    def build(group: dict) -> dict:
        import secrets

        from selftaught.config import load

        run = {p.name: group.pop(p.name) for p in RUN_OPTIONS}
        run["sample_seed"] = run["sample_seed"] or secrets.token_hex(4)
        config_file = group.pop("config_file")
        return {"config": load(run.pop("preset"), config_file, lm_flags=group, run_flags=run)}

    return _inject(LM_OPTIONS + RUN_OPTIONS, build)(fn)


@contextmanager
def byte_progress(description: str) -> Iterator:
    """A rich progress bar fed by (done, total) callbacks, e.g. while assembling the model."""
    with Progress(
        "[progress.description]{task.description}", BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        console=console, transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)
