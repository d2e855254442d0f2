"""A run directory read for analysis: read-only and tolerant.

Unlike `runs.journal.Journal`, reading never repairs the journal (the run may still be
writing it): a torn or malformed line is skipped. Unknown event kinds and fields are kept and
ignored by the analyses; missing optional fields get defaults, so journals written by older
and newer versions both read.

A file the run cannot do without (config.json, the journal, the usage log) that cannot be read
is a ConfigError naming it: skipping it would print a run with no events or no tokens as if that
were what happened. A program's source that cannot be read is shown as not recorded.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from selftaught.runs.events import DOWNSTREAM_RUNS
from selftaught.runs.journal import is_event
from selftaught.runs.rundir import check_layout, read_run_config, unreadable

RUN_KINDS = ("self-improve", "transfer", "improve")
IMPROVER_RUN_KINDS = DOWNSTREAM_RUNS  # one improver run on a downstream task each (runs/events.py)
_PROGRAM_ID = re.compile(r"[0-9a-f]{8,64}")


@dataclass(frozen=True)
class RunData:
    path: Path
    config: dict
    events: tuple[dict, ...]
    usage: tuple[dict, ...]
    _programs: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def kind(self) -> str:
        return str(self.config.get("command") or "unknown")

    @property
    def settings(self) -> dict:
        settings = self.config.get("settings")
        return settings if isinstance(settings, dict) else {}

    @property
    def run_settings(self) -> dict:
        run = self.settings.get("run")
        return run if isinstance(run, dict) else {}

    @property
    def created(self) -> str:
        return str(self.config.get("created") or "")

    @property
    def tasks(self) -> list[str]:
        return [Path(ref).name for ref in self.task_refs]

    @property
    def model(self) -> str:
        """The model that answered (from the usage log), else the configured one."""
        for record in self.usage:
            if record.get("model"):
                return str(record["model"])
        lm = self.settings.get("lm") if isinstance(self.settings.get("lm"), dict) else {}
        if lm.get("model"):
            return str(lm["model"])
        if lm.get("model_path"):
            return Path(str(lm["model_path"])).name
        return "embedded" if lm.get("backend", "local") == "local" else "unknown"

    @property
    def unsafe(self) -> bool:
        return bool(self.settings.get("unsafe_no_sandbox"))

    @property
    def task_refs(self) -> list[str]:
        """Tasks as the run named them: built-in names or absolute directories."""
        tasks = self.settings.get("tasks")
        if isinstance(tasks, list):
            return [str(t) for t in tasks]
        return [str(self.settings["task"])] if self.settings.get("task") else []

    def seed_programs(self) -> dict[str, str]:
        """Each task's seed program, read (never run) from its directory as it is now."""
        if "<seeds>" not in self._programs:
            seeds = {}
            for ref in self.task_refs:
                source = task_seed(ref)
                if source is not None:
                    seeds[Path(ref).name] = source
            self._programs["<seeds>"] = seeds
        return self._programs["<seeds>"]

    def source_run(self) -> Path | None:
        """The self-improve run a transfer run took its improvers from; runs moved together
        (e.g. a copy of the experiment data) are found next to this one."""
        source = self.settings.get("source")
        if not isinstance(source, str) or not source:
            return None
        for candidate in (Path(source), self.path.parent / Path(source).name):
            try:
                if candidate.is_dir():
                    return candidate
            except (OSError, ValueError):  # unreadable, a name too long, a NUL byte: not found here
                continue
        return None

    def compared_improvers(self) -> dict[str, tuple[str, str | None]]:
        """A transfer run's improvers: program id -> (label, source or None). Newer runs record
        their labels and keep the programs; older ones are read from their self-improve run's
        improver_<t>.py files."""
        recorded = self.settings.get("improvers")
        if isinstance(recorded, list):
            pairs = [(str(pid), str(label), self.program(str(pid))) for label, pid in
                     (item for item in recorded if isinstance(item, list) and len(item) == 2)]
        else:
            source = self.source_run()
            pairs = read_improver_files(source) if source is not None else []
        found: dict[str, tuple[str, str | None]] = {}
        for pid, label, text in pairs:
            found[pid] = (f"{found[pid][0]}={label}", text) if pid in found else (label, text)
        return found

    def improver_labels(self) -> dict[str, str]:
        """program id -> what the run calls that improver: I_t of a self-improve run (I_0=I_1 when
        an iteration kept its incumbent), a transfer's labels (I_t, or an improver file's name)."""
        if self.kind == "transfer":
            return {pid: label for pid, (label, _) in self.compared_improvers().items()}
        labels: dict[str, str] = {}
        for pid, label, _ in read_improver_files(self.path):
            labels[pid] = f"{labels[pid]}={label}" if pid in labels else label
        return labels

    def of(self, *kinds: str) -> list[dict]:
        return [e for e in self.events if e.get("kind") in kinds]

    def program(self, pid: str | None) -> str | None:
        """A program's source by id: programs/<id>.py, else any event that carried it."""
        if not pid or not _PROGRAM_ID.fullmatch(pid):
            return None  # ids are hex digests; anything else could name a file outside programs/
        if pid not in self._programs:
            try:
                source = (self.path / "programs" / f"{pid}.py").read_bytes().decode("utf-8", "replace")
            except OSError:  # missing or unreadable: the report says the source was not recorded
                source = None
            self._programs[pid] = source
        return self._programs[pid]

    def remember_program(self, pid: str, source: str) -> None:
        self._programs.setdefault(pid, source)


