"""The pre-registered experiment of issue 13: self-improvement on the embedded model, with
paired statistics, then transfer of each run's last improver to the five held-out tasks.

Arms (each `runs` independent self-improve runs with fresh sample seeds, T = 2, --preset small:
paired acceptance, 6 candidates per step, final I_T vs I_0 comparison on fresh test runs):
  multi  meta-utility over fibonacci, string_grid_distance and parity (tasks with a gradient)
  lpn    the paper's setting (LPN only)
Exploratory arms, not pre-registered, each one lever on top of `multi`:
  multi-keep-best  I_0 = experiments/seeds/keep_best.py (the paper's seed plus a fallback to the
                   initial solution; see experiments/fallback_lever.py)
  multi-feedback   --meta-feedback: û's description says how the incumbent's runs went
Then, per finished run, `transfer` of I_0..I_T with n_tests = 5. A run that ended with I_T = I_0
(every improver_<t>.py the seed improver's text) shares one transfer of I_0, sample seed
`seed-improver-transfer`: with common random numbers its paired difference is 0 by construction,
so a transfer of its own would only re-estimate û(I_0) at 25 improver runs' cost (amendment of
2026-11-28 12:45 UTC, made before any transfer ran; see RESULTS.md).

Resumable: each step is identified by its sample seed; a step whose run directory exists is
resumed (finished work is not redone), a finished step is skipped. Progress goes to
experiment.log beside the runs directory (experiments/data.py); RESULTS.md is written by hand from the run directories.

    python experiments/stop_embedded.py --arms multi,lpn --runs 3
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "experiments"))  # a script's neighbours, however it is loaded
from data import DATA  # noqa: E402
MULTI = ["fibonacci", "string_grid_distance", "parity"]
# arm -> (tasks of its meta-utility, extra self-improve options). multi and lpn are the
# pre-registered arms; the others are exploratory levers, each reported on its own.
ARMS = {"multi": (MULTI, []), "lpn": (["lpn"], []),
        "multi-keep-best": (MULTI, ["--seed-improver", str(ROOT / "experiments" / "seeds" / "keep_best.py")]),
        "multi-feedback": (MULTI, ["--meta-feedback"])}
HELD_OUT = "parity,three_sat,max_cut,string_grid_distance,mqap"
SHARED_TRANSFER = "seed-improver-transfer"


def changed(run: Path) -> bool:
    """Whether some improver_<t>.py of a self-improve run differs from improver_0.py."""
    texts = {p.read_text() for p in run.glob("improver_*.py")}
    return len(texts) > 1


# A run directory holding this file was given up (it says why; experiments/best_seed.py): it stays
# in the data, and steps look past it.
ABANDONED = "ABANDONED"


def find_run(runs_dir: Path, command: str, key: str, value: str) -> Path | None:
    for config in sorted(runs_dir.glob(f"*-{command}*/config.json")):
        if (config.parent / ABANDONED).exists():
            continue
        settings = json.loads(config.read_text())["settings"]
        if settings.get(key) == value or settings.get("run", {}).get(key) == value:
            return config.parent
    return None


def step(args: list[str], runs_dir: Path, command: str, key: str, value: str, done_file: str, log) -> Path:
    run = find_run(runs_dir, command, key, value)
    if run is not None and (run / done_file).exists():
        log(f"skip {command} {value}: finished in {run}")
        return run
    cmd = [sys.executable, "-m", "selftaught", command]
    cmd += ["--resume", str(run)] if run is not None else args + ["--runs-dir", str(runs_dir)]
    log("run " + " ".join(cmd))
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT)
    log(f"exit {proc.returncode} after {time.monotonic() - started:.0f} s")
    if proc.returncode != 0:
        raise SystemExit(proc.returncode)
    return find_run(runs_dir, command, key, value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arms", default="multi,lpn", help=f"Comma-separated, of {', '.join(ARMS)}.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=2)
    parser.add_argument("--transfer-tests", type=int, default=5)
    parser.add_argument("--runs-dir", type=Path, default=DATA / "runs", help=f"[default: {DATA / 'runs'}]")
    parser.add_argument("--cache-path", type=Path, default=DATA / "cache.sqlite",
                        help=f"[default: {DATA / 'cache.sqlite'}]")
    parser.add_argument("--no-transfer", action="store_true")
    args = parser.parse_args()
    args.runs_dir.mkdir(parents=True, exist_ok=True)
    log_file = args.runs_dir.parent / "experiment.log"

    def log(line: str) -> None:
        stamped = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}"
        print(stamped, flush=True)
        with log_file.open("a") as f:
            f.write(stamped + "\n")

    # A 1800 s wall limit per improver run: on a shared 2-core machine, LM calls alone can pass
    # the preset's 600 s (scores themselves are CPU-timed and do not move with load).
    common = ["--preset", "small", "--cache-path", str(args.cache_path), "--improver-time-limit", "1800"]
    for r in range(1, args.runs + 1):
        for arm in args.arms.split(","):
            seed = f"{arm}-{r}"
            names, extra = ARMS[arm]
            tasks = [flag for name in names for flag in ("--task", name)]
            run = step(common + tasks + extra + ["-T", str(args.iterations), "--sample-seed", seed], args.runs_dir,
                       "self-improve", "sample_seed", seed, "self_improvement.json", log)
            if args.no_transfer:
                continue
            # The shared transfer is of the paper's seed improver: only its arms may share it.
            transfer_seed = f"{seed}-transfer" if changed(run) or "--seed-improver" in extra else SHARED_TRANSFER
            if transfer_seed == SHARED_TRANSFER:
                log(f"{seed}: I_T = I_0, so its transfer is the shared one ({SHARED_TRANSFER})")
            step(common + [str(run), "--tasks", HELD_OUT, "--n-tests", str(args.transfer_tests),
                           "--sample-seed", transfer_seed],
                 args.runs_dir, "transfer", "sample_seed", transfer_seed, "transfer.json", log)


if __name__ == "__main__":
    main()
