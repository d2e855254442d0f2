"""Commands of the STOP recipe: improve, self-improve, transfer, show."""

from __future__ import annotations

import dataclasses

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from selftaught.cli.options import byte_progress, console, stop_options
from selftaught.cli.render import files_table, pct, print_tables, watch
from selftaught.errors import ConfigError
from selftaught.textsafe import clean, terminal
from selftaught.config import Config
from selftaught.settings import RunSettings

if TYPE_CHECKING:
    from selftaught.stats import Interval

RunsDir = Annotated[Path, typer.Option("--runs-dir", help="Where new run directories go.")]
Resume = Annotated[Optional[Path], typer.Option(
    "--resume", help="Continue this run directory after Ctrl-C or kill -9; finished work is not redone.")]
SecretFile = Annotated[Optional[Path], typer.Option(
    "--instance-secret",
    help="File holding the hex key that hidden instances derive from (e.g. a run's instance_secret), "
         "to score on that run's instances [default: this user's secret, created on first use].")]
Unsafe = Annotated[bool, typer.Option(
    "--unsafe-no-sandbox",
    help="Run LM-written code WITHOUT isolation (for machines lacking user namespaces). Printed loudly and "
         "recorded in the run.")]


def _secret(path: Path | None):
    from selftaught.tasks.secret import read_secret

    return read_secret(path) if path is not None else None


def _start(command: str, resume: Path | None, runs_dir: Path, config: Config, unsafe: bool,
           secret_file: Path | None = None, **record: object):
    """A new run directory, or the one being resumed (whose saved config and instance secret
    then win)."""
    from selftaught.runs.rundir import RunDir

    if resume is None:
        config = dataclasses.replace(config, unsafe=unsafe)
        run = RunDir.create(runs_dir, command, config.record(**record), _secret(secret_file))
        console.print(f"run directory: {run.path}\n(after Ctrl-C or a crash: selftaught {command} --resume {run.path})")
        return run, config
    run = RunDir.resume(resume, command)
    console.print(f"resuming {run.path} with its saved settings")
    return run, Config.from_record(run.settings).moved(config.run.executor, config.run.ray_address)


def _task_ref(task: str) -> str:
    """Built-in names stay names; task directories are stored as absolute paths, so a run can
    be resumed from anywhere."""
    return str(Path(task).resolve()) if Path(task).is_dir() else task


