"""The runs in a directory, one line each: kind, date, tasks, model, status, best score."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from selftaught.analysis.history import self_improvement, transfer_rows
from selftaught.analysis.rundata import RunData, load_run, number
from selftaught.errors import ConfigError
from selftaught.runs.events import iterations
from selftaught.runs.rundir import unreadable


@dataclass(frozen=True)
class RunEntry:
    path: Path
    kind: str
    created: str
    tasks: tuple[str, ...]
    model: str
    status: str  # finished | incomplete | empty
    best: float | None
    best_label: str  # what `best` is, e.g. "û val of I_0"


@dataclass(frozen=True)
class RunList:
    root: Path
    entries: tuple[RunEntry, ...]
    # damaged runs, and why: a config.json that did not load, a file or directory that could not be read
    unreadable: tuple[tuple[Path, str], ...]


def list_runs(root: Path) -> RunList:
    """Every run directory directly under `root` (or `root` itself if it is one), oldest first.
    A run that cannot be read is listed in `unreadable` with the reason; the others still list."""
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"{root} is not a directory", "pass the directory your runs go to, e.g. runs/")
    damaged: list[tuple[Path, str]] = []
    try:
        candidates = [root] if (root / "config.json").is_file() else sorted(p for p in root.iterdir() if p.is_dir())
    except OSError as exc:
        raise unreadable(root, exc) from None
    entries = []
    for path in candidates:
        try:
            if not (path / "config.json").is_file():
                continue  # not a run
            entries.append(run_entry(load_run(path)))
        except ConfigError as exc:
            damaged.append((path, exc.problem))
        except OSError as exc:  # a directory that cannot be looked into: it may be a run
            damaged.append((path, unreadable(path, exc).problem))
        except Exception as exc:  # damage no reader foresaw: one run must not hide the others
            damaged.append((path, f"cannot be analysed ({type(exc).__name__}: {exc})"[:300]))
    entries.sort(key=lambda e: (e.created, e.path.name))
    return RunList(root, tuple(entries), tuple(damaged))


def run_entry(run: RunData) -> RunEntry:
    best, label = best_score(run)
    return RunEntry(run.path, run.kind, run.created, tuple(run.tasks), run.model, run_status(run), best, label)


def run_status(run: RunData) -> str:
    if not run.events:
        return "empty"
    if run.kind == "self-improve":
        done = {it.t for it in iterations(run.events)}
        wanted = int(number(run.run_settings.get("iterations"), len(done)))
        return "finished" if len(done) >= wanted else "incomplete"
    if run.kind == "transfer":
        rows = {e.get("key") for e in run.of("transfer_row")}
        return "finished" if len(rows) >= len(run.tasks) else "incomplete"
    if run.kind == "improve":
        return "finished" if run.of("improve") else "incomplete"
    return "incomplete"


def best_score(run: RunData) -> tuple[float | None, str]:
    if run.kind == "self-improve":
        scored = [(s.score.val.mean, f"û val of I_{s.t}") for s in self_improvement(run) if s.score]
        return max(scored, key=lambda x: x[0]) if scored else (None, "")
    if run.kind == "transfer":
        rows = transfer_rows(run)
        labels = list(dict.fromkeys(label for row in rows for label in row.cells))
        means = [(sum(row.cells[label].mean for row in rows if label in row.cells)
                  / sum(1 for row in rows if label in row.cells), label) for label in labels]
        if not means:
            return None, ""
        value, label = max(means)
        return value, f"mean û test of {label} over {len(rows)} tasks"
    if run.kind == "improve":
        event = next(iter(run.of("improve")), None)
        return (number(event.get("test")), "test score of the result") if event else (None, "")
    return None, ""
