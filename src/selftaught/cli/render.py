"""Rich output for runs: live event lines with a progress bar, and final summary tables.

Everything shown here may carry untrusted text (keys, statuses, reasons and diagnostics come
from journals that programs and improvers influenced): every field goes through
selftaught.textsafe, and print_tables neutralises every cell of any table it prints."""

from __future__ import annotations

import copy
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from selftaught.cli.options import console
from selftaught.runs.journal import Journal
from selftaught.textsafe import clean, one_line, terminal
from selftaught.utility import Evaluation
from selftaught.runs.events import (
    DOWNSTREAM_RUNS, EVALUATION, ITERATION, META_SCORE, TRANSFER_ROW, Iteration, MetaScore, downstream_runs,
)


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


@contextmanager
def watch(journal: Journal, description: str, total: int | None) -> Iterator[None]:
    """Show each finished step as a line, and improver runs on a bar with an ETA."""
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task(description, total=total)
        done = len(downstream_runs(journal.events()))
        bar.update(task, completed=done)

        def on_event(event: dict) -> None:
            line = describe(event)
            if line:
                bar.console.print(line, highlight=False)
            if event["kind"] in DOWNSTREAM_RUNS:
                bar.advance(task)

        journal.subscribe(on_event)
        yield


def describe(event: dict) -> str | None:
    """One rich-markup line for a journal event (None: not shown); every text field neutralised."""
    kind = event["kind"]

    def field(name: str, limit: int | None = None) -> str:
        return terminal(event[name], limit, single_line=True)

    if kind == EVALUATION:
        return f"  scored {field('key')}: {event['score']:.3f}"
    if kind in DOWNSTREAM_RUNS:
        return (f"  improver run {field('key')}: {field('status')}, val {event['val']:.3f}, test {event['test']:.3f} "
                f"({event['lm_calls']} LM calls, {event['utility_calls']} utility calls, {event['wall_time_s']:.0f} s)")
    if kind == META_SCORE:
        score = MetaScore.from_event(event)
        return (f"[bold]û({terminal(score.improver[:8], single_line=True)})[/] = {score.val:.3f} "
                f"± {score.val_std:.3f} on val, {score.test:.3f} on test")
    if kind == ITERATION:
        it = Iteration.from_event(event)
        reason = terminal(it.reason, 500, single_line=True)
        verdict = "[green]accepted[/]" if it.accepted else f"[yellow]reverted[/]: {reason}"
        return f"[bold]iteration {terminal(it.t, single_line=True)}[/]: {verdict}; û = {it.val:.3f} (val)"
    if kind == TRANSFER_ROW:
        return f"[bold]{field('key')}[/]: u(s) = {event['seed_program']:.3f}, " + ", ".join(
            f"û({terminal(k, single_line=True)}) = {v:.3f}" for k, v in event["improvers"].items())
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
        out.print(neutralised(table))


def neutralised(table: Table) -> Table:
    """The table with control characters in its title and every text cell made visible (markup
    that the caller escaped stays escaped: `one_line` leaves brackets alone)."""
    clean = copy.copy(table)  # the same options; columns and rows rebuilt through rich's public API
    clean.title = one_line(table.title) if isinstance(table.title, str) else table.title
    clean.columns, clean.rows = [], []
    for column in table.columns:
        clean.add_column(column.header, footer=column.footer, header_style=column.header_style,
                         style=column.style, justify=column.justify, vertical=column.vertical,
                         overflow=column.overflow, width=column.width, min_width=column.min_width,
                         max_width=column.max_width, ratio=column.ratio, no_wrap=column.no_wrap)
    for row, cells in zip(table.rows, zip(*(column.cells for column in table.columns))):
        clean.add_row(*(one_line(cell) if isinstance(cell, str) else cell for cell in cells),
                      style=row.style, end_section=row.end_section)
    return clean


def evaluation_table(result: "Evaluation") -> Table:
    """Score and per-instance outcomes; problems shown for the instances that had any."""
    from collections import Counter

    statuses = Counter(i.status for i in result.instances)
    table = Table(title=f"{terminal(result.task, single_line=True)} ({result.split}): score {result.score:.3f} over {len(result.instances)} "
                        f"instances ({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))})"
                        + (" [red]WITHOUT SANDBOX[/]" if result.unsafe else ""))
    for column in ("instance", "status", "score", "call CPU", "wall", "problem"):
        table.add_column(column)
    for i in result.instances:
        problem = (clean(i.diagnostics).strip().splitlines() or [""])[-1][:80]
        table.add_row(str(i.index), terminal(i.status, single_line=True), f"{i.score:.3f}",
                      f"{i.cpu_time_s * 1000:.1f} ms", f"{i.wall_time_s * 1000:.1f} ms",
                      terminal(problem, single_line=True))
    if result.scorer_error:  # the task's finalize failed: why the score is 0 with instances that scored
        table.caption = terminal(f"score 0: {result.scorer_error}", single_line=True)
    return neutralised(table)
