"""Commands of the STOP recipe: improve, self-improve, transfer, show."""

from __future__ import annotations

import dataclasses

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from selftaught.analysis.numbers import ci, signed
from selftaught.cli.options import byte_progress, console, stop_options
from selftaught.cli.render import files_table, pct, print_tables, watch
from selftaught.errors import ConfigError
from selftaught.improvers import DEFAULT_IMPROVER
from selftaught.textsafe import clean, one_line, terminal
from selftaught.config import Config
from selftaught.settings import TRANSFER_TASKS, RunSettings

RunsDir = Annotated[Path, typer.Option("--runs-dir", help="Where new run directories go.")]
Resume = Annotated[Optional[Path], typer.Option(
    "--resume", help="Continue this run directory after Ctrl-C or kill -9; finished work is not redone.")]
SecretFile = Annotated[Optional[Path], typer.Option(
    "--instance-secret",
    help="File holding the hex key that hidden instances derive from (e.g. another machine's key), "
         "to score on that run's instances; with --resume, the key of a run made elsewhere "
         "[default: this user's key, created on first use].")]
StoreKey = Annotated[bool, typer.Option(
    "--store-instance-key",
    help="Keep the instance key itself in the run directory (instance_secret), for sharing the run with "
         "people who should re-score it on the same hidden instances. By default a run keeps only the "
         "key's fingerprint and this machine's key store keeps the key.")]
Unsafe = Annotated[bool, typer.Option(
    "--unsafe-no-sandbox",
    help="Run LM-written code WITHOUT isolation (for machines lacking user namespaces). Printed loudly and "
         "recorded in the run.")]


def _secret(path: Path | None):
    from selftaught.tasks.secret import read_secret

    return read_secret(path) if path is not None else None


def _display(command: str, resumed: bool):
    """The CLI's Display (api.py): where the run is, model assembly, and a bar of improver runs."""
    from contextlib import contextmanager

    @contextmanager
    def show(run, description: str, total: int | None):
        if resumed:
            console.print(f"resuming {run.path} with its saved settings")
            for note in run.damage:
                console.print(f"[yellow]warning:[/yellow] {escape(note)}")
        else:
            console.print(f"run directory: {run.path}\n(after Ctrl-C or a crash: selftaught {command} --resume {run.path})")
            from selftaught.tasks.secret import stored_key_path

            key = stored_key_path(run.path)
            if key is not None:  # a run resumed on another machine cannot rebuild its hidden instances
                console.print(f"(to resume on another machine, take its instance key too: {key}, "
                              "passed there with --instance-secret FILE)")
        with byte_progress("assembling model") as progress, watch(run.journal, description, total=total):
            yield progress

    return show


@stop_options
def improve(
    task: Annotated[Optional[str], typer.Argument(
        help="A built-in task name or a task directory (not needed with --resume).")] = None,
    *,
    config: Config,
    improver: Annotated[Optional[Path], typer.Option(
        "--improver", help="A library improver by name (`selftaught improvers`), an improver .py file, or a "
                           f"self-improve run directory (its last improver) [default: {DEFAULT_IMPROVER}].")] = None,
    runs_dir: RunsDir = Path("runs"),
    resume: Resume = None,
    instance_secret: SecretFile = None,
    store_instance_key: StoreKey = False,
    unsafe: Unsafe = False,
) -> None:
    """Improve a task's seed program with an improver (step 6 of the STOP recipe).

    The improver runs sandboxed; it may call the language model and the task's utility
    (on `val`) within its budgets. Prints the seed's and the result's scores on val and test
    and the improved program, which is saved as improved_program.py in the run directory.

    Examples:

        selftaught improve fibonacci

        selftaught improve ./my_task --improver runs/20261124-101500-self-improve --preset paper
    """
    from selftaught import api

    if task is None and resume is None:
        raise ConfigError("no task given", "name a task, e.g. `selftaught improve fibonacci`, or pass --resume RUN")
    report = api.improve(task, improver, config=dataclasses.replace(config, unsafe=unsafe), runs_dir=runs_dir,
                         resume=resume, instance_secret=instance_secret, store_instance_key=store_instance_key,
                         display=_display("improve", resume is not None))
    run_dir = report.run_dir

    table = Table(title=f"{report.task}: seed program vs. the improver's output")
    for column in ("program", "val", "test"):
        table.add_column(column)
    table.add_row("seed program", f"{report.seed_val:.3f}", f"{report.seed_test:.3f}")
    if report.output is None:
        table.add_row(f"improver failed: {report.status}", "-", "-")
    else:
        table.add_row("improver's output", f"{report.output_val:.3f}", f"{report.output_test:.3f}")
    print_tables(table, files_table(run_dir, ["improved_program.py", "output_program.py", "events.jsonl",
                                              "usage.jsonl"]))
    if report.improved:
        Console().print(Syntax(clean(report.output), "python", line_numbers=True))
    elif report.output is None:
        console.print(terminal(report.diagnostics, 500), style="yellow")
    if report.seed_failed:
        console.print(terminal(f"warning: the task's seed program failed on every val instance ({report.seed_failed}); "
                               "`selftaught evaluate` on the task with --program its seed.py shows why"), style="yellow")
    console.print(terminal(report.verdict), style="bold green" if report.improved else "bold yellow")


