"""Commands that look back at runs: `report` (an HTML page) and `runs` (a list)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from selftaught.cli.options import console
from selftaught.errors import ConfigError


def report(
    runs: Annotated[list[Path], typer.Argument(
        help="One or more run directories (self-improve, transfer or improve), shown side by side.")],
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Where to write the page [default: RUN/report.html for one run, ./report.html for "
                            "several].")] = None,
    open_page: Annotated[bool, typer.Option("--open", help="Open the page in the default browser.")] = False,
) -> None:
    """Write one self-contained HTML report of runs: meta-utility per iteration with 95% intervals,
    the transfer table as a bar chart, candidate scores, LM usage, the strategies the improvers use,
    safety telemetry (circumvention attempts with Wilson intervals, what the sandbox blocked,
    invalid outputs) and the lineage of every improver with diffs.

    The page has no scripts and fetches nothing: styles are inline and figures are embedded PNGs,
    so it can be mailed or archived as one file.

    Examples:

        selftaught report runs/20261124-095439-self-improve

        selftaught report runs/*-self-improve runs/*-transfer --out report.html --open
    """
    from selftaught.report import build_report

    if not runs:
        raise ConfigError("no run directory given", "pass one, e.g. `selftaught report runs/<run>`")
    with console.status(f"analysing {len(runs)} run{'s' if len(runs) != 1 else ''}"):
        page = build_report(runs)
    target = out or (runs[0] / "report.html" if len(runs) == 1 else Path("report.html"))
    try:
        page.save(target)
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror}", "pass a writable --out FILE") from None
    console.print(f"wrote {escape(str(target))} ({len(page.html.encode()) // 1024:,} KB, "
                  f"{len(page.analyses)} run{'s' if len(page.analyses) != 1 else ''})", highlight=False)
    if open_page:
        import webbrowser

        if not webbrowser.open(target.resolve().as_uri()):
            console.print(f"no browser found; open {escape(str(target.resolve()))} yourself", highlight=False)


def runs(
    directory: Annotated[Path, typer.Argument(help="Where the run directories are (or one run directory).")] = Path("runs"),
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object per run instead of a table.")] = False,
) -> None:
    """List runs: kind, start, tasks, model, status (finished, incomplete, empty, or damaged: with
    the reason, e.g. a file that cannot be read) and best score.

    Examples:

        selftaught runs

        selftaught runs runs/ --json
    """
    from selftaught.analysis.runs import list_runs

    listing = list_runs(directory)
    if json_output:
        for e in listing.entries:
            typer.echo(json.dumps({"path": str(e.path), "kind": e.kind, "created": e.created, "tasks": list(e.tasks),
                                   "model": e.model, "status": e.status, "best": e.best, "best_label": e.best_label}))
        for path, problem in listing.unreadable:  # a script must see them too, not a shorter list
            typer.echo(json.dumps({"path": str(path), "status": "damaged", "error": problem}))
        return
    table = Table(title=f"runs in {escape(str(directory))}")
    for column in ("run", "kind", "started", "tasks", "model", "status", "best score"):
        table.add_column(column)
    for e in listing.entries:
        best = f"{e.best:.3f} ({e.best_label})" if e.best is not None else "-"
        status = {"finished": "[green]finished[/]", "incomplete": "[yellow]incomplete[/]"}.get(e.status, e.status)
        table.add_row(escape(e.path.name), escape(e.kind), escape(e.created[:19].replace("T", " ")),
                      escape(", ".join(e.tasks)), escape(e.model), status, escape(best))
    for path, problem in listing.unreadable:
        table.add_row(escape(path.name), "?", "", "", "", "[red]damaged[/]", escape(problem))
    Console().print(table)
    if not listing.entries and not listing.unreadable:
        console.print(f"no runs in {escape(str(directory))}; start one with `selftaught improve fibonacci`",
                      highlight=False)


COMMANDS = [report, runs]
