"""Commands about tasks: tasks, new-task, evaluate."""

from __future__ import annotations

import json
import shutil
import sys
from contextlib import redirect_stdout
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from selftaught.cli.options import console
from selftaught.cli.render import evaluation_table, print_tables
from selftaught.cli.stop_commands import SecretFile, Unsafe, _secret
from selftaught.errors import ConfigError


def tasks() -> None:
    """List the built-in tasks.

    Example:

        selftaught tasks
    """
    from selftaught.tasks.loader import builtin_names, load_task

    table = Table(title="built-in tasks")
    table.add_column("task", no_wrap=True)
    table.add_column("what")
    table.add_column("val/test", no_wrap=True)
    for name in builtin_names():
        t = load_task(name)
        table.add_row(name, t.summary, f"{t.splits['val'].instances}/{t.splits['test'].instances}")
    Console().print(table)


def improvers() -> None:
    """List the improver library: each a plain STOP improver, improve_algorithm(initial_solution,
    utility, language_model), within the seed improver's budgets. Pass a name wherever an
    improver is taken.

    Examples:

        selftaught improvers

        selftaught improve fibonacci --improver keep_best

        selftaught transfer paper keep_best beam --tasks parity
    """
    from selftaught.improvers import library_improver, library_names, summary

    table = Table(title="the improver library (src/selftaught/improvers/library)")
    table.add_column("name", no_wrap=True)
    table.add_column("what it does")
    for name in library_names():
        what = summary(library_improver(name))
        table.add_row(name, "the paper's seed improver (Figure 2): " + what if name == "paper" else what)
    Console().print(table)


def new_task(
    name: Annotated[str, typer.Argument(help="Name of the new task (a directory of that name is created).")],
    directory: Annotated[Path, typer.Option("--dir", help="Where to create it.")] = Path("."),
) -> None:
    """Create a task directory to edit, starting from the Fibonacci example.

    It holds task.toml (limits, splits), seed.py (the program to improve), utility.txt (what
    the LM is told about scoring) and scorer.py (trusted scoring code).

    Example:

        selftaught new-task sorting && selftaught evaluate ./sorting --program ./sorting/seed.py
    """
    from selftaught.tasks.loader import builtin_dir

    if not name.isidentifier():
        raise ConfigError(f"task name {name!r} is not an identifier", "use letters, digits and underscores")
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"--dir {directory} is not a directory", "pass a directory (it is created if missing)")
    target = directory / name
    if target.exists():
        raise ConfigError(f"{target} already exists", "choose another name or --dir")
    try:
        shutil.copytree(builtin_dir() / "fibonacci", target, ignore=shutil.ignore_patterns("__pycache__"))
    except OSError as exc:  # e.g. a file where a parent directory should be, or no permission
        raise ConfigError(f"cannot create {target}: {exc.strerror or exc}",
                          "pass --dir a directory you can write to") from None
    meta = target / "task.toml"
    meta.write_text(meta.read_text().replace('name = "fibonacci"', f'name = "{name}"'))
    console.print(f"created {target}: edit seed.py, scorer.py and utility.txt, then run\n"
                  f"  selftaught evaluate {target} --program {target / 'seed.py'}")


def evaluate(
    task: Annotated[str, typer.Argument(help="A built-in task name or a task directory.")],
    program: Annotated[Path, typer.Option("--program", help="The Python file to score.")],
    split: Annotated[str, typer.Option(help="Which instances: val (used for selection) or test (held out).")] = "val",
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object: score and per-instance outcomes.")] = False,
    slots: Annotated[int, typer.Option(help="Parallel sandbox workers.")] = 2,
    instance_secret: SecretFile = None,
    unsafe: Unsafe = False,
) -> None:
    """Score one program on one task, each instance in the sandbox.

    The program runs isolated (bwrap namespaces, seccomp, rlimits, its own uid); the hidden
    instances and the scorer stay in this process.

    Examples:

        selftaught evaluate parity --program my_parity.py

        selftaught evaluate parity --program my_parity.py --split test --json
    """
    from selftaught.sandbox import SandboxConfig, SandboxPool
    from selftaught.tasks.loader import load_task
    from selftaught.utility import evaluate as evaluate_program

    try:
        # Bytes, decoded leniently: text that is not UTF-8 still runs and fails as a syntax error.
        source = program.read_bytes().decode("utf-8", "surrogateescape")
    except OSError as exc:
        raise ConfigError(f"cannot read --program {program}: {exc.strerror}", "pass the path of a Python file") from None
    # The scorer is trusted code running here (on import and per instance): what it prints goes
    # to stderr, so stdout holds only the result (--json is read by programs).
    with redirect_stdout(sys.stderr):
        loaded = load_task(task)
        loaded.split(split)
        with console.status(f"evaluating {program} on {loaded.name} ({split})"), \
                SandboxPool(SandboxConfig(slots=slots, unsafe=unsafe)) as pool:
            result = evaluate_program(loaded, source, split, pool, secret=_secret(instance_secret))
    if json_output:
        typer.echo(json.dumps(result.to_json()))
        return
    print_tables(evaluation_table(result))


COMMANDS = [tasks, improvers, new_task, evaluate]
