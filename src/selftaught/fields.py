"""Settings fields that carry their own CLI help: one definition per value, from which the CLI's
flags, help and shown defaults are generated (cli/options.py), and errors name the real flag."""

from __future__ import annotations

import dataclasses
from typing import Any


def described(help: str, default: Any = dataclasses.MISSING, **more: Any) -> Any:
    """A dataclass field with its help text. `flag=` overrides the flag's name, `cli=False`
    keeps it off the generated options, `show_default=False` hides a default that is not one."""
    if isinstance(default, (list, dict, set)) or (callable(default) and isinstance(default, type)):
        return dataclasses.field(default_factory=default, metadata={"help": help, **more})
    return dataclasses.field(default=default, metadata={"help": help, **more})


def flag(cls: type, name: str) -> str:
    """The CLI flag of a settings field: --max-tokens for max_tokens, --timeout for timeout_s."""
    meta = {f.name: f.metadata for f in dataclasses.fields(cls)}[name]
    return meta.get("flag") or "--" + name.removesuffix("_s").replace("_", "-")
