"""The paper's verbs as functions, each in a run directory it creates (or resumes), returning the
report the CLI displays. Defaults are the CLI's: the `small` preset, the embedded model, runs/
for run directories and a fresh sample seed per run.

    from selftaught import improve, self_improve, transfer

    report = improve("fibonacci")                           # I(u, s, L) with the paper's seed improver
    result = self_improve(["lpn"], iterations=2)            # I_t = I_{t-1}(û, I_{t-1}, L)
    table = transfer([result.run_dir], tasks=["parity"])    # the improvers on held-out tasks

Keyword settings are the CLI's flags by their field names (`backend="replay"`, `lm_calls=2`,
`cache_path=...`); `config=` takes a whole Config instead. `display` lets a front end show
progress (the CLI's bars); a library caller leaves it out.
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator, Sequence

from selftaught.config import Config, load
from selftaught.errors import DAMAGED_RUN_FIX, ConfigError
from selftaught.ids import program_id
from selftaught.improvers import DEFAULT_IMPROVER
from selftaught.improvers import seed_improver as paper_seed_improver
from selftaught.lm.cache import CacheMode, require_recorded
from selftaught.lm.config import LMConfig
from selftaught.lm.local.embedded import Progress
from selftaught.loop import SelfImprovement
from selftaught.runs import events
from selftaught.runs.rundir import RunDir
from selftaught.session import open_session
from selftaught.settings import PLACEMENT_FIELDS, RUN_FIELDS, TRANSFER_TASKS
from selftaught.stop import (ImproveReport, improve_task, labelled_improvers, labelled_sources, load_improver,
                             seed_program_scores, self_improvement, transfer_improvers)
from selftaught.tasks.loader import builtin_dir, load_task
from selftaught.tasks.secret import read_secret
from selftaught.tasks.task import Task
from selftaught.transfer_table import TransferReport

__all__ = ["Display", "configure", "improve", "open_run", "self_improve", "transfer"]

# (run, description, improver runs expected) -> a context that yields the model-assembly
# progress callback: what a front end shows while the run works.
Display = Callable[[RunDir, str, "int | None"], ContextManager["Progress | None"]]

_LM_FIELDS = {f.name for f in dataclasses.fields(LMConfig)} - {"budget"}
_RUN_FIELDS = set(RUN_FIELDS)
_PLACEMENT_FIELDS = set(PLACEMENT_FIELDS)


def configure(preset: str = "small", config_file: Path | None = None, *, unsafe: bool = False,
              **settings: Any) -> Config:
    """A run's Config, as the CLI builds it: the preset, the [lm] and [run] tables of
    `config_file`, OPENAI_* variables, then `settings` (LM, run and placement fields by name;
    None: unset). A run without a sample seed gets a fresh one (config.load)."""
    unknown = set(settings) - _LM_FIELDS - _RUN_FIELDS - _PLACEMENT_FIELDS
    if unknown:
        raise ConfigError(f"unknown setting {sorted(unknown)[0]!r}",
                          f"use a language-model setting ({', '.join(sorted(_LM_FIELDS))}), a run setting "
                          f"({', '.join(sorted(_RUN_FIELDS))}) or a placement ({', '.join(sorted(_PLACEMENT_FIELDS))})")
    lm = {k: v for k, v in settings.items() if k in _LM_FIELDS}
    run = {k: v for k, v in settings.items() if k in _RUN_FIELDS}
    placement = {k: v for k, v in settings.items() if k in _PLACEMENT_FIELDS}  # None: unset, as a flag
    return load(preset, config_file, lm_flags=lm, run_flags=run, placement_flags=placement, unsafe=unsafe)


def open_run(command: str, config: Config, runs_dir: Path | str = "runs", resume: Path | str | None = None,
             instance_secret: Path | str | None = None, store_instance_key: bool = False,
             **record: object) -> tuple[RunDir, Config]:
    """A new run directory under `runs_dir` recording `config` (and `record`), or the one being
    resumed, whose saved config and instance key then win: only where it runs may change, where
    `config` was given a placement setting (Config.resumed_by). The run is this process's to
    write until `run.close()`: a second open of it, here or elsewhere, is refused meanwhile."""
    secret = read_secret(Path(instance_secret)) if instance_secret is not None else None
    if resume is None:
        _check_replay_cache(config.lm)
        return RunDir.create(Path(runs_dir), command, config.record(**record), secret, store_instance_key), config
    run = RunDir.resume(Path(resume), command, secret)
    with _closing_on_error(run):
        run.instance_secret  # noqa: B018  (a key this machine lacks fails here, before any work, with its fix)
        resumed = Config.from_record(run.settings).resumed_by(config)
        _check_replay_cache(resumed.lm)
        run.journal.record(events.RESUMED, placement=dataclasses.asdict(resumed.placement))  # where it runs now
    return run, resumed


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


_SHAPES: dict[str, Callable[[Any], bool]] = {
    "text": lambda value: isinstance(value, str),
    "texts": _texts,
    "pairs": lambda value: isinstance(value, list) and all(_texts(p) and len(p) == 2 for p in value),
}


def _recorded(run: RunDir, name: str, shape: str = "text") -> Any:
    """A setting the run recorded besides its Config (its task, its improver's id), checked
    against its `shape` (_SHAPES): text, texts (a list of them) or pairs (of texts)."""
    value = run.settings.get(name)
    if not _SHAPES[shape](value):
        raise ConfigError(f"{run.path / 'config.json'} lacks a valid {name!r}", DAMAGED_RUN_FIX)
    return value


def _check_replay_cache(lm: LMConfig) -> None:
    """A replay cache that is not there fails here, before a run directory records anything.
    The replay backend replays whatever --cache says (lm.open_language_model)."""
    if lm.backend == "replay" or lm.cache is CacheMode.REPLAY:
        require_recorded(lm.resolved_cache_path)


def _load_tasks(tasks: Sequence[str | Path]) -> list[Task]:
    """The tasks of one run. Scores are memoized by task name, so two tasks of one name would
    share scores: refuse them, and a task given twice (its runs would be recorded as one)."""
    loaded: dict[str, Task] = {}
    for ref in tasks:
        task = load_task(ref)
        other = loaded.get(task.name)
        if other is not None and other.directory == task.directory:
            raise ConfigError(f"task {task.name!r} ({task.directory}) is given twice", "give each task once")
        if other is not None:
            editable = other if task.directory.parent == builtin_dir().resolve() else task
            raise ConfigError(f"tasks {other.directory} and {task.directory} are both named {task.name!r}",
                              f"rename one: change `name` in {editable.directory / 'task.toml'}")
        loaded[task.name] = task
    return list(loaded.values())


def task_ref(task: str) -> str:
    """How a run records a task: built-in names stay names, task directories become absolute
    paths, so a run can be resumed from anywhere."""
    return str(Path(task).resolve()) if Path(task).is_dir() else task


@contextmanager
def _quiet(run: RunDir, description: str, total: int | None) -> Iterator[None]:
    yield None


def _config(config: Config | None, settings: dict) -> Config:
    if config is not None and settings:
        raise ConfigError("both config= and settings were given", "pass one: a Config, or settings by name")
    return config if config is not None else configure(**settings)


def improve(task: str | Path | None = None, improver: str | Path | None = None, *, config: Config | None = None,
            runs_dir: Path | str = "runs", resume: Path | str | None = None, instance_secret: Path | str | None = None,
            store_instance_key: bool = False, display: Display | None = None, **settings: Any) -> ImproveReport:
    """Improve a task's seed program with an improver: a library name, a source string, an
    improver .py file, a self-improve run directory (its last improver), or None for the default
    (improvers.DEFAULT_IMPROVER)."""
    config = _config(config, settings)
    if resume is None:
        if task is None:
            raise ConfigError("no task given", "name a task, e.g. improve('fibonacci'), or pass resume=RUN")
        source = _improver_source(DEFAULT_IMPROVER if improver is None else improver)
        loaded = load_task(task)  # fail on a bad task before creating a run directory
        run, config = open_run("improve", config, runs_dir, None, instance_secret, store_instance_key,
                               task=task_ref(str(task)), improver=program_id(source))
        with _closing_on_error(run):
            run.save_program(source)
    else:
        run, config = open_run("improve", config, runs_dir, resume, instance_secret)
        with _closing_on_error(run):
            source = run.load_program(_recorded(run, "improver"), "improver")
            loaded = load_task(_recorded(run, "task"))
    with run, (display or _quiet)(run, f"improving {loaded.name}", 1) as progress, \
            open_session(run, config, progress) as session:
        return dataclasses.replace(improve_task(session, loaded, source), run_dir=run.path)


def self_improve(tasks: Sequence[str] = ("lpn",), seed_improver: str | Path | None = None, *,
                 iterations: int | None = None, config: Config | None = None, runs_dir: Path | str = "runs",
                 resume: Path | str | None = None, instance_secret: Path | str | None = None,
                 store_instance_key: bool = False, display: Display | None = None,
                 **settings: Any) -> SelfImprovement:
    """I_0 = the seed improver (the paper's unless given), then T steps of I_t = I_{t-1}(û, I_{t-1}, L)
    with û over `tasks`. `iterations` may extend a resumed run."""
    config = _config(config, settings)
    if iterations is not None:
        config = dataclasses.replace(config, run=dataclasses.replace(config.run, iterations=iterations))
    first = _improver_source(seed_improver)
    if resume is None:
        _load_tasks(tasks)  # fail on a bad task, or two of one name, before creating a run directory
    run, config = open_run("self-improve", config, runs_dir, resume, instance_secret, store_instance_key,
                           tasks=[task_ref(str(name)) for name in tasks], seed_improver=program_id(first))
    with _closing_on_error(run):
        if resume is None:
            run.save_program(first)
        else:
            if "seed_improver" not in run.settings:
                raise ConfigError(f"{run.path} was made by a selftaught that did not record its seed improver",
                                  "start a new run; this one can still be read by `selftaught show` and the report")
            first = run.load_program(_recorded(run, "seed_improver"), "seed improver")
            if iterations is not None:
                config = dataclasses.replace(config, run=dataclasses.replace(config.run, iterations=iterations))
        loaded = _load_tasks(_recorded(run, "tasks", "texts"))
    total = config.run.improver_runs_estimate(len(loaded))
    with run, (display or _quiet)(run, "improver runs", total) as progress, \
            open_session(run, config, progress) as session:
        return dataclasses.replace(self_improvement(session, loaded, first), run_dir=run.path, settings=config.run,
                                   seed_programs=seed_program_scores(session, loaded))


def transfer(improvers: Sequence[str | Path] = (), tasks: Sequence[str] = TRANSFER_TASKS, *,
             config: Config | None = None, runs_dir: Path | str = "runs", resume: Path | str | None = None,
             instance_secret: Path | str | None = None, store_instance_key: bool = False,
             display: Display | None = None, **settings: Any) -> TransferReport:
    """The transfer table: each improver (self-improve run directories give their I_0..I_T,
    .py files and library names themselves) on each held-out task, n_tests runs per cell, on the
    same LM samples."""
    config = _config(config, settings)
    sources = [Path(p) for p in improvers]
    labelled: list[tuple[str, str]] = []
    if resume is None:
        if not sources:
            raise ConfigError("no improvers given", "pass a self-improve run directory, improver .py files, or "
                                                    "library improver names (`selftaught improvers`)")
        labelled = labelled_sources(sources)  # fail before creating a run directory
        _load_tasks(tasks)  # and on bad or clashing tasks
    directories = [path.resolve() for path in sources if path.is_dir()]
    run, config = open_run("transfer", config, runs_dir, resume, instance_secret, store_instance_key,
                           source=str(directories[0]) if len(directories) == 1 else None,
                           improvers=[[label, program_id(text)] for label, text in labelled],
                           tasks=[task_ref(str(name)) for name in tasks])
    with _closing_on_error(run):
        if resume is None:
            for _, text in labelled:
                run.save_program(text)  # the run holds what it compares, whatever happens to the sources
        elif run.settings.get("improvers"):
            labelled = [(label, run.load_program(pid, f"improver labelled {label!r}"))
                        for label, pid in _recorded(run, "improvers", "pairs")]
        else:
            labelled = labelled_improvers(Path(_recorded(run, "source")))
        loaded = _load_tasks(_recorded(run, "tasks", "texts"))
    total = len(loaded) * len({text for _, text in labelled}) * config.run.n_tests
    with run, (display or _quiet)(run, "improver runs", total) as progress, \
            open_session(run, config, progress) as session:
        return dataclasses.replace(transfer_improvers(session, labelled, loaded), run_dir=run.path)


def _improver_source(improver: str | Path | None) -> str:
    """None: the paper's seed improver; a path: load_improver; a string with a newline: source."""
    if improver is None:
        return paper_seed_improver()
    if isinstance(improver, str) and "\n" in improver:
        return improver
    return load_improver(Path(improver))


@contextmanager
def _closing_on_error(run: RunDir) -> Iterator[None]:
    """Release the run's lock when preparing it fails; after that, the verb's `with run` does."""
    try:
        yield
    except BaseException:
        run.close()
        raise

