"""The `selftaught` command line: a thin layer over the Python API."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from selftaught.errors import SelftaughtError
from selftaught.lm import config as lm_config

app = typer.Typer(
    name="selftaught",
    help=(
        "STOP, the Self-Taught Optimizer: improve a program with a language model, then let the "
        "improver improve itself.\n\n"
        "Example: selftaught doctor   (check the engine, the embedded model and the sandbox)"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
console = Console(stderr=True)

# Options shared by every command that talks to a language model.
Backend = Annotated[str, typer.Option(
    "--backend", help="local (embedded llama-server), openai (any OpenAI-compatible endpoint) or replay (cache only).",
    rich_help_panel="Language model")]
ModelName = Annotated[Optional[str], typer.Option(
    "--model", help="Model name; required for openai (or OPENAI_MODEL).", rich_help_panel="Language model")]
BaseUrl = Annotated[Optional[str], typer.Option(
    "--base-url", help="Endpoint for openai, e.g. http://127.0.0.1:8080/v1 (or OPENAI_BASE_URL).",
    rich_help_panel="Language model")]
ApiKeyEnv = Annotated[Optional[str], typer.Option(
    "--api-key-env", help="Environment variable holding the API key [default: OPENAI_API_KEY].",
    rich_help_panel="Language model")]
ModelPath = Annotated[Optional[Path], typer.Option(
    "--model-path", help="A GGUF to serve instead of the embedded Qwen2.5-Coder-1.5B.",
    rich_help_panel="Language model")]
MaxTokens = Annotated[Optional[int], typer.Option(
    "--max-tokens", help="Completion tokens per response [default: 1024, as in the paper].",
    rich_help_panel="Language model")]
Port = Annotated[Optional[int], typer.Option(
    "--port", help="Port for the local llama-server [default: any free port].", rich_help_panel="Language model")]
Threads = Annotated[Optional[int], typer.Option(
    "--threads", help="CPU threads for the local llama-server [default: llama.cpp's choice].",
    rich_help_panel="Language model")]
ConfigFile = Annotated[Optional[Path], typer.Option(
    "--config", help="TOML file with an [lm] table; flags override it.", rich_help_panel="Language model")]
StartupTimeout = Annotated[Optional[float], typer.Option(
    "--startup-timeout", help="Seconds to wait for the local llama-server to load [default: 180].",
    rich_help_panel="Language model")]
MaxRetries = Annotated[Optional[int], typer.Option(
    "--max-retries", help="Retries of 429/5xx/connection errors, with backoff and jitter [default: 4].",
    rich_help_panel="Language model")]
Timeout = Annotated[Optional[float], typer.Option(
    "--timeout", help="Seconds to wait for one response [default: 600].", rich_help_panel="Language model")]
Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")]


@contextmanager
def byte_progress(description: str) -> Iterator:
    """A rich progress bar fed by (done, total) callbacks, e.g. while assembling the model."""
    with Progress(
        "[progress.description]{task.description}", BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        console=console, transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _version(value: bool) -> None:
    if value:
        from selftaught import __version__

        typer.echo(f"selftaught {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """STOP, the Self-Taught Optimizer."""


@app.command()
def doctor(
    backend: Backend = "local",
    model: ModelName = None,
    base_url: BaseUrl = None,
    api_key_env: ApiKeyEnv = None,
    model_path: ModelPath = None,
    port: Port = None,
    threads: Threads = None,
    config: ConfigFile = None,
    debug: Debug = False,
) -> None:
    """Check this machine: engine build, model hash, free port, sandbox prerequisites, and one
    short completion with its tokens/s.

    Exits non-zero if any check fails; each failure says how to fix it.

    Examples:

      selftaught doctor

      selftaught doctor --backend openai --base-url http://127.0.0.1:8080/v1 --model local
    """
    from selftaught.doctor import run_checks

    cfg = lm_config.from_sources(
        config, backend=backend, model=model, base_url=base_url, api_key_env=api_key_env,
        model_path=model_path, port=port, threads=threads,
    )
    with byte_progress("checking model") as progress:
        findings = run_checks(cfg, progress)
    table = Table(title="selftaught doctor")
    for column in ("check", "status", "detail"):
        table.add_column(column)
    for f in findings:
        status = {True: "[green]ok[/]", False: "[red]FAIL[/]", None: "[yellow]warn[/]"}[f.ok]
        detail = f.detail + (f"\n[bold]fix:[/] {f.fix}" if f.fix else "")
        table.add_row(f.check, status, detail)
    Console().print(table)
    if any(f.ok is False for f in findings):
        raise typer.Exit(1)


@app.command()
def prompt(
    message: Annotated[str, typer.Argument(help="The user message to send.")],
    expertise: Annotated[str, typer.Option(
        "--expertise", help="The system role.")] = "You are an expert Python programmer.",
    n: Annotated[int, typer.Option("-n", help="Number of responses (one call, sent concurrently).")] = 1,
    temperature: Annotated[Optional[float], typer.Option(help="Sampling temperature, 0-2 [default: 0.7].")] = None,
    max_tokens: MaxTokens = None,
    max_calls: Annotated[Optional[int], typer.Option(
        "--max-calls", help="LM call budget [default: 4].", rich_help_panel="Budget")] = None,
    max_responses: Annotated[Optional[int], typer.Option(
        "--max-responses", help="Most responses per call [default: 6].", rich_help_panel="Budget")] = None,
    cache: Annotated[Optional[str], typer.Option(
        help="Response cache: off, readwrite or replay [default: readwrite].")] = None,
    cache_path: Annotated[Optional[Path], typer.Option(
        "--cache-path", help="SQLite file of the response cache [default: in the user cache].")] = None,
    usage_log: Annotated[Optional[Path], typer.Option(
        "--usage-log", help="Append one JSON line of accounting per call to this file.")] = None,
    code: Annotated[bool, typer.Option("--code", help="Print only the largest code block of each response.")] = False,
    backend: Backend = "local",
    model: ModelName = None,
    base_url: BaseUrl = None,
    api_key_env: ApiKeyEnv = None,
    model_path: ModelPath = None,
    port: Port = None,
    threads: Threads = None,
    startup_timeout: StartupTimeout = None,
    max_retries: MaxRetries = None,
    timeout: Timeout = None,
    config: ConfigFile = None,
    debug: Debug = False,
) -> None:
    """Send one message to the configured language model and print the responses.

    Useful to try a model or an endpoint before a run. Responses are recorded in the cache,
    so asking again replays them (use --cache off for fresh samples).

    Examples:

      selftaught prompt "Write a fast Fibonacci function." -n 3 --code

      OPENAI_API_KEY=... selftaught prompt "hi" --backend openai --model gpt-4o-mini
    """
    from rich.panel import Panel
    from rich.syntax import Syntax

    from selftaught.lm import extract_code, open_language_model

    cfg = lm_config.from_sources(
        config, backend=backend, model=model, base_url=base_url, api_key_env=api_key_env,
        model_path=model_path, port=port, threads=threads, startup_timeout_s=startup_timeout,
        max_tokens=max_tokens, temperature=temperature, max_calls=max_calls,
        max_responses_per_call=max_responses, cache=cache, cache_path=cache_path,
        max_retries=max_retries, timeout_s=timeout,
    )
    with byte_progress("assembling model") as progress, \
            open_language_model(cfg, usage_log=usage_log, progress=progress) as lm:
        with console.status(f"asking {cfg.model_name} for {n} response(s)"):
            result = lm.call("prompt", expertise, [message] * n, temperature)
    out = Console()
    for i, done in enumerate(result.completions, start=1):
        title = f"response {i}/{n}: {done.completion_tokens} tokens, {done.latency_s:.1f} s"
        if code:
            body = extract_code(done.text)
            out.print(Panel(Syntax(body, "python") if body else "[dim](no code block)[/]", title=title))
        else:
            out.print(Panel(done.text, title=title))


Unsafe = Annotated[bool, typer.Option(
    "--unsafe-no-sandbox",
    help="Run LM-written code WITHOUT isolation (for machines lacking user namespaces). Printed loudly and "
         "recorded in the output.")]


@app.command()
def evaluate(
    task: Annotated[str, typer.Argument(help="A built-in task name (e.g. parity).")],
    program: Annotated[Path, typer.Option("--program", help="The Python file to score.")],
    split: Annotated[str, typer.Option(help="Which instances: val (used for selection) or test (held out).")] = "val",
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object: score and per-instance outcomes.")] = False,
    slots: Annotated[int, typer.Option(help="Parallel sandbox workers.")] = 2,
    unsafe: Unsafe = False,
    debug: Debug = False,
) -> None:
    """Score one program on one task, each instance in the sandbox.

    The program runs isolated (bwrap namespaces, seccomp, rlimits, its own uid); the hidden
    instances and the scorer stay in this process.

    Examples:

      selftaught evaluate parity --program my_parity.py

      selftaught evaluate parity --program my_parity.py --split test --json
    """
    import json

    from selftaught.errors import ConfigError
    from selftaught.sandbox.evaluate import evaluate_task, render_text

    try:
        source = program.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read --program {program}: {exc.strerror}", "pass the path of a Python file") from None
    with console.status(f"evaluating {program} on {task} ({split})"):
        report = evaluate_task(task, source, split, unsafe=unsafe, slots=slots)
    if json_output:
        typer.echo(json.dumps(report))
    else:
        Console().print(render_text(report), highlight=False)


def main() -> None:
    """Entry point: expected errors become one clear message and a non-zero exit."""
    try:
        app()  # typer handles usage errors, --help and Ctrl-C itself
    except SelftaughtError as exc:
        if "--debug" in sys.argv:
            console.print_exception()
        console.print(f"[bold red]error:[/] {exc.problem}", highlight=False)
        if exc.fix:
            console.print(f"[bold]fix:[/] {exc.fix}", highlight=False)
        sys.exit(exc.exit_code)
