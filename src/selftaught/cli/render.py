"""Rich output for runs: live event lines with a progress bar, and final summary tables."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from selftaught.cli.options import console
from selftaught.runs.journal import Journal
from selftaught.utility import Evaluation


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


@contextmanager
def watch(journal: Journal, description: str, total: int | None) -> Iterator[None]:
    """Show each finished step as a line, and improver runs on a bar with an ETA."""
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task(description, total=total)
        done = sum(1 for _ in journal.events("improver_run")) + sum(1 for _ in journal.events("improve"))
        bar.update(task, completed=done)

        def on_event(event: dict) -> None:
            line = describe(event)
            if line:
                bar.console.print(line, highlight=False)
            if event["kind"] in ("improver_run", "improve"):
                bar.advance(task)

        journal.subscribe(on_event)
        yield


def describe(event: dict) -> str | None:
    kind = event["kind"]
    if kind == "evaluation":
        return f"  scored {event['key']}: {event['score']:.3f}"
    if kind in ("improver_run", "improve"):
        return (f"  improver run {event['key']}: {event['status']}, val {event['val']:.3f}, test {event['test']:.3f} "
                f"({event['lm_calls']} LM calls, {event['utility_calls']} utility calls, {event['wall_time_s']:.0f} s)")
    if kind == "meta_score":
        return f"[bold]û({event['improver'][:8]})[/] = {event['val']:.3f} ± {event['val_std']:.3f} on val, {event['test']:.3f} on test"
    if kind == "iteration":
        verdict = "[green]accepted[/]" if event["accepted"] else f"[yellow]reverted[/]: {escape(event['reason'])}"
        return f"[bold]iteration {event['t']}[/]: {verdict}; û = {event['val']:.3f} (val)"
    if kind == "transfer_row":
        return f"[bold]{event['key']}[/]: u(s) = {event['seed_program']:.3f}, " + ", ".join(
            f"û({k}) = {v:.3f}" for k, v in event["improvers"].items())
    return None


def files_table(run: Path, files: list[str]) -> Table:
    table = Table(title="files", show_header=False)
    table.add_row("run directory", str(run))
    for name in files:
        if (run / name).exists():
            table.add_row(name, str(run / name))
    return table


def print_tables(*tables: Table) -> None:
    out = Console()
    for table in tables:
        out.print(table)


def evaluation_table(result: "Evaluation") -> Table:
    """Score and per-instance outcomes; problems shown for the instances that had any."""
    from collections import Counter

    statuses = Counter(i.status for i in result.instances)
    table = Table(title=f"{result.task} ({result.split}): score {result.score:.3f} over {len(result.instances)} "
                        f"instances ({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))})"
                        + (" [red]WITHOUT SANDBOX[/]" if result.unsafe else ""))
    for column in ("instance", "status", "score", "call CPU", "wall", "problem"):
        table.add_column(column)
    for i in result.instances:
        problem = (i.diagnostics.strip().splitlines() or [""])[-1][:80]
        table.add_row(str(i.index), i.status, f"{i.score:.3f}", f"{i.cpu_time_s * 1000:.1f} ms",
                      f"{i.wall_time_s * 1000:.1f} ms", escape(problem))
    return table
