"""Load and validate a task directory; errors name the file and the field."""

from __future__ import annotations

import ast
import difflib
import hashlib
import importlib.resources
import importlib.util
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

from selftaught.errors import ConfigError
from selftaught.tasks.task import Split, Task

REQUIRED_FUNCTIONS = ("make_instance", "arguments", "score")
# Every field task.toml may have, and those of a [splits.NAME] table: anything else is a typo
# (e.g. `speed_score`) that would otherwise be ignored without a word.
FIELDS = ("name", "summary", "entry_point", "time_limit_s", "memory_limit_mb", "module_time_limit_s",
          "speed_scored", "notes", "splits")
SPLIT_FIELDS = ("seed", "instances")
# Upper bounds, so that a typo fails here and not in the sandbox, which turns limits into
# socket timeouts and rlimits (1e12 s or inf overflows them; memory_limit_mb << 20 is RLIMIT_AS).
MAX_TIME_LIMIT_S = 86_400.0  # one day per call: far above any task's (the built-ins' are at most 2 s)
MAX_MEMORY_MB = 1 << 20  # 1 TiB: the machine's RAM is not known at load, and no task needs more
MAX_INSTANCES = 100_000  # each is made and run in the sandbox on every evaluation (built-ins: at most 100)


def builtin_dir() -> Path:
    return Path(str(importlib.resources.files("selftaught.tasks") / "builtin"))


def builtin_names() -> list[str]:
    return sorted(p.name for p in builtin_dir().iterdir() if (p / "task.toml").is_file())


def load_task(name_or_path: str | Path) -> Task:
    """A built-in task by name, or a task directory by path."""
    path = Path(name_or_path)
    if not path.exists() and str(name_or_path) in builtin_names():
        path = builtin_dir() / str(name_or_path)
    if not path.is_dir():
        raise ConfigError(
            f"no task {str(name_or_path)!r}: not a built-in task and not a directory",
            f"use a built-in task ({', '.join(builtin_names())}) or a task directory; "
            "`selftaught new-task NAME` creates one",
        )
    return _load_dir(path.resolve())


def _load_dir(path: Path) -> Task:
    meta_file = path / "task.toml"
    meta = _toml(meta_file)
    _known(meta, FIELDS, meta_file, "")
    f = _Fields(meta, meta_file)
    # Run keys and LM streams are built as <improver>/<task>/<index> and <improver>@<task>+<task>.
    name = f.get("name", str, check=lambda v: re.fullmatch(r"[A-Za-z0-9_.-]+", v) is not None,
                 hint="letters, digits, '_', '.' or '-' (it is part of run keys and file names)")
    entry_point = f.get("entry_point", str)
    if not entry_point.isidentifier():
        raise ConfigError(f"{meta_file}: entry_point {entry_point!r} is not a Python identifier",
                          "name the function the seed program defines, e.g. entry_point = \"algorithm\"")
    seconds = f"a positive number of seconds, at most {MAX_TIME_LIMIT_S:g} (one day)"
    time_limit = f.get("time_limit_s", (int, float), check=lambda v: 0 < v <= MAX_TIME_LIMIT_S, hint=seconds)
    memory = f.get("memory_limit_mb", int, check=lambda v: 64 <= v <= MAX_MEMORY_MB,
                   hint=f"at least 64 (numpy needs about 160) and at most {MAX_MEMORY_MB} (1 TiB)")
    module_limit = f.get("module_time_limit_s", (int, float), check=lambda v: 0 < v <= MAX_TIME_LIMIT_S,
                         hint=seconds, default=1.0)
    splits = _splits(meta.get("splits"), meta_file)
    speed_scored = meta.get("speed_scored", False)
    if not isinstance(speed_scored, bool):
        raise ConfigError(f"{meta_file}: field `speed_scored` = {speed_scored!r} is invalid",
                          "`speed_scored` must be true (the scorer reads cpu_time_s) or false")
    seed_program = _text(path / "seed.py")
    _check_seed(seed_program, entry_point, path / "seed.py")
    return Task(
        name=name, summary=f.get("summary", str), entry_point=entry_point,
        time_limit_s=float(time_limit), memory_limit_mb=memory, splits=splits,
        seed_program=seed_program, utility_text=_text(path / "utility.txt").strip(),
        directory=path, scorer=_scorer(path / "scorer.py"), notes=str(meta.get("notes", "")),
        module_time_limit_s=float(module_limit), speed_scored=speed_scored,
    )


class _Fields:
    def __init__(self, meta: dict, file: Path) -> None:
        self.meta, self.file = meta, file

    def get(self, key: str, kind: type | tuple, check=None, hint: str = "", default: Any = None) -> Any:
        if key not in self.meta and default is not None:
            return default
        if key not in self.meta:
            raise ConfigError(f"{self.file}: missing field `{key}`", f"add `{key} = ...` to {self.file.name}")
        value = self.meta[key]
        if isinstance(value, bool) or not isinstance(value, kind) or (check and not check(value)):
            want = hint or (kind.__name__ if isinstance(kind, type) else "a number")
            raise ConfigError(f"{self.file}: field `{key}` = {value!r} is invalid", f"`{key}` must be {want}")
        return value


