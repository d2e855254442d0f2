"""Transfer: how the seed improver and each self-improved I_t do on held-out tasks.

For every task, the paper's Table 1 columns: u(s), the seed program's score; û(I_0), the
mean score of what the seed improver makes of it; û(I_t) for each improved improver, each with
its 95% interval and the paired difference to the first improver, usually I_0 (same runs, same
LM samples).
Reported on the `test` split (val steers the improvers' own choices).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from selftaught.acceptance.paired import compare
from selftaught.meta import MetaUtility
from selftaught.stats import Interval
from selftaught.tasks.task import Task
from selftaught.session import Session



@dataclass(frozen=True)
class TransferRow:
    task: str
    seed_program: float  # u(s) on test
    improvers: dict[str, Interval]  # label (I_0, I_1, ...) -> û on test
    versus_first: dict[str, Interval]  # label -> paired difference to the first improver (all but it)

    def to_json(self) -> dict:
        return {"task": self.task, "seed_program": self.seed_program,
                "improvers": {k: v.mean for k, v in self.improvers.items()},
                "intervals": {k: v.to_json() for k, v in self.improvers.items()},
                "versus_first": {k: v.to_json() for k, v in self.versus_first.items()}}


@dataclass(frozen=True)
class TransferReport:
    labels: list[str]
    rows: list[TransferRow]
    n_tests: int
    run_dir: Path | None = None  # where transfer.md and transfer.json are

    def markdown(self) -> str:
        head = "| task | u(s) | " + " | ".join(f"û({label})" for label in self.labels) + " |"
        lines = [head, "|---" * (2 + len(self.labels)) + "|"]
        for row in self.rows:
            cells = []
            for label in self.labels:
                cell = _pct_interval(row.improvers[label])
                if label in row.versus_first:
                    cell += f"; vs {self.labels[0]}: {_signed_pct_interval(row.versus_first[label])}"
                cells.append(cell)
            lines.append(f"| {row.task} | {100 * row.seed_program:.1f}% | " + " | ".join(cells) + " |")
        note = (f"\nTest split; {self.n_tests} improver runs per cell; mean [95% interval]. "
                "`vs`: paired difference to the first improver on the same runs and LM samples.\n")
        return "\n".join(lines) + "\n" + note

    def to_json(self) -> dict:
        return {"labels": self.labels, "n_tests": self.n_tests, "rows": [r.to_json() for r in self.rows]}

    def save(self, directory: Path) -> list[Path]:
        """transfer.md and transfer.json in `directory`."""
        md, js = directory / "transfer.md", directory / "transfer.json"
        md.write_text(self.markdown())
        js.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        return [md, js]


def transfer(session: Session, improvers: Sequence[tuple[str, str]], tasks: Sequence[Task]) -> TransferReport:
    """`improvers` are (label, source) pairs; the first is the reference for the differences."""
    rows = []
    programs, memo = session.pools.programs, session.memo
    metas = {task.name: MetaUtility(session, [task]) for task in tasks}
    # Every cell's runs at once, so the executor can overlap them; the rows then read the journal.
    MetaUtility(session, tasks).runs([(source, task, i) for task in tasks for _, source in improvers
                                      for i in range(session.settings.n_tests)])
    for task in tasks:
        seed = memo.evaluation(task, task.seed_program, "test", programs).score
        meta = metas[task.name]
        scores = {label: meta.score(source).test for label, source in improvers}
        first = improvers[0][1]
        versus = {label: compare(meta, source, first, range(meta.settings.n_tests), "test").difference
                  for label, source in improvers[1:]}
        rows.append(TransferRow(task.name, seed, scores, versus))
        session.journal.record("transfer_row", task.name, **rows[-1].to_json())
    return TransferReport([label for label, _ in improvers], rows, session.settings.n_tests)


def _pct_interval(i: Interval) -> str:
    return f"{100 * i.mean:.1f}% [{100 * i.lo:.1f}, {100 * i.hi:.1f}]" if i.n > 1 else f"{100 * i.mean:.1f}%"


def _signed_pct_interval(i: Interval) -> str:
    return f"{100 * i.mean:+.1f} [{100 * i.lo:+.1f}, {100 * i.hi:+.1f}]" if i.n > 1 else f"{100 * i.mean:+.1f}"
