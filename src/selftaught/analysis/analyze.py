"""Everything the report shows about one run, computed once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from selftaught.analysis.history import (
    FinalComparison, ImproveOutcome, Step, TransferRow, best_runs, final_comparison, improve_outcome, seed_scores,
    self_improvement, transfer_rows,
)
from selftaught.analysis.lineage import Lineage, lineage
from selftaught.analysis.rundata import RunData, load_run
from selftaught.analysis.runs import RunEntry, run_entry
from selftaught.analysis.safety import Safety, run_safety
from selftaught.analysis.strategies import StrategyReport, detect


@dataclass(frozen=True)
class Improver:
    program: str
    label: str
    source: str
    strategies: StrategyReport


@dataclass(frozen=True)
class RunAnalysis:
    run: RunData
    entry: RunEntry
    steps: tuple[Step, ...]  # self-improve
    seed_scores: dict[str, tuple[float | None, float | None]]  # u(s) per task: (val, test)
    transfer: tuple[TransferRow, ...]  # transfer
    improve: ImproveOutcome | None  # improve
    lineage: Lineage
    improvers: tuple[Improver, ...]  # every improver whose source is known, with its strategies
    safety: Safety
    best_runs: dict[str, dict]  # task -> the downstream run that scored best on test
    final: FinalComparison | None = None  # self-improve: I_T vs I_0 on fresh paired test runs

    @property
    def best_improver(self) -> str | None:
        """The improver with the highest û on val (self-improve runs)."""
        scored = [s for s in self.steps if s.score]
        return max(scored, key=lambda s: (s.score.val.mean, s.t)).improver if scored else None


def analyze(path: Path | RunData) -> RunAnalysis:
    run = path if isinstance(path, RunData) else load_run(path)
    steps = self_improvement(run) if run.kind == "self-improve" else []
    tree = lineage(run, steps)
    return RunAnalysis(run, run_entry(run), tuple(steps), seed_scores(run),
                       tuple(transfer_rows(run)) if run.kind == "transfer" else (),
                       improve_outcome(run) if run.kind == "improve" else None, tree,
                       tuple(_improvers(run, tree)), run_safety(run), best_runs(run), final_comparison(run))


def _improvers(run: RunData, tree: Lineage) -> list[Improver]:
    found: dict[str, tuple[str, str]] = {}
    if run.kind == "self-improve":
        for node in tree.nodes:
            if node.source is not None:
                found[node.program] = (node.label, node.source)
    elif run.kind == "transfer":
        found = {pid: (label, source) for pid, (label, source) in run.compared_improvers().items()
                 if source is not None}
    elif run.kind == "improve":
        pid = str(run.settings.get("improver", ""))
        source = run.program(pid)
        if source is not None:
            found[pid] = ("improver", source)
    return [Improver(pid, label, source, detect(source)) for pid, (label, source) in found.items()]