def _known(table: dict, fields: tuple[str, ...], file: Path, where: str) -> None:
    """Refuse a key that is none of `fields`, naming the nearest one (`where`: e.g. " in [splits.val]")."""
    for key in table:
        if key not in fields:
            near = difflib.get_close_matches(key, fields, n=1)
            hint = f"did you mean `{near[0]}`? " if near else ""
            raise ConfigError(f"{file}: unknown field `{key}`{where}",
                              f"{hint}fields{where}: {', '.join(fields)}")


def _check_seed(program: str, entry_point: str, file: Path) -> None:
    """The seed program parses and defines the entry point: without it every instance fails and
    every improver run starts from a program that scores 0."""
    try:
        tree = ast.parse(program)
    except SyntaxError as exc:
        raise ConfigError(f"{file}:{exc.lineno}: the seed program does not parse: {exc.msg}",
                          "fix the seed program; it must be valid Python") from None
    names = dict(_bindings(tree.body))
    if "*" in names and entry_point not in names:  # `from x import *` may bind it: not checkable
        return
    if isinstance(names.get(entry_point), ast.AsyncFunctionDef):
        raise ConfigError(f"{file}: the entry point `{entry_point}` is an async def",
                          f"make it a plain `def {entry_point}(...)`: the sandbox calls it, never awaits it")
    if entry_point not in names:
        raise ConfigError(f"{file}: the seed program does not define the entry point `{entry_point}`",
                          f"define `def {entry_point}(...)` in seed.py, or set entry_point in task.toml "
                          "to the function it defines")


def _bindings(body: list[ast.stmt]):
    """(name, statement) for each module-level name the statements bind, in order (a later
    binding replaces an earlier one); "*" for a star import."""
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield stmt.name, stmt
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                yield alias.asname or alias.name.split(".")[0], stmt
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            for target in stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]:
                for name in _target_names(target):
                    yield name, stmt
        else:  # if/try/with/for bodies run at module level too (e.g. try: import numba)
            nested = [s for field in ("body", "orelse", "finalbody") for s in getattr(stmt, field, [])]
            nested += [s for handler in getattr(stmt, "handlers", []) for s in handler.body]
            yield from _bindings(nested)


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _target_names(element)]
    return []  # a.b = ..., a[i] = ...: no new name


def _splits(raw: Any, file: Path) -> dict[str, Split]:
    if not isinstance(raw, dict) or not {"val", "test"} <= set(raw):
        raise ConfigError(f"{file}: `splits` must define [splits.val] and [splits.test]",
                          "add [splits.val] and [splits.test] tables, each with `seed` and `instances`")
    splits = {}
    for name, table in raw.items():
        if isinstance(table, dict):
            _known(table, SPLIT_FIELDS, file, f" in [splits.{name}]")
        seed, count = (table.get("seed"), table.get("instances")) if isinstance(table, dict) else (None, None)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (seed, count)) \
                or not 1 <= count <= MAX_INSTANCES:
            raise ConfigError(f"{file}: [splits.{name}] needs an integer `seed` and `instances` "
                              f"from 1 to {MAX_INSTANCES}",
                              f"e.g. [splits.{name}] seed = 4321, instances = 20")
        splits[name] = Split(name, seed, count)
    # Two ranges share seeds when the later start lies before the earlier stop; that start is shared.
    val, test = splits["val"].seeds(), splits["test"].seeds()
    first = max(val.start, test.start)
    if first < min(val.stop, test.stop):
        raise ConfigError(f"{file}: the val and test splits share seeds (e.g. {first})",
                          "give test a seed range that does not overlap val's")
    return splits


def _toml(file: Path) -> dict:
    try:
        return tomllib.loads(_read(file))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file} is not valid TOML: {exc}", "fix the syntax at that line") from None


def _read(file: Path) -> str:
    """A task file's text, or a ConfigError naming it (missing, a directory, unreadable, not UTF-8)."""
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{file} is missing", f"create {file.name}; see `selftaught new-task`") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{file} is not UTF-8 text", "save it as UTF-8") from None
    except OSError as exc:  # a directory in its place, no permission, ...
        raise ConfigError(f"cannot read {file}: {exc.strerror}", f"make {file.name} a readable file") from None


def _text(file: Path) -> str:
    text = _read(file)
    if not text.strip():
        raise ConfigError(f"{file} is empty", f"write the {file.stem} into it")
    return text


def _scorer(file: Path):
    _text(file)
    digest = hashlib.sha256(str(file).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(f"selftaught_task_scorer_{digest}", file)
    module = importlib.util.module_from_spec(spec)
    # Registered first, as a normal import would be: dataclasses and pickling look it up by name.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[spec.name]
        raise ConfigError(f"{file} failed to import: {type(exc).__name__}: {exc}",
                          "fix the scorer; run it with python to see the traceback") from None
    missing = [fn for fn in REQUIRED_FUNCTIONS if not callable(getattr(module, fn, None))]
    if missing:
        raise ConfigError(f"{file}: missing function(s) {', '.join(missing)}",
                          "define make_instance(seed), arguments(instance) and score(instance, outcome)")
    # Optional, but once there it is called on every evaluation: a non-function would zero each score.
    finalize = getattr(module, "finalize", None)
    if finalize is not None and not callable(finalize):
        raise ConfigError(f"{file}: `finalize` = {finalize!r} is not a function",
                          "define finalize(mean, scores, source), or remove it")
    return module
