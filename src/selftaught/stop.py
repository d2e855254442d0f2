"""The STOP recipe as a Python API: improve a task's program, self-improve the improver,
transfer improvers to new tasks. Each function works in a run directory, resumes from it, and
returns a report object (the CLI only displays it).

    with open_session(run, Config(lm_config, settings)) as session:
        report = improve_task(session, load_task("fibonacci"), seed_improver())
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from selftaught.config import Config
from selftaught.errors import ConfigError
from selftaught.ids import program_id
from selftaught.improvers import ENTRY_POINT, library_improver, library_names
from selftaught.work import RunSpec, task_ref
from selftaught.loop import SelfImprovement, self_improve
from selftaught.meta import MetaUtility
from selftaught.session import Session, open_session
from selftaught.tasks.task import Task
from selftaught.transfer_table import TransferReport, transfer
from selftaught.utility import Evaluation

__all__ = ["Session", "open_session", "improve_task", "self_improvement", "transfer_improvers",
           "Config", "ImproveReport"]


@dataclass(frozen=True)
class ImproveReport:
    task: str
    seed_val: float
    seed_test: float
    status: str  # of the improver run
    output: str | None  # what the improver returned (what û measures, as in the paper)
    output_val: float
    output_test: float
    diagnostics: str
    wall_time_s: float
    run_dir: Path | None = None  # where the run keeps improved_program.py and its journal
    seed_failed: str = ""  # e.g. "crash on 10 of 10": the seed program failed on every val instance

    def __str__(self) -> str:
        return f"{self.task}: {self.verdict} (test: seed {self.seed_test:.3f}, output {self.output_test:.3f})"

    @property
    def improved(self) -> bool:
        """The improver's output beat the seed program on val (the split it may look at)."""
        return self.output is not None and self.output_val > self.seed_val

    @property
    def best_program_is_output(self) -> bool:
        return self.improved

    @property
    def verdict(self) -> str:
        if self.output is None:
            return f"no improvement: the improver run failed ({self.status}); the seed program is kept"
        if not self.improved:
            return (f"no improvement found: the improver's output scored {self.output_val:.3f} on val, "
                    f"not above the seed program's {self.seed_val:.3f}; the seed program is kept")
        return f"improved: val {self.seed_val:.3f} -> {self.output_val:.3f}"


def improve_task(session: Session, task: Task, improver: str) -> ImproveReport:
    """One run of `improver` on the task's seed program, scored on val and test.

    The run directory keeps the improver's raw output (output_program.py) and, as
    improved_program.py, the better of the seed program and that output on val: a user is
    never handed a program worse than the one they started from."""
    memo, programs = session.memo, session.pools.programs
    seed = memo.evaluation(task, task.seed_program, "val", programs)
    seed_test = memo.evaluation(task, task.seed_program, "test", programs).score
    spec = RunSpec("improve", f"{program_id(improver)}/{task.name}", improver, task_ref(task), f"improve/{task.name}")
    (recorded,) = session.executor.perform(session, [spec], {spec.task: task})  # on a cluster, too
    report = ImproveReport(task.name, seed.score, seed_test, recorded["status"], recorded["solution_source"],
                           recorded["val"], recorded["test"], recorded["diagnostics"], recorded["wall_time_s"],
                           seed_failed=_failed_everywhere(seed))
    if report.output is not None:
        session.run.save_program(report.output)
        session.run.write_result("output_program.py", report.output)
    session.run.write_result("improved_program.py", report.output if report.improved else task.seed_program)
    return report


def _failed_everywhere(evaluation: Evaluation) -> str:
    """How the seed program failed, when it failed on every instance: a seed that cannot run
    (an import the sandbox lacks, an exit at import) is most likely the task's mistake, and every
    rewrite starts from it. A seed that runs but scores 0 is a task's choice, and not named."""
    if not evaluation.instances or any(i.status == "ok" for i in evaluation.instances):
        return ""
    return f"{evaluation.failed_statuses()} of {len(evaluation.instances)}"


def self_improvement(session: Session, tasks: Sequence[Task], seed: str) -> SelfImprovement:
    """I_0 = seed, then T steps of I_t = I_{t-1}(û, I_{t-1}, L); improver_<t>.py files and
    self_improvement.json in the run directory."""
    result = self_improve(session, seed, MetaUtility(session, tasks), session.settings)
    result.save(session.run.path)
    return result


def seed_program_scores(session: Session, tasks: Sequence[Task]) -> dict[str, tuple[float, float]]:
    """u(s) of each task's seed program on (val, test), from the run's score memo."""
    memo, programs = session.memo, session.pools.programs
    return {t.name: (memo.evaluation(t, t.seed_program, "val", programs).score,
                     memo.evaluation(t, t.seed_program, "test", programs).score) for t in tasks}


def transfer_improvers(session: Session, improvers: Sequence[tuple[str, str]],
                       tasks: Sequence[Task]) -> TransferReport:
    """The transfer table; also saved as transfer.md and transfer.json in the run directory."""
    report = transfer(session, improvers, tasks)
    report.save(session.run.path)
    return report


