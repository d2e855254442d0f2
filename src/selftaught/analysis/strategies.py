"""Which strategies an improver uses, read from its code's structure (the AST).

The catalogue is the paper's (beam search, genetic algorithm, ...) plus what our own runs
show (more LM calls, keeping the incumbent, retries, feedback). Each rule names the
structure it looks for; names of variables, comments and docstrings never decide a label.
`detect` returns the labels of one improver; `frequency` counts them over many.
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable

from selftaught.analysis.code_facts import (
    ENTRY_POINT, FROM_ERROR, FROM_LM, FROM_UTILITY, HINTS, LOOPS, Facts, assigned_pairs, call_name, collect,
    is_random_draw,
)

@dataclass(frozen=True)
class StrategyReport:
    labels: frozenset[str]
    parse_error: str | None = None  # the improver did not parse: no labels


def detect(source: str) -> StrategyReport:
    try:
        facts = collect(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return StrategyReport(frozenset(), f"{type(exc).__name__}: {exc}")
    try:
        labels = {name for name, rule in RULES.items() if rule(facts)}
    except RecursionError:
        return StrategyReport(frozenset(), "RecursionError: nested too deeply to analyse")
    if "genetic_algorithm" in labels:
        labels.discard("beam_search")  # elitist selection is part of a GA, not a second strategy
    return StrategyReport(frozenset(labels))


def frequency(reports: Iterable[StrategyReport]) -> dict[str, int]:
    """How many improvers use each strategy, every strategy listed (0 if none)."""
    counts = Counter(label for r in reports for label in r.labels)
    return {name: counts.get(name, 0) for name in STRATEGIES}


# --- rules ----------------------------------------------------------------------------
def _loops_with_lm(f: Facts) -> list[tuple[ast.AST, list[ast.Call]]]:
    found = []
    for loop in f.loops():
        sites = f.lm_sites(loop)
        if sites:
            found.append((loop, sites))
    return found


def _assigned_in(f: Facts, scope: ast.AST) -> Iterable[tuple[str, ast.AST, ast.AST]]:
    """(name, value, assignment) for every simple assignment under `scope` (a loop: not in the
    functions it defines; the module: everywhere)."""
    for node in ast.walk(scope) if isinstance(scope, ast.Module) else f.walk_scope(scope):
        if isinstance(node, ast.Assign):
            for target, value in assigned_pairs(node):
                yield target.id, value, node


def _calls_lm_more_than_once(f: Facts) -> bool:
    counts: dict[str, float] = {}

    def calls(scope: ast.AST, stack: tuple[str, ...]) -> float:
        total = 0.0
        for node in f.walk_scope(scope):
            if not isinstance(node, ast.Call):
                continue
            if f.is_lm_call(node):
                each = 1.0
            elif isinstance(node.func, ast.Name) and node.func.id in f.lm_functions and node.func.id not in stack:
                name = node.func.id
                if name not in counts:
                    counts[name] = calls(f.functions[name], stack + (name,))
                each = counts[name]
            else:
                continue
            total += float("inf") if f.in_loop(node) and each else each
        return total

    entry = f.functions.get(ENTRY_POINT)
    return calls(entry if entry is not None else f.tree, (ENTRY_POINT,)) >= 2


def _keeps_incumbent(f: Facts) -> bool:
    """The initial solution competes with the new candidates, so the result cannot be worse."""
    assignments: dict[str, list[ast.AST]] = {}
    for name, value, _ in _assigned_in(f, f.tree):
        assignments.setdefault(name, []).append(value)
    chosen_from = set()  # what max/min/sorted choose from, and what is returned
    for node in ast.walk(f.tree):
        if isinstance(node, ast.Call) and call_name(node) in ("max", "min", "sorted", "nlargest", "nsmallest"):
            chosen_from |= set().union(set(), *(f.refs(a) for a in node.args))
        if isinstance(node, ast.Return) and node.value is not None:
            chosen_from |= f.refs(node.value)
    for node in ast.walk(f.tree):
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and any(
                isinstance(e, ast.Name) and e.id in f.solution_names for e in node.elts):
            parent = f.parents.get(node)
            if (isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Mult)) or f.is_lm_site(parent):
                continue  # [initial_solution] * n: messages, not candidates
            if not isinstance(parent, ast.Assign):
                return True  # max([initial_solution] + new, key=utility)
            # pool = [initial_solution], later only grown or re-ranked together with itself
            for target, value in assigned_pairs(parent):
                others = [v for v in assignments.get(target.id, []) if v is not value]
                if target.id in chosen_from and all(target.id in f.refs(v) for v in others):
                    return True
        if isinstance(node, ast.Call) and call_name(node) in ("append", "insert", "extend") and any(
                isinstance(a, ast.Name) and a.id in f.solution_names for a in node.args):
            return True
    for node in ast.walk(f.tree):
        if isinstance(node, ast.Return) and node.value is not None:
            if isinstance(node.value, ast.Name) and node.value.id in f.solution_names:
                # best = initial_solution, replaced only by a better candidate: if score > best_score
                changes = [a for n, _, a in _assigned_in(f, f.tree) if n == node.value.id]
                if changes and all(any(_strictly_better(f, i.test) for i in f.enclosing(a, (ast.If,)))
                                   or not f.enclosing(a, (ast.If, ast.For, ast.While)) for a in changes) \
                        and any(f.enclosing(a, (ast.If,)) for a in changes):
                    return True
            tests = [i.test for i in f.enclosing(node, (ast.If,))]  # if utility(s) >= best: return s
            tests += [n.test for n in ast.walk(node.value) if isinstance(n, ast.IfExp)]
            if any(isinstance(n, ast.Name) and n.id in f.solution_names for n in ast.walk(node.value)) \
                    and any(_compares_scores(f, t) for t in tests):
                return True
    return False


def _strictly_better(f: Facts, test: ast.AST) -> bool:
    return _compares_scores(f, test) and not any(is_random_draw(n) for n in ast.walk(test))


def _compares_scores(f: Facts, test: ast.AST) -> bool:
    return any(isinstance(c, ast.Compare) and any(isinstance(op, (ast.Gt, ast.GtE, ast.Lt, ast.LtE)) for op in c.ops)
               and f.expr_depends_on(c, FROM_UTILITY) for c in ast.walk(test))


def _retries(f: Facts) -> bool:
    for node in ast.walk(f.tree):
        if isinstance(node, ast.Try):
            guarded = any(f.is_lm_site(n) or f.is_utility_call(n) for b in node.body for n in ast.walk(b))
            if not guarded:
                continue
            if any(f.is_lm_site(n) for h in node.handlers for n in ast.walk(h)):
                return True  # try the call again in the handler
            if f.enclosing(node, LOOPS) and any(not isinstance(h.body[-1], (ast.Raise, ast.Return))
                                                for h in node.handlers):
                return True  # swallow the error and go round the loop again
        if isinstance(node, ast.While) and f.lm_sites(node) and f.expr_depends_on(node.test, FROM_LM):
            return True  # while not code: ask again
        if isinstance(node, LOOPS) and f.lm_sites(node) and (isinstance(node, ast.While) or call_name(node.iter) == "range"):
            # for attempt in range(3): ... if code is usable: break   (a score threshold is not a retry)
            if any(isinstance(n, ast.Break) and any(not _compares_scores(f, i.test) for i in f.enclosing(n, (ast.If,)))
                   for n in f.walk_scope(node)):
                return True
    return False


def _uses_feedback(f: Facts) -> bool:
    return any({FROM_UTILITY, FROM_ERROR} & f.site_inputs(site) for site in f.lm_sites())


def _solution_like(f: Facts, name: str) -> bool:
    reach = f.closure({name})
    return FROM_LM in reach or "<initial solution>" in reach


def _local_search(f: Facts) -> bool:
    for loop, sites in _loops_with_lm(f):
        inputs = set().union(*(f.site_inputs(s) for s in sites))
        for name, value, assign in _assigned_in(f, loop):
            if name not in inputs or not _solution_like(f, name) or _is_list_like(value):
                continue
            guarded = any(_compares_scores(f, i.test) for i in f.enclosing(assign, (ast.If,)))
            competes = isinstance(value, ast.Call) and call_name(value) in ("max", "min") and name in f.refs(value)
            if guarded or competes:
                return True
    return False


def _is_list_like(node: ast.AST) -> bool:
    return isinstance(node, (ast.List, ast.ListComp, ast.Tuple, ast.Set)) or _is_top_k(node) or (
        isinstance(node, ast.Call) and call_name(node) in ("sorted", "list", "nlargest", "nsmallest"))


def _is_top_k(node: ast.AST) -> bool:
    if isinstance(node, ast.Call) and call_name(node) in ("nlargest", "nsmallest"):
        return True
    return isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice) and isinstance(node.value, ast.Call) \
        and call_name(node.value) == "sorted"


def _beam_search(f: Facts) -> bool:
    sorted_in_place = {n.func.value.id for n in ast.walk(f.tree)
                       if call_name(n) == "sort" and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)}
    for loop, sites in _loops_with_lm(f):
        inputs = set().union(*(f.site_inputs(s) for s in sites))
        for name, value, _ in _assigned_in(f, loop):
            top_k = _is_top_k(value) or (isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Slice)
                                         and isinstance(value.value, ast.Name) and value.value.id in sorted_in_place)
            if top_k and name in inputs and _solution_like(f, name):
                return True
    return False


def _genetic(f: Facts) -> bool:
    for loop, sites in _loops_with_lm(f):
        inputs = set().union(*(f.site_inputs(s) for s in sites))
        choices: Counter = Counter()
        selected: list[str] = []
        for name, value, _ in _assigned_in(f, loop):
            for call in (n for n in ast.walk(value) if isinstance(n, ast.Call)):
                kind = call_name(call)
                pair = kind in ("sample", "choices", "choice") and (
                    any(isinstance(a, ast.Constant) and a.value == 2 for a in call.args[1:2])
                    or any(k.arg in ("k", "size") and isinstance(k.value, ast.Constant) and k.value.value == 2
                           for k in call.keywords))
                weighted = kind in ("choices", "choice") and any(k.arg in ("weights", "p") for k in call.keywords)
                if (pair or weighted) and name in inputs:
                    return True
                if kind == "choice" and call.args and name in inputs:
                    choices[ast.unparse(call.args[0])] += 1
                    selected.append(name)
        if any(n >= 2 for n in choices.values()) and len(set(selected)) >= 2:
            return True
    return False


def _simulated_annealing(f: Facts) -> bool:
    exps = [n for n in ast.walk(f.tree) if isinstance(n, ast.Call) and call_name(n) == "exp"
            and any(isinstance(b, ast.BinOp) and isinstance(b.op, ast.Div) for a in n.args for b in ast.walk(a))]
    exp_names = {name for name, value, _ in _assigned_in(f, f.tree) if any(e in exps for e in ast.walk(value))}
    for node in ast.walk(f.tree):
        if isinstance(node, ast.Compare):
            sides = [node.left] + node.comparators
            if any(is_random_draw(s) for s in sides) and any(
                    any(e in exps for e in ast.walk(s)) or bool(f.refs(s) & exp_names) for s in sides):
                return True
    return False


def _ucb(f: Facts) -> bool:
    for node in ast.walk(f.tree):
        if isinstance(node, ast.Call) and call_name(node) in ("betavariate", "beta"):
            return True  # Thompson sampling
        root = node.args[0] if isinstance(node, ast.Call) and call_name(node) == "sqrt" and node.args else (
            node.left if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow)
            and isinstance(node.right, ast.Constant) and node.right.value == 0.5 else None)
        if root is not None and any(isinstance(n, ast.Call) and call_name(n) in ("log", "log2", "log1p", "log10")
                                    for n in ast.walk(root)):
            return True
    return False


def _epsilon_greedy(f: Facts) -> bool:
    explore = ("choice", "randint", "randrange", "sample", "shuffle")
    exploit = ("max", "min", "argmax", "argmin", "sorted", "index")
    for node in ast.walk(f.tree):
        if not isinstance(node, (ast.If, ast.IfExp)) or not isinstance(node.test, ast.Compare):
            continue
        sides = [node.test.left] + node.test.comparators
        if not any(is_random_draw(s) for s in sides) or any(
                isinstance(n, ast.Call) and call_name(n) == "exp" for s in sides for n in ast.walk(s)):
            continue
        branches = [node.body, node.orelse] if isinstance(node, ast.If) else [[node.body], [node.orelse]]
        names = [{call_name(n) for b in branch for n in ast.walk(b) if isinstance(n, ast.Call)} for branch in branches]
        if (names[0] & set(explore) and names[1] & set(exploit)) or (names[1] & set(explore) and names[0] & set(exploit)):
            return True
    return False


def _temperature_schedule(f: Facts) -> bool:
    varying = {name for loop in f.loops() for name, _, _ in _assigned_in(f, loop)}
    varying |= {n.id for node in ast.walk(f.tree) if isinstance(node, ast.AugAssign) and f.enclosing(node, LOOPS)
                for n in ast.walk(node.target) if isinstance(n, ast.Name)}
    varying |= {n.id for node in ast.walk(f.tree) if isinstance(node, (ast.For, ast.comprehension))
                for n in ast.walk(node.target) if isinstance(n, ast.Name)}
    for call in (n for n in ast.walk(f.tree) if isinstance(n, ast.Call) and f.is_lm_site(n)):
        value = next((k.value for k in call.keywords if k.arg == "temperature"), None)
        position = 2 if call_name(call) == "batch_prompt" else 3 if call_name(call) == "prompt" else None
        if value is None and position is not None and len(call.args) > position:
            value = call.args[position]
        if value is not None and not isinstance(value, ast.Constant) and f.closure(f.refs(value, index=True)) & varying:
            return True
    return False


def _caches_utility(f: Facts) -> bool:
    for func in f.functions.values():
        decorators = {call_name(d) if isinstance(d, ast.Call) else d.attr if isinstance(d, ast.Attribute)
                      else getattr(d, "id", "") for d in func.decorator_list}
        if decorators & {"lru_cache", "cache"} and any(f.is_utility_call(n) for n in ast.walk(func)):
            return True
    looked_up = {c.id for node in ast.walk(f.tree) if isinstance(node, ast.Compare)
                 and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops)
                 for c in node.comparators if isinstance(c, ast.Name)}
    looked_up |= {n.func.value.id for n in ast.walk(f.tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                  and n.func.attr == "get" and isinstance(n.func.value, ast.Name)}
    for node in ast.walk(f.tree):
        if isinstance(node, ast.Assign) and any(f.is_utility_call(n) for n in ast.walk(node.value)):
            if any(isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id in looked_up
                   for t in node.targets):
                return True
    return False


def _decomposition(f: Facts) -> bool:
    splitters = ("split", "splitlines", "parse", "walk", "iter_child_nodes", "partition", "finditer", "findall")
    joins = any(isinstance(n, ast.Call) and call_name(n) in ("join", "replace", "unparse", "sub")
                for n in ast.walk(f.tree))
    if not joins:
        return False
    for loop, _ in _loops_with_lm(f):
        iters = [loop.iter] if isinstance(loop, (ast.For, ast.AsyncFor)) else [g.iter for g in loop.generators]
        for it in iters:
            sources = [it] + [v for name, v, _ in _assigned_in(f, f.tree) if name in f.closure(f.refs(it))]
            if any(call_name(n) in splitters or (isinstance(n, ast.Attribute) and n.attr == "body")
                   for s in sources for n in ast.walk(s)):
                return True
    return False


def _hint_prompts(f: Facts) -> bool:
    return any(HINTS in f.site_inputs(site) for site in f.lm_sites())


# One row per strategy, so the names, their meanings (for readers and the LM judge) and their
# detectors cannot drift apart.
CATALOGUE: tuple[tuple[str, str, Callable[[Facts], bool]], ...] = (
    ("beam_search", "keeps the top-k candidates of each round and expands them in the next",
     _beam_search),
    ("genetic_algorithm", "selects pairs of parents (or by fitness) from a population and recombines them",
     _genetic),
    ("simulated_annealing", "accepts a worse candidate with probability exp(delta / T)",
     _simulated_annealing),
    ("ucb_bandit", "chooses arms by an upper confidence bound (sqrt(log N / n)) or Thompson sampling",
     _ucb),
    ("epsilon_greedy", "explores a random choice with probability epsilon, else exploits the best",
     _epsilon_greedy),
    ("temperature_schedule", "varies the sampling temperature across calls",
     _temperature_schedule),
    ("caches_utility", "memoizes utility calls",
     _caches_utility),
    ("decomposition", "splits the solution into parts and improves each with its own LM call",
     _decomposition),
    ("local_search", "repeatedly asks the LM to improve the incumbent and keeps it if better",
     _local_search),
    ("hint_prompts", "draws prompts from a list of distinct hints or instructions",
     _hint_prompts),
    ("uses_more_lm_budget", "makes more than one LM call per run",
     _calls_lm_more_than_once),
    ("keeps_incumbent", "lets the initial solution compete, so the result cannot regress",
     _keeps_incumbent),
    ("retries_on_failure", "retries after an error or an unusable response",
     _retries),
    ("uses_feedback", "puts scores or error messages of earlier candidates into later prompts",
     _uses_feedback),
)
STRATEGIES: dict[str, str] = {name: text for name, text, _ in CATALOGUE}
RULES: dict[str, Callable[[Facts], bool]] = {name: rule for name, _, rule in CATALOGUE}