@stop_options
def improve(
    task: Annotated[Optional[str], typer.Argument(
        help="A built-in task name or a task directory (not needed with --resume).")] = None,
    *,
    config: Config,
    improver: Annotated[Optional[Path], typer.Option(
        "--improver", help="An improver .py file, or a self-improve run directory (its last improver) "
                           "[default: the paper's seed improver].")] = None,
    runs_dir: RunsDir = Path("runs"),
    resume: Resume = None,
    instance_secret: SecretFile = None,
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
    from selftaught.ids import program_id
    from selftaught.improvers import seed_improver
    from selftaught.stop import improve_task, load_improver, open_session
    from selftaught.tasks.loader import load_task

    if task is None and resume is None:
        raise ConfigError("no task given", "name a task, e.g. `selftaught improve fibonacci`, or pass --resume RUN")
    if resume is None:
        source = seed_improver() if improver is None else load_improver(improver)
        loaded = load_task(task)  # fail on a bad task before creating a run directory
        run, config = _start("improve", None, runs_dir, config, unsafe, instance_secret,
                             task=_task_ref(task), improver=program_id(source))
        run.save_program(source)
    else:
        run, config = _start("improve", resume, runs_dir, config, unsafe)
        source = run.load_program(run.settings["improver"])
        loaded = load_task(run.settings["task"])
    with byte_progress("assembling model") as progress, \
            open_session(run, config, progress) as session, \
            watch(run.journal, f"improving {loaded.name}", total=1):
        report = improve_task(session, loaded, source)

    table = Table(title=f"{loaded.name}: seed program vs. the improver's output")
    for column in ("program", "val", "test"):
        table.add_column(column)
    table.add_row("seed program", f"{report.seed_val:.3f}", f"{report.seed_test:.3f}")
    if report.output is None:
        table.add_row(f"improver failed: {report.status}", "-", "-")
    else:
        table.add_row("improver's output", f"{report.output_val:.3f}", f"{report.output_test:.3f}")
    print_tables(table, files_table(run.path, ["improved_program.py", "output_program.py", "events.jsonl",
                                               "usage.jsonl"]))
    if report.improved:
        Console().print(Syntax(clean(report.output), "python", line_numbers=True))
    elif report.output is None:
        console.print(terminal(report.diagnostics, 500), style="yellow")
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
        "--seed-improver", help="Start from this improver .py file instead of the paper's seed improver "
                                "(report such a run as its own arm).")] = None,
    runs_dir: RunsDir = Path("runs"),
    resume: Resume = None,
    instance_secret: SecretFile = None,
    unsafe: Unsafe = False,
) -> None:
    """Improve the improver: I_t = I_{t-1}(û, I_{t-1}, L), starting from the paper's seed improver.

    û (the meta-utility) runs an improver n_tests times on each downstream task, each time with
    fresh budgets, and averages the val scores of what it returns. A new improver that fails or
    scores 0 is reverted; --accept decides about the rest (paired: it must beat the current
    improver on fresh paired runs). improver_<t>.py files land in the run directory. Use
    several --task options for a meta-utility over several tasks.

    Examples:

        selftaught self-improve --preset small

        selftaught self-improve --task fibonacci --task string_grid_distance --task parity

        selftaught self-improve --preset paper -T 4 --backend openai --model gpt-4o

        selftaught self-improve --resume runs/20261124-101500-self-improve
    """

    from selftaught.ids import program_id
    from selftaught.improvers import seed_improver
    from selftaught.stop import load_improver, open_session, seed_program_scores, self_improvement
    from selftaught.tasks.loader import load_task

    settings = dataclasses.replace(config.run, accept="incumbent" if keep_incumbent else config.run.accept,
                                   iterations=config.run.iterations if iterations is None else iterations)
    first = seed_improver() if seed is None else load_improver(seed)
    if resume is None:
        tasks = [load_task(name) for name in task]  # fail on a bad task before creating a run directory
    run, config = _start("self-improve", resume, runs_dir, dataclasses.replace(config, run=settings), unsafe,
                         instance_secret, tasks=[_task_ref(name) for name in task], seed_improver=program_id(first))
    if resume is None:
        run.save_program(first)
    elif "seed_improver" in run.settings:
        first = run.load_program(run.settings["seed_improver"])
    else:
        first = seed_improver()  # runs made before --seed-improver existed
    if iterations is not None:  # -T may extend a resumed run
        config = dataclasses.replace(config, run=dataclasses.replace(config.run, iterations=iterations))
    settings = config.run
    tasks = [load_task(name) for name in run.settings["tasks"]]
    with byte_progress("assembling model") as progress, \
            open_session(run, config, progress) as session, \
            watch(run.journal, "improver runs", total=settings.improver_runs_estimate(len(tasks))):
        result = self_improvement(session, tasks, first)
        seeds = seed_program_scores(session, tasks)
    print_tables(self_improvement_table(result, seeds, settings),
                 files_table(run.path, [f"improver_{it.t}.py" for it in result.iterations]
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


DEFAULT_TRANSFER = "parity,three_sat,max_cut,string_grid_distance,mqap"


@stop_options
def transfer(
    sources: Annotated[Optional[list[Path]], typer.Argument(
        help="Self-improve run directories (their improver_<t>.py files) and/or improver .py files, "
             "the first being the reference for paired differences; not needed with --resume.",
        show_default=False)] = None,
    *,
    config: Config,
    tasks: Annotated[str, typer.Option(
        "--tasks", help="Comma-separated held-out tasks.")] = DEFAULT_TRANSFER,
    runs_dir: RunsDir = Path("runs"),
    resume: Resume = None,
    instance_secret: SecretFile = None,
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
    """
    from selftaught.ids import program_id
    from selftaught.stop import labelled_improvers, labelled_sources, open_session, transfer_improvers
    from selftaught.tasks.loader import load_task

    if not sources and resume is None:
        raise ConfigError("no improvers given", "pass a self-improve run directory (runs/<time>-self-improve) "
                                                "or improver .py files")
    names = [t.strip() for t in tasks.split(",") if t.strip()]
    labelled: list[tuple[str, str]] = []
    if resume is None:
        labelled = labelled_sources(sources)  # fail before creating a run directory
        for name in names:
            load_task(name)
    directories = [path.resolve() for path in sources or [] if path.is_dir()]
    run, config = _start("transfer", resume, runs_dir, config, unsafe, instance_secret,
                         source=str(directories[0]) if len(directories) == 1 else None,
                         improvers=[[label, program_id(text)] for label, text in labelled],
                         tasks=[_task_ref(name) for name in names])
    if resume is None:
        for _, text in labelled:
            run.save_program(text)  # the run holds what it compares, whatever happens to the sources
    elif run.settings.get("improvers"):
        labelled = [(label, _saved_improver(run, label, pid)) for label, pid in run.settings["improvers"]]
    else:
        labelled = labelled_improvers(Path(run.settings["source"]))  # runs made before .py sources
    settings = config.run
    loaded = [load_task(name) for name in run.settings["tasks"]]
    expected = len(loaded) * len({text for _, text in labelled}) * settings.n_tests
    with byte_progress("assembling model") as progress, \
            open_session(run, config, progress) as session, \
            watch(run.journal, "improver runs", total=expected):
        report = transfer_improvers(session, labelled, loaded)

    first = report.labels[0]
    table = Table(title=escape(f"transfer (test split, {settings.n_tests} runs per cell, mean [95% interval]; "
                               f"vs {first}: paired difference on the same runs and LM samples)"))
    for column in ["task", "u(s)"] + [f"û({label})" for label in report.labels]:
        table.add_column(escape(column))
    for row in report.rows:
        cells = [f"{row.improvers[label]}" + (f"\nvs {first}: {_signed(row.versus_first[label])}"
                                              if label in row.versus_first else "") for label in report.labels]
        table.add_row(escape(row.task), pct(row.seed_program), *map(escape, cells))
    print_tables(table, files_table(run.path, ["transfer.md", "transfer.json", "events.jsonl"]))


def show(
    run: Annotated[Path, typer.Argument(help="A run directory.")],
) -> None:
    """Summarise a run: scores, improver runs by outcome, LM tokens, wall time, and what the
    sandbox saw (static flags such as attempts to touch budgets, and blocked actions).

    Example:

        selftaught show runs/20261124-101500-self-improve
    """
    from selftaught.runs.summary import summarize

    if not (run / "config.json").is_file():
        raise ConfigError(f"{run} is not a run directory (no config.json)", "pass a directory under runs/")
    s = summarize(run)
    overview = Table(title=f"{run.name} ({s.command})", show_header=False)
    overview.add_row("wall time", f"{s.wall_time_s / 60:.1f} min")
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
            its.add_row(str(it["t"]), "accepted" if it["accepted"] else escape(it["reason"]), f"{it['val']:.3f}",
                        f"{it['test']:.3f}")
        tables.append(its)
    print_tables(*tables)


def _saved_improver(run, label: str, pid: str) -> str:
    try:
        return run.load_program(pid)
    except OSError:
        raise ConfigError(f"{run.path} lacks programs/{pid}.py, the improver labelled {label!r}",
                          "start a new transfer from the improvers' files") from None


def _signed(i: Interval) -> str:
    """A paired difference: mean [lo, hi] with signs."""
    return f"{i.mean:+.3f} [{i.lo:+.3f}, {i.hi:+.3f}]" if i.n > 1 else f"{i.mean:+.3f} (n={i.n})"


def _with_interval(mean: float, interval: list | None) -> str:
    if not interval or interval[0] == interval[1]:
        return f"{mean:.3f}"
    return f"{mean:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"


COMMANDS = [improve, self_improve, transfer, show]