def improver_files(run: Path) -> list[Path]:
    """improver_0.py, improver_1.py, ... of a self-improve run, in order of t."""
    found = [p for p in run.glob("improver_*.py") if p.stem.split("_", 1)[1].isdigit()] if run.is_dir() else []
    if not found:
        raise ConfigError(f"{run} holds no improver_<t>.py files",
                          "pass a self-improve run directory or an improver .py file")
    return sorted(found, key=improver_index)


def improver_index(path: Path) -> int:
    """t of improver_<t>.py."""
    return int(path.stem.split("_", 1)[1])


def labelled_improvers(run: Path) -> list[tuple[str, str]]:
    """(I_t, source) for every improver of a self-improve run."""
    return [(f"I_{improver_index(p)}", read_improver(p)) for p in improver_files(run)]


def labelled_sources(paths: Sequence[Path]) -> list[tuple[str, str]]:
    """(label, source) of every improver to transfer, in order: a self-improve run directory
    gives its I_0..I_T (prefixed with the directory's name when several are given), an improver
    .py file gives itself, labelled with its file name."""
    several = sum(path.is_dir() for path in paths) > 1
    labelled = []
    for path in paths:
        if path.is_dir():
            labelled += [(f"{path.resolve().name}:{label}" if several else label, source)
                         for label, source in labelled_improvers(path)]
        else:  # a file is labelled with its name, a library improver with its own
            labelled.append((library_name(path) or path.stem, load_improver(path)))
    labels = [label for label, _ in labelled]
    for label in labels:
        if labels.count(label) > 1:
            raise ConfigError(f"two improvers would both be labelled {label!r}",
                              "pass each source once, and give files (or run directories) different names: "
                              "a file's label is its name without .py, a run's I_t is prefixed with its name")
    return labelled


def is_library_name(path: Path) -> bool:
    """A bare name (`beam`): no suffix, no folder, and no file or directory of that name here.
    Names that are not in the library are refused by library_improver, with the list."""
    return not path.exists() and path.suffix == "" and path.name == str(path)


def library_name(path: Path) -> str | None:
    """The library's own spelling of a bare name given in any case (`Beam` is `beam`), or None."""
    name = str(path).lower()
    return name if path.name == str(path) and name in library_names() else None


def load_improver(path: Path) -> str:
    """An improver by library name, from a .py file, or the last improver_<t>.py of a
    self-improve run."""
    name = library_name(path)
    if name is not None and path.exists():  # `paper` could mean the library's or the one here
        kind = "directory" if path.is_dir() else "file"
        raise ConfigError(f"{path} is both a library improver and a {kind} in this directory",
                          f"for the {kind}, pass its full path ({path.resolve()}); for the library's, run from "
                          f"another directory or rename the {kind}")
    if is_library_name(path):
        return library_improver(name or str(path))
    if path.is_dir():
        return read_improver(improver_files(path)[-1])
    if not path.exists() and library_name(Path(path.stem)) and path.suffix == ".py" and path.name == str(path):
        raise ConfigError(f"no improver file {path} here", f"for the library improver, give its name without "
                                                           f".py: {library_name(Path(path.stem))}")
    source = read_improver(path)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as exc:  # a user's file given by mistake (a run's own improver_<t>.py may not parse)
        where = f" (line {exc.lineno})" if isinstance(exc, SyntaxError) else ""
        raise ConfigError(f"improver {path} is not Python: {getattr(exc, 'msg', exc)}{where}",
                          "pass an improver .py file that defines improve_algorithm") from None
    bound = module_bindings(tree).get(ENTRY_POINT)
    if bound is None:
        raise ConfigError(f"improver {path} defines no {ENTRY_POINT} when it runs",
                          f"pass a file with def {ENTRY_POINT}(initial_solution, utility, language_model): "
                          "... (`selftaught improvers` lists ready ones)")
    if isinstance(bound, ast.AsyncFunctionDef):
        raise ConfigError(f"improver {path} defines {ENTRY_POINT} with async def, so calling it returns a "
                          "coroutine, not a program", f"define it with a plain def {ENTRY_POINT}(...)")
    return source


def module_bindings(tree: ast.Module) -> dict[str, ast.stmt]:
    """The statement that last binds each name when the module runs (as the sandbox sees it,
    which only asks that the entry point be callable): defs, classes, assignments and imports,
    also inside top-level if/try/with/for/while blocks, never inside functions or classes."""
    found: dict[str, ast.stmt] = {}
    statements = list(tree.body)
    while statements:
        node = statements.pop(0)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found[node.name] = node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            found.update({(alias.asname or alias.name).split(".")[0]: node for alias in node.names})
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found.update({n.id: node for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)})
        else:  # a compound statement: its blocks run at module level too
            for block in ("body", "orelse", "finalbody"):
                statements += [s for s in getattr(node, block, []) if isinstance(s, ast.stmt)]
            for handler in getattr(node, "handlers", []):
                statements += handler.body
    return found


def read_improver(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read improver {path}: {exc.strerror}",
                          "pass an improver .py file, a self-improve run directory, or a library improver's "
                          "name (`selftaught improvers` lists them)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"improver {path} is not UTF-8 text", "pass an improver .py file") from None