def read_improver_files(directory: Path) -> list[tuple[str, str, str]]:
    """(program id, I_t, source) of a self-improve run's readable improver_<t>.py files, by t."""
    from selftaught.ids import program_id

    found = []
    for file in directory.glob("improver_*.py"):
        t = file.stem.split("_", 1)[1]
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if t.isdigit():
            found.append((int(t), program_id(text), f"I_{t}", text))
    return [(pid, label, text) for _, pid, label, text in sorted(found)]


def load_run(path: Path) -> RunData:
    """Read a run directory; raises ConfigError if it is not one, or if it cannot be read. Its
    config.json and layout are checked as a resume checks them (runs.rundir)."""
    path = Path(path)
    config = read_run_config(path, "pass a directory printed by a run, e.g. runs/20261124-093000-self-improve", _loads)
    check_layout(path)
    events = _once_each(e for e in read_jsonl(path / "events.jsonl") if is_event(e))  # as the Journal reads
    run = RunData(path, config, events, tuple(_usage_record(r) for r in _once_each(read_jsonl(path / "usage.jsonl"))))
    for event in run.events:  # sources carried by events, e.g. what an improver returned
        if isinstance(event.get("solution"), str) and isinstance(event.get("solution_source"), str):
            run.remember_program(event["solution"], event["solution_source"])
    return run


def _once_each(records: Iterable[dict]) -> tuple[dict, ...]:
    """Journal events with one per (kind, key), and no record twice: a journal or usage log whose
    lines were appended again (a file concatenated with itself, a copy merged back) must not
    count twice. Keyed events are once per (kind, key) by design (`Journal.once`); where a key was
    written again (a resumed transfer writes its rows again) the last one counts, at its place,
    as the writer's own index keeps it. Other records (iteration starts, resumes, LM calls) carry
    their time to the millisecond, so one identical to another in every field is a line twice."""
    records = list(records)
    last = {_identity(r): i for i, r in enumerate(records)}
    keep = set(last.values())
    return tuple(r for i, r in enumerate(records) if i in keep)


def _identity(record: dict) -> object:
    if isinstance(record.get("kind"), str) and isinstance(record.get("key"), str):
        return record["kind"], record["key"]
    return json.dumps(record, sort_keys=True)


def _usage_record(record: dict) -> dict:
    """A usage record with its token counts as numbers: every reader sums them, and a count that
    is missing or malformed (a string, null, Infinity) counts 0."""
    return {**record, **{k: int(number(record.get(k))) for k in ("prompt_tokens", "completion_tokens")}}


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise unreadable(file, exc) from None


def task_seed(ref: str) -> str | None:
    """The seed program of a built-in task name or a task directory, if it is still there."""
    from selftaught.tasks.loader import builtin_dir

    try:
        path = Path(ref)
        if not path.is_dir():
            path = builtin_dir() / ref
        return (path / "seed.py").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def read_jsonl(file: Path) -> list[dict[str, Any]]:
    """JSON objects, one per line; torn, malformed and non-object lines are skipped. No file: no
    records; a file that cannot be read: ConfigError."""
    try:
        if not file.is_file():
            return []
    except OSError as exc:
        raise unreadable(file, exc) from None
    records = []
    for line in _read(file).decode("utf-8", "replace").splitlines():
        try:
            record = _loads(line)
        except (ValueError, RecursionError):  # malformed JSON, an integer too long, nesting too deep
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def _loads(text: str) -> Any:
    """JSON as the analyses can use it: a number none can compute with (NaN, Infinity, beyond a
    float's range) reads as null, i.e. missing, which every reader has a default for, where in a
    float(), int() or sum it would raise or spread: a damaged field cannot crash a reader."""
    return json.loads(text, parse_constant=lambda _: None, parse_float=_finite_float, parse_int=_finite_int)


def _finite_float(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


def _finite_int(text: str) -> int | None:
    value = int(text)
    return value if number(value, None) is not None else None  # None: beyond a float


def number(value: Any, default: Any = 0.0) -> Any:
    """A finite float from a journal or settings field that may be missing or malformed: `default`
    for anything else (a string, null, Infinity, NaN, an integer beyond a float), so that sums,
    comparisons and int() of it cannot fail."""
    if not isinstance(value, (int, float)):  # bool is an int: True counts 1
        return default
    try:
        value = float(value)
    except OverflowError:
        return default
    return value if math.isfinite(value) else default
