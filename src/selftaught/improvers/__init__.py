"""Improvers are programs the language model reads and rewrites, so they live here as plain
source text, never imported by the host. The seed improver is the paper's (Figure 2)."""

from __future__ import annotations

import importlib.resources

ENTRY_POINT = "improve_algorithm"


def _read(package: str, name: str) -> str:
    return (importlib.resources.files(package) / name).read_text(encoding="utf-8")


def seed_improver() -> str:
    return _read("selftaught.improvers", "seed_improver.py")


def helpers_module() -> tuple[str, str]:
    """The `helpers` module importable inside the sandbox, as (name, source): the same code
    extraction the host uses (selftaught/lm/extract.py), plus the paper's list form."""
    source = _read("selftaught.lm", "extract.py")
    signature = "def extract_code(text: str)"
    if signature not in source:
        raise RuntimeError(f"selftaught/lm/extract.py no longer defines `{signature}`; update helpers_module")
    extract = source.replace(signature, "def extract_code_from_text(text: str)")
    return "helpers", extract + _read("selftaught.improvers", "helpers_tail.py")
