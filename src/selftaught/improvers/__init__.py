"""Improvers are programs the language model reads and rewrites, so they live here as plain
source text, never imported by the host. The seed improver is the paper's (Figure 2)."""

from __future__ import annotations

import importlib.resources

ENTRY_POINT = "improve_algorithm"


def _read(package: str, name: str) -> str:
    return (importlib.resources.files(package) / name).read_text(encoding="utf-8")


def seed_improver() -> str:
    return _read("selftaught.improvers", "seed_improver.py")


def helpers_modules() -> tuple[tuple[str, str], ...]:
    """The modules importable inside the sandbox, as (name, source) in load order: the host's
    own code extraction (selftaught/lm/extract.py, shipped unchanged as `code_extraction`) and
    `helpers`, the paper's `extract_code` on lists and strings, built on it."""
    return (("code_extraction", _read("selftaught.lm", "extract.py")),
            ("helpers", _read("selftaught.improvers", "helpers.py")))
