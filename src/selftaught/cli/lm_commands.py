"""Commands about the language model and the machine: doctor, prompt."""

from __future__ import annotations

from selftaught.textsafe import clean, terminal

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from selftaught.cli.options import byte_progress, console, lm_options
from selftaught.lm.budget import Budget
from selftaught.lm.config import LMConfig


@lm_options
def doctor(lm: LMConfig) -> None:
    """Check this machine: engine build, model hash, free port, sandbox prerequisites, and one
    short completion with its tokens/s.

    Exits non-zero if any check fails; each failure says how to fix it.

    Examples:

        selftaught doctor

        selftaught doctor --backend openai --base-url http://127.0.0.1:8080/v1 --model local
    """
    from selftaught.doctor import run_checks

    with byte_progress("checking model") as progress:
        findings = run_checks(lm, progress)
    table = Table(title="selftaught doctor")
    for column in ("check", "status", "detail"):
        table.add_column(column)
    for f in findings:
        status = {True: "[green]ok[/]", False: "[red]FAIL[/]", None: "[yellow]warn[/]"}[f.ok]
        detail = escape(f.detail) + (f"\n[bold]fix:[/] {escape(f.fix)}" if f.fix else "")
        table.add_row(f.check, status, detail)
    Console().print(table)
    if any(f.ok is False for f in findings):
        raise typer.Exit(1)


@lm_options
def prompt(
    message: Annotated[str, typer.Argument(help="The user message to send.")],
    lm: LMConfig,
    expertise: Annotated[str, typer.Option(help="The system role.")] = "You are an expert Python programmer.",
    n: Annotated[int, typer.Option("-n", help="Number of responses (one call, sent concurrently).")] = 1,
    max_calls: Annotated[Optional[int], typer.Option(
        "--max-calls", help=f"LM call budget [default: {Budget().max_calls}].", rich_help_panel="Budget")] = None,
    max_responses: Annotated[Optional[int], typer.Option(
        "--max-responses", help=f"Most responses per call [default: {Budget().max_responses_per_call}].",
        rich_help_panel="Budget")] = None,
    usage_log: Annotated[Optional[Path], typer.Option(
        "--usage-log", help="Append one JSON line of accounting per call to this file.")] = None,
    code: Annotated[bool, typer.Option("--code", help="Print only the largest code block of each response.")] = False,
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

    budget = Budget(**{k: v for k, v in (("max_calls", max_calls), ("max_responses_per_call", max_responses))
                       if v is not None})
    with byte_progress("assembling model") as progress, \
            open_language_model(lm, budget, usage_log=usage_log, progress=progress) as client:
        with console.status(f"asking {lm.model_name} for {n} response(s)"):
            result = client.call("prompt", expertise, [message] * n, None)
    out = Console()
    for i, done in enumerate(result.completions, start=1):
        title = f"response {i}/{n}: {done.completion_tokens} tokens, {done.latency_s:.1f} s"
        if code:
            body = extract_code(done.text)
            out.print(Panel(Syntax(clean(body), "python") if body else "[dim](no code block)[/]", title=title))
        else:
            out.print(Panel(terminal(done.text), title=title))


COMMANDS = [doctor, prompt]
