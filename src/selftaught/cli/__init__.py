"""The `selftaught` command line: a thin layer over the Python API (`selftaught.stop`)."""

from __future__ import annotations

import inspect
import signal
import sys
from typing import Annotated

import typer
from rich.markup import escape

from selftaught.cli.options import console
from selftaught.errors import SelftaughtError

app = typer.Typer(
    name="selftaught",
    help=(
        "STOP, the Self-Taught Optimizer: improve a program with a language model, then let the "
        "improver improve itself, then use it on new tasks.\n\n"
        "Examples:\n\n"
        "* `selftaught doctor`: check the engine, the embedded model and the sandbox\n"
        "* `selftaught improve fibonacci`: improve a task's program with the seed improver\n"
        "* `selftaught self-improve --preset small`: improve the improver itself (STOP)\n"
        "* `selftaught transfer runs/RUN --tasks parity,max_cut`: use improved improvers on new tasks\n"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)


def _version(value: bool) -> None:
    if value:
        from selftaught.version import __version__

        typer.echo(f"selftaught {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    """STOP, the Self-Taught Optimizer."""


def _register() -> None:
    from selftaught.cli import lm_commands, report_commands, stop_commands, task_commands
    from selftaught.cli.options import DEBUG, _inject

    for module in (lm_commands, task_commands, stop_commands, report_commands):
        for command in module.COMMANDS:
            # --debug is read from argv by main(); declaring it lets it follow any command.
            with_debug = _inject([DEBUG], lambda group: {})(command)
            name = command.__name__.replace("_", "-")
            app.command(name=name)(with_debug)
            if "resume" in inspect.signature(command).parameters:
                RESUMABLE.add(name)


RESUMABLE: set[str] = set()  # the commands that journal a run, so an interrupted one can go on (--resume)
_register()


INTERRUPT_GRACE_S = 10.0


def _on_interrupt(signum: int, frame: object) -> None:
    """First Ctrl-C: unwind (close the LM server and the sandboxes), but never wait for
    in-flight improver runs, which can take minutes: after INTERRUPT_GRACE_S, or at a second
    Ctrl-C, exit at once. The journal is append-only, so --resume loses only unfinished work."""
    import os
    import threading

    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), "")
    kept = "finished work is kept, continue with --resume" if command in RESUMABLE else "nothing was saved"
    console.print(f"\ninterrupted: stopping (Ctrl-C again to quit at once); {kept}", style="yellow")
    signal.signal(signal.SIGINT, lambda *_: os._exit(130))
    watchdog = threading.Timer(INTERRUPT_GRACE_S, os._exit, args=(130,))
    watchdog.daemon = True  # a quick unwind exits without waiting for it
    watchdog.start()
    raise KeyboardInterrupt


def main() -> None:
    """Entry point: expected errors become one clear message and a non-zero exit."""
    signal.signal(signal.SIGINT, _on_interrupt)
    try:
        app()  # typer handles usage errors, --help and Ctrl-C itself
    except SelftaughtError as exc:
        if "--debug" in sys.argv:
            console.print_exception()
        console.print(f"[bold red]error:[/] {escape(exc.problem)}", highlight=False)
        if exc.fix:
            console.print(f"[bold]fix:[/] {escape(exc.fix)}", highlight=False)
        sys.exit(exc.exit_code)
