"""Structural facts about an improver's source, from its AST: where it calls the language
model and the utility, which loops hold those calls, and which names flow into which.

The data flow is deliberately coarse: flow-insensitive and keyed by variable name across the
module (a name assigned anywhere depends on everything assigned to it anywhere). It is an
approximation made for labelling strategies, never a boundary. Comments and docstrings play
no part; string literals count only as data (e.g. a list of hint prompts).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Iterator

from selftaught.improvers import ENTRY_POINT

LM_METHODS = ("batch_prompt", "prompt")
LOOPS = (ast.For, ast.AsyncFor, ast.While)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)  # scopes; a lambda runs where it stands
# Pseudo-names that mark where values come from.
FROM_UTILITY = "<utility result>"
FROM_ERROR = "<error text>"
FROM_LM = "<lm output>"
HINTS = "<hint list>"
SELECTORS = ("key", "weights", "cum_weights", "p")


def call_name(call: ast.AST) -> str:
    """`f` for f(...) and o.f(...); "" for anything that is not a call."""
    func = getattr(call, "func", None)
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return dotted(node.func)
    return "?"


def is_random_draw(node: ast.AST) -> bool:
    """random.random(), rng.random(), np.random.rand(), random.uniform(0, 1)."""
    return isinstance(node, ast.Call) and call_name(node) in ("random", "rand", "uniform")


def is_hint_list(node: ast.AST) -> bool:
    """A literal list/tuple/set (or dict values) of >= 2 distinct prompt-sized strings."""
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = node.elts
    elif isinstance(node, ast.Dict):
        items = node.values
    else:
        return False
    texts = [ast.unparse(i) for i in items if isinstance(i, ast.JoinedStr)] + \
            [i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)]
    return len(items) >= 2 and len(texts) == len(items) and len(set(texts)) == len(texts) \
        and all(len(t) >= 12 for t in texts)


@dataclass
class Facts:
    tree: ast.Module
    parents: dict[ast.AST, ast.AST]
    functions: dict[str, ast.AST]
    solution_names: set[str]
    utility_names: set[str]
    lm_functions: set[str]  # user functions that call the language model, directly or not
    utility_functions: set[str]  # ... and the utility
    deps: dict[str, set[str]] = field(default_factory=dict)
    _closures: dict[frozenset, set[str]] = field(default_factory=dict)

    # --- calls -------------------------------------------------------------------------
    def is_lm_call(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LM_METHODS

    def is_lm_site(self, node: ast.AST) -> bool:
        """A call that reaches the language model: a direct call or a helper that makes one."""
        return self.is_lm_call(node) or (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                                         and node.func.id in self.lm_functions)

    def is_utility_call(self, node: ast.AST) -> bool:
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            return False
        if node.func.id in self.utility_names | self.utility_functions:
            return True
        return node.func.id == "map" and bool(node.args) and isinstance(node.args[0], ast.Name) \
            and node.args[0].id in self.utility_names | self.utility_functions

    # --- structure ---------------------------------------------------------------------
    def walk_scope(self, node: ast.AST) -> Iterator[ast.AST]:
        """Nodes under `node`, not descending into nested function definitions."""
        for child in ast.iter_child_nodes(node):
            yield child
            if not isinstance(child, DEFS):
                yield from self.walk_scope(child)

    def loops(self) -> list[ast.AST]:
        return [n for n in ast.walk(self.tree) if isinstance(n, LOOPS + COMPREHENSIONS)]

    def in_loop(self, node: ast.AST) -> bool:
        parent = self.parents.get(node)
        while parent is not None and not isinstance(parent, DEFS):
            if isinstance(parent, LOOPS + COMPREHENSIONS):
                return True
            parent = self.parents.get(parent)
        return False

    def enclosing(self, node: ast.AST, kinds: tuple) -> list[ast.AST]:
        found, parent = [], self.parents.get(node)
        while parent is not None and not isinstance(parent, DEFS):
            if isinstance(parent, kinds):
                found.append(parent)
            parent = self.parents.get(parent)
        return found

    def lm_sites(self, within: ast.AST | None = None) -> list[ast.Call]:
        nodes = self.walk_scope(within) if within is not None else ast.walk(self.tree)
        return [n for n in nodes if self.is_lm_site(n)]

    # --- data flow ---------------------------------------------------------------------
    def refs(self, node: ast.AST | None, index: bool = False) -> set[str]:
        """Names (and source markers) an expression's value depends on. `cands[i]` depends on
        `cands` only (a candidate, whatever picked i), unless `index` is set."""
        if node is None:
            return set()
        out: set[str] = set()
        stack = [node]
        while stack:
            n = stack.pop()
            if isinstance(n, ast.Lambda):
                continue  # a key function, not data
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                out.add(n.id)
            elif isinstance(n, ast.Subscript) and not index:
                stack.append(n.value)
                continue
            elif isinstance(n, ast.Call):
                if self.is_utility_call(n):
                    out.add(FROM_UTILITY)
                if self.is_lm_site(n):
                    out.add(FROM_LM)
                if call_name(n) in ("format_exc", "format_exception", "print_exc"):
                    out.add(FROM_ERROR)
                if isinstance(n.func, ast.Name) and n.func.id in self.functions:
                    out.add(f"<return {n.func.id}>")
                # max(c, key=score), choices(c, weights=fitness): scores select the value, they are not in it
                stack.append(n.func)
                stack.extend(n.args)
                stack.extend(k.value for k in n.keywords if k.arg not in SELECTORS)
                continue
            elif is_hint_list(n):
                out.add(HINTS)
            stack.extend(ast.iter_child_nodes(n))
        return out

    def closure(self, names: set[str]) -> set[str]:
        key = frozenset(names)
        if key not in self._closures:
            seen, todo = set(names), list(names)
            while todo:
                for dep in self.deps.get(todo.pop(), ()):
                    if dep not in seen:
                        seen.add(dep)
                        todo.append(dep)
            self._closures[key] = seen
        return self._closures[key]

    def site_inputs(self, call: ast.Call) -> set[str]:
        """Everything the prompt of an LM call site depends on."""
        args = list(call.args) + [k.value for k in call.keywords if k.arg != "temperature"]
        return self.closure(set().union(*(self.refs(a) for a in args)) if args else set())

    def depends_on(self, name: str, marker: str) -> bool:
        return marker in self.closure({name})

    def expr_depends_on(self, node: ast.AST, marker: str) -> bool:
        return marker in self.closure(self.refs(node))


def collect(source: str) -> Facts:
    """Facts about `source`; raises SyntaxError (and friends) if it does not parse."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    functions = {n.name: n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    entry = functions.get(ENTRY_POINT)
    params = [a.arg for a in entry.args.args] if entry else []
    facts = Facts(tree, parents, functions,
                  solution_names={params[0]} if len(params) > 0 else {"initial_solution"},
                  utility_names={params[1]} if len(params) > 1 else {"utility"},
                  lm_functions=set(), utility_functions=set())
    _bind_aliases(facts)
    facts.lm_functions = _functions_reaching(facts, facts.is_lm_call)
    facts.utility_functions = _functions_reaching(facts, lambda n: facts.is_utility_call(n))
    facts.deps = _dependencies(facts)
    return facts


