"""Reading a TOML config: one table at a time, every value checked against its declared type.

One validator for every table ([lm], [run]), so a value is accepted or refused the same way
wherever it is written: no conversions (`timeout_s = true` is not 1.0 s, `n_tests = "3"` is
not 3), except an integer where a float is declared.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from selftaught.errors import ConfigError


def read_table(path: Path, table_name: str) -> dict[str, Any]:
    """One table of a TOML config file (missing table: empty), with errors naming the file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist", "check the --config path") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}", "fix the syntax at that line") from None
    table = data.get(table_name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{table_name}] must be a table", f"write the settings under a [{table_name}] header")
    return table


def typed(source: str, name: str, value: Any, kind: type) -> Any:
    """`value` as a `kind`, or a ConfigError naming where it came from (`source`), the setting
    (`name`, e.g. run.n_tests) and the fix."""
    if type(value) is kind or (kind is float and type(value) is int):
        return kind(value)
    key = name.rsplit(".", 1)[-1]
    raise ConfigError(f"{source}: {name} = {value!r} is not a {kind.__name__}",
                      f"give {key} a {kind.__name__} value" + (" (no quotes)" if isinstance(value, str) else ""))


def unknown_key(source: str, table_name: str, key: str, valid: set[str]) -> ConfigError:
    return ConfigError(f"{source}: unknown setting {table_name}.{key}", f"valid settings: {', '.join(sorted(valid))}")