@stop_options
def self_improve(
    config: Config,
    task: Annotated[list[str], typer.Option(
        "--task", help="Downstream task(s) of the meta-utility; repeat for several.")] = ["lpn"],  # noqa: B006
    iterations: Annotated[Optional[int], typer.Option(
        "--iterations", "-T", help="Self-improvement steps T [default: from the preset].")] = None,
    keep_incumbent: Annotated[bool, typer.Option(
        help="Same as --accept incumbent: reject a new improver whose û is below the current one's.")] = False,
    seed: Annotated[Optional[Path], typer.Option(
        "--seed-improver", help="Start from this improver (a library name or a .py file) instead of the paper's "
                                "seed improver (report such a run as its own arm).")] = None,
    runs_dir: RunsDir = Path("runs"),
    resume: Resume = None,
    instance_secret: SecretFile = None,
    store_instance_key: StoreKey = False,
    unsafe: Unsafe = False,
) -> None:
    """Improve the improver: I_t = I_{t-1}(û, I_{t-1}, L), starting from the paper's seed improver.

    û (the meta-utility) runs an improver n_tests times on each downstream task, each time with
    fresh budgets, and averages the val scores of what it returns. A new improver that fails or
    scores 0 is reverted; --accept decides about the rest (paired: it must beat the current
    improver on fresh paired runs). improver_0.py, improver_1.py, ... land in the run directory. Use
    several --task options for a meta-utility over several tasks.

    Examples:

        selftaught self-improve --preset small

        selftaught self-improve --task fibonacci --task string_grid_distance --task parity

        selftaught self-improve --preset paper -T 4 --backend openai --model gpt-4o

        selftaught self-improve --resume runs/20261124-101500-self-improve
    """

    from selftaught import api

    run_settings = dataclasses.replace(config.run, accept="incumbent" if keep_incumbent else config.run.accept)
    result = api.self_improve(task, seed, iterations=iterations,
                              config=dataclasses.replace(config, run=run_settings, unsafe=unsafe), runs_dir=runs_dir,
                              resume=resume, instance_secret=instance_secret, store_instance_key=store_instance_key,
                              display=_display("self-improve", resume is not None))
    print_tables(self_improvement_table(result, result.seed_programs, result.settings),
                 files_table(result.run_dir, [f"improver_{it.t}.py" for it in result.iterations]
                             + ["events.jsonl", "usage.jsonl"]))
    if result.final is not None:
        d = result.final.difference
        console.print(f"I_T vs I_0 on {d.n} fresh paired test runs: difference {d}; "
                      + ("self-improvement helped" if result.improved else "no improvement shown at 95%"))


def self_improvement_table(result, seeds: dict, settings: RunSettings) -> Table:
    table = Table(title=f"self-improvement on {', '.join(seeds)} ({settings.preset} preset, accept: "
                        f"{settings.accept}); û with 95% intervals")
    for column in ("", "improver", "û val", "û test", "verdict"):
        table.add_column(column)
    for name, (val, test) in seeds.items():
        table.add_row("u(s)", f"seed program ({name})", f"{val:.3f}", f"{test:.3f}", "")
    for it in result.iterations:
        verdict = "seed" if it.t == 0 else ("accepted" if it.accepted else "kept I_{t-1}")
        table.add_row(f"I_{it.t}", it.improver[:12], str(it.val), str(it.test),
                      verdict + ("" if it.t == 0 else escape(f": {it.reason[:90]}")))
    return table


DEFAULT_TRANSFER = ",".join(TRANSFER_TASKS)