def _bind_aliases(facts: Facts) -> None:
    """`score = utility`, `helper(x, utility)` -> def helper(s, u): u is the utility too."""
    changed = True
    while changed:
        changed = False
        for node in ast.walk(facts.tree):
            pairs: list[tuple[str, ast.AST]] = []
            if isinstance(node, ast.Assign):
                pairs = [(t.id, v) for t, v in assigned_pairs(node)]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in facts.functions:
                pairs = _bound_params(facts.functions[node.func.id], node)
            for target, value in pairs:
                if not isinstance(value, ast.Name):
                    continue
                for names in (facts.utility_names, facts.solution_names):
                    if value.id in names and target not in names:
                        names.add(target)
                        changed = True


def _bound_params(func: ast.AST, call: ast.Call) -> list[tuple[str, ast.AST]]:
    params = [a.arg for a in func.args.args]
    pairs = list(zip(params, call.args))
    pairs += [(k.arg, k.value) for k in call.keywords if k.arg in params]
    return pairs


def _functions_reaching(facts: Facts, is_target) -> set[str]:
    reaching: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, func in facts.functions.items():
            if name in reaching:
                continue
            for node in facts.walk_scope(func):
                if is_target(node) or (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                                       and node.func.id in reaching):
                    reaching.add(name)
                    changed = True
                    break
    return reaching


def assigned_pairs(node: ast.Assign) -> list[tuple[ast.Name, ast.AST]]:
    """(target name, value) of an assignment; `a, b = x, y` pairs a with x and b with y."""
    pairs = []
    for target in node.targets:
        if isinstance(target, (ast.Tuple, ast.List)) and isinstance(node.value, (ast.Tuple, ast.List)) \
                and len(target.elts) == len(node.value.elts):
            pairs += [(t, v) for t, v in zip(target.elts, node.value.elts) if isinstance(t, ast.Name)]
        else:
            pairs += [(n, node.value) for n in ast.walk(target) if isinstance(n, ast.Name)]
    return pairs


def _targets(node: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]


def _dependencies(facts: Facts) -> dict[str, set[str]]:
    deps: dict[str, set[str]] = {}

    def add(names: list[str], refs: set[str]) -> None:
        for name in names:
            deps.setdefault(name, set()).update(refs)

    for node in ast.walk(facts.tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple) \
                        and len(target.elts) == len(node.value.elts):
                    for t, v in zip(target.elts, node.value.elts):  # a, b = x, y: pairwise
                        add(_targets(t), facts.refs(v))
                else:
                    add(_targets(target) if not isinstance(target, ast.Subscript) else _targets(target.value),
                        facts.refs(node.value))
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
            target = node.target.value if isinstance(node.target, ast.Subscript) else node.target
            add(_targets(target), facts.refs(node.value))
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            add(_targets(node.target), facts.refs(node.iter))
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            add(_targets(node.optional_vars), facts.refs(node.context_expr))
        elif isinstance(node, ast.ExceptHandler) and node.name:
            add([node.name], {FROM_ERROR})
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                    and func.attr in ("append", "extend", "add", "insert", "update", "appendleft"):
                add([func.value.id], set().union(*(facts.refs(a) for a in node.args)) if node.args else set())
            elif isinstance(func, ast.Name) and func.id in facts.functions:
                for param, value in _bound_params(facts.functions[func.id], node):
                    add([param], facts.refs(value))
            lambdas = [a for a in node.args if isinstance(a, ast.Lambda)]
            others = set().union(*(facts.refs(a) for a in node.args if not isinstance(a, ast.Lambda)), set())
            for fn in lambdas:  # map(lambda p: ..., beam): p is drawn from beam
                add([a.arg for a in fn.args.args], others)
        elif isinstance(node, ast.Return) and node.value is not None:
            owner = node
            while owner is not None and not isinstance(owner, (ast.FunctionDef, ast.AsyncFunctionDef)):
                owner = facts.parents.get(owner)
            if owner is not None:
                add([f"<return {owner.name}>"], facts.refs(node.value))
    for name in facts.solution_names:
        deps.setdefault(name, set()).add("<initial solution>")
    return deps
