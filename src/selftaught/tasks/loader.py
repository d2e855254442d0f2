"""Load and validate a task directory; errors name the file and the field."""

from __future__ import annotations

import ast
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
    f = _Fields(meta, meta_file)
    # Run keys and LM streams are built as <improver>/<task>/<index> and <improver>@<task>+<task>.
    name = f.get("name", str, check=lambda v: re.fullmatch(r"[A-Za-z0-9_.-]+", v) is not None,
                 hint="letters, digits, '_', '.' or '-' (it is part of run keys and file names)")
    entry_point = f.get("entry_point", str)
    if not entry_point.isidentifier():
        raise ConfigError(f"{meta_file}: entry_point {entry_point!r} is not a Python identifier",
                          "name the function the seed program defines, e.g. entry_point = \"algorithm\"")
    time_limit = f.get("time_limit_s", (int, float), check=lambda v: v > 0, hint="a positive number of seconds")
    memory = f.get("memory_limit_mb", int, check=lambda v: v >= 64, hint="at least 64 (numpy needs about 160)")
    module_limit = f.get("module_time_limit_s", (int, float), check=lambda v: v > 0,
                         hint="a positive number of CPU seconds", default=1.0)
    splits = _splits(meta.get("splits"), meta_file)
    speed_scored = meta.get("speed_scored", False)
    if not isinstance(speed_scored, bool):
        raise ConfigError(f"{meta_file}: field `speed_scored` = {speed_scored!r} is invalid",
                          "`speed_scored` must be true (the scorer reads cpu_time_s) or false")
    seed_program = _text(path / "seed.py")
    try:
        ast.parse(seed_program)
    except SyntaxError as exc:
        raise ConfigError(f"{path / 'seed.py'}:{exc.lineno}: the seed program does not parse: {exc.msg}",
                          "fix the seed program; it must be valid Python") from None
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


def _splits(raw: Any, file: Path) -> dict[str, Split]:
    if not isinstance(raw, dict) or not {"val", "test"} <= set(raw):
        raise ConfigError(f"{file}: `splits` must define [splits.val] and [splits.test]",
                          "add [splits.val] and [splits.test] tables, each with `seed` and `instances`")
    splits = {}
    for name, table in raw.items():
        seed, count = (table.get("seed"), table.get("instances")) if isinstance(table, dict) else (None, None)
        if not isinstance(seed, int) or not isinstance(count, int) or count < 1:
            raise ConfigError(f"{file}: [splits.{name}] needs an integer `seed` and `instances` >= 1",
                              f"e.g. [splits.{name}] seed = 4321, instances = 20")
        splits[name] = Split(name, seed, count)
    overlap = set(splits["val"].seeds()) & set(splits["test"].seeds())
    if overlap:
        raise ConfigError(f"{file}: the val and test splits share seeds (e.g. {min(overlap)})",
                          "give test a seed range that does not overlap val's")
    return splits


def _toml(file: Path) -> dict:
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file} is missing", "a task directory needs task.toml; see `selftaught new-task`") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file} is not valid TOML: {exc}", "fix the syntax at that line") from None


def _text(file: Path) -> str:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{file} is missing", f"create {file.name}; see `selftaught new-task`") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{file} is not UTF-8 text", "save it as UTF-8") from None
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
    return module