@stop_options
def transfer(
    sources: Annotated[Optional[list[Path]], typer.Argument(
        help="Self-improve run directories (their improver_0.py, improver_1.py, ...), improver .py files and/or library "
             "improver names (`selftaught improvers`), "
             "the first being the reference for paired differences; not needed with --resume.",
        show_default=False)] = None,
    *,
    config: Config,
    tasks: Annotated[str, typer.Option(
        "--tasks", help="Comma-separated held-out tasks.")] = DEFAULT_TRANSFER,
    runs_dir: RunsDir = Path("runs"),
    resume: Resume = None,
    instance_secret: SecretFile = None,
    store_instance_key: StoreKey = False,
    unsafe: Unsafe = False,
) -> None:
    """Evaluate the seed improver and every improved I_t on held-out tasks (the paper's Table 1).

    For each task: u(s), the seed program's test score; û(I_t), the mean test score of what
    improver I_t makes of the seed program over n_tests runs, and its paired difference to the
    first improver (same runs, same LM samples). Any improvers can be compared: pass .py files
    (labelled by file name) next to or instead of run directories. Saved as transfer.md and
    transfer.json in a new run directory.

    Examples:

        selftaught transfer runs/20261124-101500-self-improve

        selftaught transfer runs/20261124-101500-self-improve --tasks parity,max_cut --n-tests 3

        selftaught transfer seed.py mine.py --tasks parity --sample-seed again

        selftaught transfer paper keep_best genetic --n-tests 4    # a leaderboard of library improvers
    """
    from selftaught import api

    if not sources and resume is None:
        raise ConfigError("no improvers given", "pass a self-improve run directory (runs/<time>-self-improve), "
                                                "improver .py files, or library improver names (`selftaught improvers`)")
    names = [t.strip() for t in tasks.split(",") if t.strip()]
    report = api.transfer(sources or [], names, config=dataclasses.replace(config, unsafe=unsafe), runs_dir=runs_dir,
                          resume=resume, instance_secret=instance_secret, store_instance_key=store_instance_key,
                          display=_display("transfer", resume is not None))
    first = report.labels[0]
    table = Table(title=escape(f"transfer (test split, {report.n_tests} runs per cell, mean [95% interval]; "
                               f"vs {first}: paired difference on the same runs and LM samples)"))
    for column in ["task", "u(s)"] + [f"û({label})" for label in report.labels]:
        table.add_column(escape(column))
    for row in report.rows:
        # Two lines per cell: each line made safe on its own (a label is a user's file name), the
        # line break between them ours. Text cells are not markup, so nothing to escape.
        cells = [Text("\n").join(Text(one_line(line)) for line in
                                  [ci(row.improvers[label])] + ([f"vs {first}: {signed(row.versus_first[label])}"]
                                                                if label in row.versus_first else []))
                 for label in report.labels]
        table.add_row(escape(row.task), pct(row.seed_program), *cells)
    print_tables(table, files_table(report.run_dir, ["transfer.md", "transfer.json", "events.jsonl"]))


def show(
    run: Annotated[Path, typer.Argument(help="A run directory.")],
) -> None:
    """Summarise a run: scores, improver runs by outcome, LM tokens, wall time, and what the
    sandbox saw (static flags such as attempts to touch budgets, and blocked actions).

    Example:

        selftaught show runs/20261124-101500-self-improve
    """
    from selftaught.runs.summary import summarize

    s = summarize(run)  # load_run refuses a directory that is no run, or cannot be read, with a fix
    overview = Table(title=f"{run.name} ({s.command})", show_header=False)
    overview.add_row("wall time", f"{s.wall_time_s / 60:.1f} min"
                     + (f" over {s.sittings} sittings (the time between them not counted)" if s.sittings > 1 else ""))
    cached = f"; {'all' if s.cached_calls == s.lm_calls else s.cached_calls} from the cache" if s.cached_calls else ""
    overview.add_row("LM calls", f"{s.lm_calls} ({s.prompt_tokens:,} prompt + {s.completion_tokens:,} completion "
                                 f"tokens{cached})")
    overview.add_row("improver runs", f"{s.improver_runs}: " + ", ".join(f"{k} {v}" for k, v in s.improver_statuses.items()))
    overview.add_row("static flags", ", ".join(f"{k} {v}" for k, v in sorted(s.flags.items())) or "none")
    overview.add_row("blocked by the sandbox", str(s.blocked))
    task_sets = {", ".join(m["tasks"]) for m in s.meta_scores}
    per_task = len(task_sets) > 1  # a transfer scores each improver per task; a self-improve run on one set
    on = "" if per_task or not task_sets else f" on {task_sets.pop()}"
    scores = Table(title=escape(f"meta-utility û per improver{on} (mean [95% interval] over n improver runs)"))
    for column in ("improver", "tasks", "n", "û val", "û test") if per_task else ("improver", "n", "û val", "û test"):
        scores.add_column(column)
    for m in s.meta_scores:
        name = f"{m['label']} ({m['improver'][:8]})" if m["label"] else m["improver"][:12]
        cells = [escape(name)] + ([escape(", ".join(m["tasks"]))] if per_task else [])
        scores.add_row(*cells, str(m["n"]), _with_interval(m["val"], m["val_ci"]), _with_interval(m["test"], m["test_ci"]))
    tables = [overview] + ([scores] if s.meta_scores else [])
    if s.iterations:
        its = Table(title="iterations")
        for column in ("t", "verdict", "û val", "û test"):
            its.add_column(column)
        for it in s.iterations:
            its.add_row(str(it.t), "accepted" if it.accepted else escape(it.reason), f"{it.val:.3f}",
                        f"{it.test:.3f}")
        tables.append(its)
    print_tables(*tables)


def _with_interval(mean: float, interval: list | None) -> str:
    if not interval or interval[0] == interval[1]:
        return f"{mean:.3f}"
    return f"{mean:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"


COMMANDS = [improve, self_improve, transfer, show]
