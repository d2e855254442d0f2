"""Experiment 4, step 1: which tasks have headroom for the embedded model (RESULTS.md, where the
rule is pre-registered). A task has headroom when the model's rewrites of its seed program beat
the seed some of the time: only there can one improver do better than another, so only there
can a meta-utility tell improvers apart (experiment 2's multi arm had no such task).

    python experiments/headroom.py run        # the knobs seed on each candidate task, 4 runs each
    python experiments/headroom.py report     # the share of samples that beat u(s), per task

The candidates are the built-in tasks outside the five held-out transfer tasks. `run` is one
`selftaught transfer` run under the data location's runs/ (resumable: run it again after a
kill), with its samples in the data's cache.sqlite. Every sample an improver run scores on val
is one trial; it beats the seed when its val score is above the seed program's.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "experiments"))  # a script's neighbours, however it is loaded
from data import DATA  # noqa: E402

from selftaught.analysis.rundata import RunData, load_run  # noqa: E402
from selftaught.ids import program_id  # noqa: E402
from selftaught.runs.events import EVALUATION, improver_runs  # noqa: E402
from selftaught.settings import TRANSFER_TASKS  # noqa: E402
from selftaught.stats import Interval, wilson_interval  # noqa: E402
from selftaught.tasks.loader import builtin_names  # noqa: E402

SAMPLE_SEED = "headroom"
RUNS_PER_TASK = 4
IMPROVER = "knobs"  # experiment 4's seed unless experiment 3 has a winner; it samples as keep_best does
MIN_SHARE = 0.05  # a task qualifies when the 95% Wilson lower bound of its share is above this
MAX_TASKS = 3  # the meta-utility's tasks: the qualifying ones with the highest share


def candidates() -> list[str]:
    return [name for name in builtin_names() if name not in TRANSFER_TASKS]


@dataclass(frozen=True)
class Headroom:
    task: str
    seed_val: float | None  # u(s) on val
    samples: int  # distinct programs the improver runs scored on val, the seed excepted
    beat: int  # of those, the ones scoring above u(s)
    share: Interval  # beat / samples, 95% Wilson
    runs: int
    runs_improved: int  # improver runs whose output scored above u(s) on val

    @property
    def qualifies(self) -> bool:
        return self.samples > 0 and self.share.lo > MIN_SHARE


def headroom(run: RunData) -> list[Headroom]:
    """Per task of a transfer run: how often the model's samples beat the seed program on val.
    Scores come from the run's journal (each distinct program is scored once per split)."""
    seeds = {task: program_id(source) for task, source in run.seed_programs().items()}
    scores: dict[str, dict[str, float]] = {}
    for event in run.of(EVALUATION):
        task, split, pid = (str(event.get("key", "")).split("/") + ["", "", ""])[:3]
        if split == "val" and isinstance(event.get("score"), (int, float)):
            scores.setdefault(task, {})[pid] = float(event["score"])
    found = []
    for task in run.tasks:
        val = scores.get(task, {})
        seed = val.get(seeds.get(task, ""))
        samples = [score for pid, score in val.items() if pid != seeds.get(task)]
        beat = sum(1 for score in samples if seed is not None and score > seed)
        outputs = [r for r in improver_runs(run.events) if r.task == task and r.status == "ok"]
        share = wilson_interval(beat, len(samples)) if samples else Interval(0.0, 0.0, 0.0, 0)
        found.append(Headroom(task, seed, len(samples), beat, share,
                              len(outputs), sum(1 for r in outputs if seed is not None and r.val > seed)))
    return found


def chosen(rows: list[Headroom]) -> list[str]:
    """The pre-registered choice: qualifying tasks, highest share first, at most MAX_TASKS."""
    qualifying = sorted((r for r in rows if r.qualifies), key=lambda r: (-r.share.mean, r.task))
    return [r.task for r in qualifying[:MAX_TASKS]]


def find_run(runs: Path) -> Path | None:
    for config in sorted(runs.glob("*-transfer/config.json")):
        if json.loads(config.read_text())["settings"].get("run", {}).get("sample_seed") == SAMPLE_SEED:
            return config.parent
    return None


def run(data_dir: Path) -> None:
    runs = data_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    existing = find_run(runs)
    common = ["--backend", "local", "--cache-path", str(data_dir / "cache.sqlite")]
    if existing is not None:
        cmd = ["--resume", str(existing)]
    else:
        cmd = [IMPROVER, "--tasks", ",".join(candidates()), "--preset", "small", "--n-tests", str(RUNS_PER_TASK),
               "--sample-seed", SAMPLE_SEED, "--improver-time-limit", "1800", "--runs-dir", str(runs)]
    subprocess.run([sys.executable, "-m", "selftaught", "transfer", *cmd, *common], cwd=ROOT, check=True)


def report(data_dir: Path) -> str:
    found = find_run(data_dir / "runs")
    if found is None:
        raise SystemExit(f"no headroom run under {data_dir / 'runs'}: run `headroom.py run` first")
    rows = headroom(load_run(found))
    lines = [f"Run `{found.name}`.", ""]
    unmatched = [r.task for r in rows if r.seed_val is None]
    if unmatched:  # the seed's id comes from seed.py as it is now
        lines += [f"u(s) on val not found for {', '.join(unmatched)}: the run has no val score of the seed "
                  "program as it is now (was seed.py edited after the run?); those tasks cannot qualify.", ""]
    lines += [
             "| task | u(s), val | samples scored | beat u(s) | share [95% Wilson] | runs improved | qualifies |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        seed = "-" if r.seed_val is None else f"{r.seed_val:.3f}"
        lines.append(f"| {r.task} | {seed} | {r.samples} | {r.beat} | {r.share.mean:.2f} "
                     f"[{r.share.lo:.2f}, {r.share.hi:.2f}] | {r.runs_improved}/{r.runs} | "
                     f"{'yes' if r.qualifies else 'no'} |")
    picked = chosen(rows)
    lines += ["", "Meta-utility tasks: " + (", ".join(picked) if picked else "none qualifies")]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["run", "report"])
    parser.add_argument("--data", type=Path, default=DATA, help=f"the experiment data [default: {DATA}]")
    args = parser.parse_args()
    if args.action == "run":
        run(args.data)
    else:
        print(report(args.data))


if __name__ == "__main__":
    main()
