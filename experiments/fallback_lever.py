"""The fallback lever, measured on its own (issue 13, lever "a stronger seed"): the paper's seed
improver vs experiments/seeds/keep_best.py, which is the same improver plus one change: it also
scores its initial solution and returns it unless a rewrite scores higher.

keep_best sends exactly the paper seed's LM request (tests/test_experiment_seeds.py), so on a
run's streams it sees the same samples as I_0 did. Every case below is therefore replayed from
the data location's cache.sqlite (`--backend replay`: no LM call, only scoring in the sandbox), on the
instances and streams of a finished run:
- each self-improve run of the experiment, on its tasks, over every run index I_0 made there
  (û's runs and the race's fresh pairs);
- the shared transfer of I_0 (sample seed seed-improver-transfer) on the five held-out tasks.

Each case is a `selftaught transfer` run directory under the data's runs/ (resumable, skipped when
finished). The table pools each case's paired differences keep_best − I_0 over tasks and runs,
on test and on val, with a 95% t interval, wins/losses/ties and a one-sided sign test.

    python experiments/fallback_lever.py [--cases multi-1,multi-2,...] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from scipy.stats import binomtest

from selftaught.analysis.rundata import load_run
from selftaught.stats import mean_interval

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "experiments"))  # a script's neighbours, however it is loaded
from data import DATA  # noqa: E402
RUNS = DATA / "runs"  # --data moves it
SEED = ROOT / "src" / "selftaught" / "improvers" / "seed_improver.py"
KEEP_BEST = ROOT / "src" / "selftaught" / "improvers" / "library" / "keep_best.py"
TRANSFER_SEED = "seed-improver-transfer"


def events(run: Path) -> tuple[dict, ...]:
    return load_run(run).events  # tolerant of a line cut by kill -9


def settings(run: Path) -> dict:
    return json.loads((run / "config.json").read_text())["settings"]


def finished_runs() -> dict[str, Path]:
    """sample seed -> its finished self-improve or transfer run (the shared transfer only)."""
    found = {}
    for config in sorted(RUNS.glob("*/config.json")):
        run, s = config.parent, settings(config.parent)
        seed = s.get("run", {}).get("sample_seed")
        if run.name.endswith("-self-improve") and (run / "self_improvement.json").exists():
            found[seed] = run
        elif run.name.endswith("-transfer") and seed == TRANSFER_SEED and not is_lever_run(s) \
                and (run / "transfer.json").exists():
            found[seed] = run
    return found


def is_lever_run(s: dict) -> bool:
    return [label for label, _ in s.get("improvers", [])] == ["seed_improver", "keep_best"]


def indices_of_i0(run: Path) -> int:
    """How many run indices 0..n-1 I_0 completed on every task of the run."""
    tasks = [Path(t).name for t in settings(run)["tasks"]]
    seed_id = settings(run).get("seed_improver")
    done = {tuple(e["key"].split("/")[1:]) for e in events(run) if e["kind"] == "improver_run"
            and (seed_id is None or e["key"].startswith(seed_id + "/"))}
    n = 0
    while all((task, str(n)) in done for task in tasks):
        n += 1
    return n


def lever_run(case: str, source: Path) -> Path:
    """The replayed transfer of (I_0, keep_best) on `source`'s tasks, streams and instances."""
    s = settings(source)
    for config in sorted(RUNS.glob("*-transfer/config.json")):
        t = settings(config.parent)
        if t.get("run", {}).get("sample_seed") == s["run"]["sample_seed"] and is_lever_run(t):
            if (config.parent / "transfer.json").exists():
                return config.parent
            cmd = ["--resume", str(config.parent)]
            break
    else:
        n = indices_of_i0(source) if source.name.endswith("-self-improve") else s["run"]["n_tests"]
        cmd = [str(SEED), str(KEEP_BEST), "--tasks", ",".join(Path(t).name for t in s["tasks"]),
               "--preset", "small", "--n-tests", str(n), "--sample-seed", s["run"]["sample_seed"],
               "--instance-secret", str(source / "instance_secret"), "--improver-time-limit", "1800",
               "--runs-dir", str(RUNS)]
    cmd = [sys.executable, "-m", "selftaught", "transfer", *cmd, "--backend", "replay",
           "--cache-path", str(RUNS.parent / "cache.sqlite")]
    print(f"{case}: " + " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return lever_run(case, source)


def paired(run: Path, split: str) -> list[float]:
    """keep_best − I_0 on every (task, index) both ran, on `split`."""
    labels = dict(settings(run)["improvers"])
    scores: dict[str, dict[tuple[str, str], float]] = {"seed_improver": {}, "keep_best": {}}
    for e in events(run):
        if e["kind"] == "improver_run":
            iid, task, index = e["key"].split("/")
            for label, pid in labels.items():
                if pid == iid:
                    scores[label][(task, index)] = e[split]
    first, second = scores["seed_improver"], scores["keep_best"]
    return [second[k] - first[k] for k in sorted(first) if k in second]


def row(case: str, run: Path) -> str:
    cells = []
    for split in ("test", "val"):
        d = paired(run, split)
        i = mean_interval(d)
        wins, losses = sum(x > 1e-9 for x in d), sum(x < -1e-9 for x in d)
        p = binomtest(wins, wins + losses, 0.5, alternative="greater").pvalue if wins + losses else 1.0
        cells.append(f"{i.mean:+.3f} [{i.lo:+.3f}, {i.hi:+.3f}], {wins}/{losses}/{len(d) - wins - losses}, "
                     f"p = {p:.3g}")
    n = len(paired(run, "test"))
    return f"| {case} | {run.name} | {n} | " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default="", help="Comma-separated sample seeds [default: every finished run].")
    parser.add_argument("--data", type=Path, default=DATA,
                        help=f"the experiment data: runs/ and cache.sqlite [default: {DATA}]")
    args = parser.parse_args()
    global RUNS
    RUNS = args.data / "runs"
    found = finished_runs()
    cases = [c for c in args.cases.split(",") if c] or sorted(found)
    missing = [c for c in cases if c not in found]
    if missing:
        raise SystemExit(f"no finished run with sample seed {', '.join(missing)} under {RUNS}")
    lines = ["| case | lever run | pairs | keep_best − I_0, test: mean [95% CI], wins/losses/ties, sign p "
             "| the same on val |", "|---|---|---|---|---|"]
    lines += [row(case, lever_run(case, found[case])) for case in cases]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
