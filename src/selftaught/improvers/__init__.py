"""Improvers are programs the language model reads and rewrites, so they live here as plain
source text, never imported by the host. The seed improver is the paper's (Figure 2).

The library (library/*.py, and `paper`, the seed improver): the strategies the paper's GPT-4
improvers discovered, and a few more, each a plain STOP improver within the seed's budgets.
`selftaught improvers` lists them; `--improver NAME` takes a name."""

from __future__ import annotations

import importlib.resources

ENTRY_POINT = "improve_algorithm"
# The improver `selftaught improve` uses when none is given. Experiment 3's registered decision
# (RESULTS.md; analysis.leaderboard.better_default) replaces it only with a clear winner; the
# paper's seed stays I_0 of self-improvement either way.
DEFAULT_IMPROVER = "paper"


def _read(package: str, name: str) -> str:
    return (importlib.resources.files(package) / name).read_text(encoding="utf-8")


def seed_improver() -> str:
    return _read("selftaught.improvers", "seed_improver.py")


def library_names() -> list[str]:
    files = importlib.resources.files("selftaught.improvers") / "library"
    return ["paper"] + sorted(f.name[:-3] for f in files.iterdir() if f.name.endswith(".py"))


def library_improver(name: str) -> str:
    """The source of a library improver by name (`paper`: the seed improver)."""
    if name == "paper":
        return seed_improver()
    if name not in library_names():
        import difflib

        from selftaught.errors import ConfigError

        near = difflib.get_close_matches(name, library_names(), n=1)
        guess = f"did you mean {near[0]!r}? " if near else ""
        raise ConfigError(f"no library improver {name!r}", f"{guess}use one of: {', '.join(library_names())} "
                                                          "(`selftaught improvers` lists them), or an improver .py file")
    return _read("selftaught.improvers", f"library/{name}.py")


def summary(source: str) -> str:
    """The first line of improve_algorithm's docstring: what an improver does, in a line."""
    import ast

    try:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef) and node.name == ENTRY_POINT:
                return (ast.get_docstring(node) or "").split("\n\n")[0].replace("\n", " ")
    except SyntaxError:
        pass
    return ""


def helpers_modules() -> tuple[tuple[str, str], ...]:
    """The modules importable inside the sandbox, as (name, source) in load order: the host's
    own code extraction (selftaught/lm/extract.py, shipped unchanged as `code_extraction`) and
    `helpers`, the paper's `extract_code` on lists and strings, built on it."""
    return (("code_extraction", _read("selftaught.lm", "extract.py")),
            ("helpers", _read("selftaught.improvers", "helpers.py")))
