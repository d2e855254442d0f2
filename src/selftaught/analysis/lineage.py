"""Lineage: who wrote whom. In a self-improve run, improver I_{t-1} writes the candidates of
step t and one of them (or I_{t-1} itself) becomes I_t; in improve and transfer runs an
improver turns a task's seed program into a solution. Every node knows its parent and
carries a unified diff against it when both sources were recorded."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from selftaught.analysis.edits import Edit, describe
from selftaught.analysis.history import Step, self_improvement
from selftaught.analysis.rundata import IMPROVER_RUN_KINDS, RunData, number, read_improver_files
from selftaught.ids import program_id


@dataclass(frozen=True)
class Node:
    key: str  # unique within the lineage
    program: str  # program id
    label: str
    parent: str | None  # key of the parent node
    role: str  # seed | accepted | rejected | solution
    val: float | None
    test: float | None
    source: str | None
    diff: str | None  # unified diff against the parent, if both sources are known
    note: str = ""
    edit: str = ""  # what a candidate improver changed against its parent (analysis/edits.py)


@dataclass(frozen=True)
class Lineage:
    nodes: tuple[Node, ...]
    _children: dict = field(default_factory=dict, repr=False, compare=False)

    def roots(self) -> list[Node]:
        return [n for n in self.nodes if n.parent is None]

    def children(self, key: str) -> list[Node]:
        if not self._children:
            for node in self.nodes:
                self._children.setdefault(node.parent, []).append(node)
        return self._children.get(key, [])

    def get(self, key: str) -> Node | None:
        return next((n for n in self.nodes if n.key == key), None)


def unified_diff(parent: str | None, child: str | None, parent_name: str, child_name: str) -> str | None:
    if parent is None or child is None:
        return None
    return "".join(difflib.unified_diff(parent.splitlines(keepends=True), child.splitlines(keepends=True),
                                        fromfile=parent_name, tofile=child_name, n=3)) or "(identical)\n"


def improver_sources(run: RunData) -> dict[str, str]:
    """improver_<t>.py files of a run directory by program id."""
    return {pid: source for pid, _, source in read_improver_files(run.path)}


def lineage(run: RunData, steps: list[Step] | None = None) -> Lineage:
    if run.kind == "self-improve":
        return _self_improve(run, self_improvement(run) if steps is None else steps)
    return _downstream(run)


def _sources(run: RunData):
    """A lookup of improver sources by program id: the run's programs, else its improver files."""
    files = improver_sources(run)

    def source(pid: str | None) -> str | None:
        return run.program(pid) or files.get(pid or "")

    return source


def _self_improve(run: RunData, steps: list[Step]) -> Lineage:
    source = _sources(run)

    nodes: dict[str, Node] = {}
    for step in steps:
        if step.t == 0:
            s = step.score
            nodes[step.improver] = Node(step.improver, step.improver, "I_0", None, "seed",
                                        s.val.mean if s else None, s.test.mean if s else None,
                                        source(step.improver), None, "the seed improver")
            continue
        parent = step.parent or ""
        for cand in step.candidates:
            if cand.improver in nodes:
                continue
            accepted = step.accepted and cand.improver == step.improver
            label = f"I_{step.t}" if accepted else f"candidate of step {step.t}"
            statuses = ", ".join(f"{k} x{v}" for k, v in cand.statuses.items())
            before, after = source(parent), source(cand.improver)
            nodes[cand.improver] = Node(
                cand.improver, cand.improver, label, parent if parent in nodes else None,
                "accepted" if accepted else "rejected", cand.val.mean, cand.test.mean,
                after, unified_diff(before, after, f"{parent[:8]}.py", f"{cand.improver[:8]}.py"),
                f"downstream runs: {statuses}" if statuses else "",
                describe(before, after).summary() if before is not None and after is not None else "")
        if step.improver in nodes and nodes[step.improver].label.startswith("candidate"):
            old = nodes[step.improver]
            nodes[step.improver] = Node(**{**old.__dict__, "label": f"I_{step.t}", "role": "accepted"})
        if step.candidate and step.candidate == parent and parent in nodes:
            old = nodes[parent]
            extra = f"step {step.t}: returned itself"
            nodes[parent] = Node(**{**old.__dict__, "note": "; ".join(x for x in (old.note, extra) if x)})
    return Lineage(tuple(nodes.values()))


@dataclass(frozen=True)
class CandidateChange:
    """One candidate of a self-improvement step, by what it changed against the improver that
    wrote it and whether that changed what it did."""

    t: int
    improver: str
    parent: str
    edit: Edit | None  # None when a source was not recorded
    # û scores every improver of a run on the same downstream runs under common random numbers,
    # so a candidate that behaves like its parent scores exactly like it, run by run.
    same_scores: bool | None  # None when either was not scored

    @property
    def category(self) -> str:
        return self.edit.category if self.edit is not None else "source not recorded"


def candidate_changes(run: RunData, steps: list[Step] | None = None) -> list[CandidateChange]:
    """Every candidate of a self-improve run, in order, as experiment 4 counts them (RESULTS.md):
    what it changed (analysis/edits.py) and whether it then scored like its parent."""
    steps = self_improvement(run) if steps is None else steps
    source = _sources(run)
    scores = {c.improver: c for step in steps for c in step.candidates}
    scores.update({step.improver: step.score for step in steps if step.score is not None})

    def behaviour(pid: str) -> tuple | None:
        score = scores.get(pid)
        return (score.run_vals, sorted(score.statuses.items())) if score is not None and score.run_vals else None

    found = []
    for step in steps:
        if step.t == 0 or not step.parent:
            continue
        for cand in step.candidates:
            before, after = source(step.parent), source(cand.improver)
            mine, theirs = behaviour(cand.improver), behaviour(step.parent)
            found.append(CandidateChange(
                step.t, cand.improver, step.parent,
                describe(before, after) if before is not None and after is not None else None,
                None if mine is None or theirs is None else mine == theirs))
    return found


def _downstream(run: RunData) -> Lineage:
    """Seed program -> what each improver run returned, per task."""
    labels = run.improver_labels()
    seeds = run.seed_programs()
    nodes: list[Node] = []
    for task in dict.fromkeys(str(e.get("task", "?")) for e in run.of(*IMPROVER_RUN_KINDS)):
        seed = seeds.get(task)
        root = f"{task}:seed"
        nodes.append(Node(root, program_id(seed) if seed else "?", f"seed program ({task})", None, "seed",
                          None, None, seed, None))
        for e in run.of(*IMPROVER_RUN_KINDS):
            if str(e.get("task", "?")) != task:
                continue
            improver = str(e.get("improver", "?"))
            who = labels.get(improver, improver[:8])
            run_index = f" run {e['index']}" if isinstance(e.get("index"), int) else ""
            solution = e.get("solution_source") if isinstance(e.get("solution_source"), str) else None
            nodes.append(Node(
                f"{task}:{e.get('key', len(nodes))}", str(e.get("solution") or "-"), f"{who}{run_index}", root,
                "solution" if solution is not None else "rejected", number(e.get("val")), number(e.get("test")),
                solution, unified_diff(seed, solution, f"seed program ({task})", f"{who}{run_index}"),
                f"status {e.get('status', '?')}"))
    return Lineage(tuple(nodes))
