"""What a candidate improver changed against its parent, read from the two syntax trees.

A small model's useful edits to a knob-style seed are small: a constant (CALLS = 1 -> 10), a
sentence of the prompt, one more sample. Experiment 4 counts the candidates by what they
changed (RESULTS.md), and the report shows it next to each candidate's diff. The kinds:

- `knob`: a module-level constant that is not text (a number, a bool, None, a list of them);
- `prompt`: a module-level constant that is text (a string, or a tuple or list of strings);
- `code`: anything else in the tree (the loop, a helper, a new import);
- nothing, when the trees are equal once comments, docstrings and formatting are set aside.

Two more verdicts say the candidate cannot run as an improver: `unparsable`, and `interface`
when `improve_algorithm` is missing or cannot take (initial_solution, utility, language_model).
This is static: dead code counts as `code`. Whether a change altered behaviour is measured by
running the candidate (under common random numbers, an unchanged behaviour gives the parent's
scores exactly)."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from selftaught.improvers import ENTRY_POINT

KINDS = ("knob", "prompt", "code")
ABSENT = "(absent)"  # the old value of an added constant, the new value of a removed one


@dataclass(frozen=True)
class ConstantChange:
    name: str
    old: str  # repr of the value, or ABSENT
    new: str

    def __str__(self) -> str:
        return f"{self.name} {_short(self.old)} -> {_short(self.new)}"


@dataclass(frozen=True)
class Edit:
    knobs: tuple[ConstantChange, ...] = ()
    prompt: tuple[ConstantChange, ...] = ()
    code: bool = False
    problem: str | None = None  # "unparsable: ..." or "interface: ...": the candidate cannot run

    @property
    def category(self) -> str:
        """One label for counting: unparsable, interface, nothing, or the kinds joined by '+'
        (knob, prompt, code; e.g. "knob+prompt")."""
        if self.problem:
            return self.problem.split(":")[0]
        kinds = [k for k, changed in zip(KINDS, (self.knobs, self.prompt, self.code)) if changed]
        return "+".join(kinds) or "nothing"

    def summary(self) -> str:
        if self.problem:
            return self.problem
        parts = [f"knobs: {'; '.join(map(str, self.knobs))}"] if self.knobs else []
        parts += [f"prompt: {', '.join(map(_text_change, self.prompt))}"] if self.prompt else []
        parts += ["code changed beyond the module's constants"] if self.code else []
        return "; ".join(parts) or "nothing (the same syntax tree, comments and docstrings aside)"


def _text_change(change: ConstantChange) -> str:
    """A text constant by name, its values left out (a prompt is long); whether it is new or gone
    is kept, since a new one is often module-level example code rather than a prompt sentence."""
    return change.name + (" (added)" if change.old == ABSENT else " (removed)" if change.new == ABSENT else "")


def describe(parent: str, child: str) -> Edit:
    """What `child` changed against `parent` (both improver sources). A parent that does not
    parse leaves only the child's own verdicts: everything else counts as `code`."""
    try:
        new = ast.parse(child)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return Edit(problem=f"unparsable: {type(exc).__name__}: {exc}")
    interface = _interface_problem(new)
    if interface:
        return Edit(problem=f"interface: {interface}")
    try:
        old = ast.parse(parent)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return Edit(code=True)
    old_constants, old_rest = _split(old)
    new_constants, new_rest = _split(new)
    code = not _same_tree(old_rest, new_rest)
    knobs, prompt = [], []
    absent = (ABSENT, False)
    for name in dict.fromkeys([*old_constants, *new_constants]):
        (before, was_text), (after, is_text) = old_constants.get(name, absent), new_constants.get(name, absent)
        if before != after:
            (prompt if was_text or is_text else knobs).append(ConstantChange(name, before, after))
    return Edit(tuple(knobs), tuple(prompt), code)


def _interface_problem(tree: ast.Module) -> str | None:
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == ENTRY_POINT]
    if not defs:
        return f"no top-level {ENTRY_POINT}"
    args = defs[-1].args  # the last definition is the one that stands
    if isinstance(defs[-1], ast.AsyncFunctionDef):
        return f"{ENTRY_POINT} is async: calling it returns a coroutine, not a program"
    positional = len(args.posonlyargs) + len(args.args)
    required = positional - len(args.defaults)
    required_kw = sum(default is None for default in args.kw_defaults)
    if (positional < 3 and args.vararg is None) or required > 3 or required_kw:
        return f"{ENTRY_POINT} cannot be called as {ENTRY_POINT}(initial_solution, utility, language_model)"
    return None


def _same_tree(a: object, b: object) -> bool:
    """Structural equality of two syntax trees, positions aside (what ast.dump compares), without
    recursion or repr: an LM-written tree may be deep, or hold an int too long to print."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, ast.AST):
            stack.extend((getattr(x, f, None), getattr(y, f, None)) for f in x._fields)
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y))
        elif x != y:
            return False
    return True


def _split(tree: ast.Module) -> tuple[dict[str, tuple[str, bool]], ast.Module]:
    """The module's literal constants (name -> (repr of the value, whether it is text); the
    last assignment stands) and the rest of the tree without them, with docstrings and bare
    strings removed throughout."""
    constants: dict[str, tuple[str, bool]] = {}
    body = []
    for node in tree.body:
        found = _constant(node)
        if found is None:
            body.append(node)
        else:
            constants[found[0]] = found[1:]
    rest = ast.Module(body=body, type_ignores=[])
    for node in ast.walk(rest):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block:
                kept = [s for s in block if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                                 and isinstance(s.value.value, str))]
                setattr(node, field, kept or [ast.Pass()])
    return constants, rest


def _constant(node: ast.stmt) -> tuple[str, str, bool] | None:
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value = node.targets[0], node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        target, value = node.target, node.value
    else:
        return None
    if not isinstance(target, ast.Name):
        return None
    try:
        parsed = ast.literal_eval(value)
        shown = repr(parsed)  # an int over 4300 digits cannot be shown: not a knob then, but code
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    text = isinstance(parsed, str) or (isinstance(parsed, (tuple, list)) and bool(parsed)
                                       and all(isinstance(x, str) for x in parsed))
    return target.id, shown, text


def _short(value: str, width: int = 40) -> str:
    return value if len(value) <= width else value[:width - 3] + "..."
