"""Reading settings: one table of a TOML config at a time, every value checked against the type
its settings dataclass declares.

One validator for every table ([lm], [run], [placement]) and for settings given as flags or
keyword arguments, so a value is accepted or refused the same way wherever it is written. The
type check is pydantic's, in strict mode: no conversions (`timeout_s = true` is not 1.0 s,
`n_tests = "3"` is not 3), except an integer where a float is declared. TOML has no paths,
tuples or enums, so strings and lists stand for those (lax mode for those fields alone). Range
rules ("at least 1") stay with the dataclasses, which say the fix in their own terms.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import functools
import math
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Mapping

from pydantic import TypeAdapter, ValidationError

from selftaught.errors import ConfigError

RECORD = "the run's config.json"  # the source named when a resumed run's recorded settings are bad


def read_table(path: Path, table_name: str, tables: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One table of a TOML config file (missing table: empty), with errors naming the file.
    Given `tables` (setting -> table), the whole file's top level is checked too: a key outside
    those tables would otherwise be ignored without a word."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist", "check the --config path") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text", "save it as UTF-8") from None
    except OSError as exc:  # a directory, no permission, ...
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}",
                          "pass the path of a TOML file to --config") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}", "fix the syntax at that line") from None
    if tables is not None:
        _check_top_level(path, data, tables)
    table = data.get(table_name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{table_name}] must be a table", f"write the settings under a [{table_name}] header")
    return table


def _check_top_level(path: Path, data: Mapping[str, Any], tables: Mapping[str, str]) -> None:
    """Every top-level key of a config file is one of the tables of `tables` (setting -> table)."""
    names = sorted(set(tables.values()))
    headers = ", ".join(f"[{name}]" for name in names)
    for key, value in data.items():
        if key in names and isinstance(value, dict):
            continue
        if key in names:
            raise ConfigError(f"{path}: [{key}] must be a table", f"write the settings under a [{key}] header")
        if key in tables:  # a setting above the first header belongs to no table
            raise ConfigError(f"{path}: {key} is outside any table; it is a setting of the [{tables[key]}] table",
                              f"move it under the [{tables[key]}] header")
        if isinstance(value, dict):
            near = difflib.get_close_matches(key, names, n=1)
            hint = f"did you mean [{near[0]}]? " if near else ""
            raise ConfigError(f"{path}: unknown table [{key}]", f"{hint}the tables are {headers}")
        raise ConfigError(f"{path}: unknown setting {key} outside any table",
                          f"write settings under one of the headers {headers}")


def validated(cls: type, table_name: str, source: str, values: Mapping[str, Any],
              elsewhere: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`values` (setting -> value) as the types `cls`'s fields declare, or a ConfigError naming
    where they came from (`source`), the setting (e.g. run.n_tests) and the fix. A key that
    belongs to another table (`elsewhere`: setting -> table) is refused with that table's name."""
    fields = _fields(cls)
    checked: dict[str, Any] = {}
    for key, value in values.items():
        if key not in fields:
            if elsewhere and key in elsewhere:
                raise ConfigError(f"{source}: {table_name}.{key} is a setting of the [{elsewhere[key]}] table",
                                  f"move it to the [{elsewhere[key]}] table")
            raise unknown_key(source, table_name, key, set(fields), elsewhere)
        adapter, strict, expected = fields[key]
        try:
            checked[key] = adapter.validate_python(value, strict=strict)
        except ValidationError as exc:
            expected = expected or exc.errors()[0]["msg"].lower().removeprefix("input should be ")
            numeric = expected in ("an integer", "a number", "true or false")
            # quoting is the fix only when the value's kind is wrong: "3" for 3, or 2 for "2"
            hint = " (no quotes)" if isinstance(value, str) and numeric else \
                " (in quotes)" if not isinstance(value, str) and (expected == "a string" or expected.startswith("one of")) else ""
            raise ConfigError(f"{source}: {table_name}.{key} = {value!r} is not {expected}",
                              f"give {key} {expected}{hint}")
        # TOML and the flags take nan and inf for a float; no time, limit or temperature is either
        if isinstance(checked[key], float) and not math.isfinite(checked[key]):
            raise ConfigError(f"{source}: {table_name}.{key} = {value!r} is not a finite number",
                              f"give {key} a finite number")
    return checked


@functools.cache
def _fields(cls: type) -> dict[str, tuple[TypeAdapter, bool, str | None]]:
    """Each field's validator, whether it is strict, and what it expects, in words (None: as
    pydantic says it)."""
    hints = typing.get_type_hints(cls)
    found = {}
    for f in dataclasses.fields(cls):
        annotation = hints[f.name]
        kind = base_type(annotation)
        lax = kind is Path or typing.get_origin(kind) is tuple or (isinstance(kind, type) and issubclass(kind, enum.Enum))
        found[f.name] = (TypeAdapter(annotation), not lax, _expected(kind))
    return found


def base_type(annotation: Any) -> Any:
    """`int` of `int`, `int | None` and `Optional[int]`: the type a value must have when given."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    optional = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    return args[0] if optional and len(args) == 1 else annotation


def _expected(kind: Any) -> str | None:
    words = {int: "an integer", float: "a number", bool: "true or false", str: "a string", Path: "a path"}
    if kind in words:
        return words[kind]
    if typing.get_origin(kind) is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(kind))
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return "one of " + ", ".join(repr(m.value) for m in kind)
    if typing.get_origin(kind) is tuple:
        return "a list of strings"
    return None


def unknown_key(source: str, table_name: str, key: str, valid: set[str],
                elsewhere: Mapping[str, str] | None = None) -> ConfigError:
    """`key` is no setting of [table_name]: the fix names the nearest setting (of this table, or
    of the table in `elsewhere`, setting -> table, that holds it) and the table's settings."""
    tables = {name: table_name for name in valid} | {k: v for k, v in (elsewhere or {}).items() if k not in valid}
    near = difflib.get_close_matches(key, list(tables), n=1)
    hint = f"did you mean {tables[near[0]]}.{near[0]}? " if near else ""
    return ConfigError(f"{source}: unknown setting {table_name}.{key}",
                       f"{hint}valid settings of [{table_name}]: {', '.join(sorted(valid))}")
