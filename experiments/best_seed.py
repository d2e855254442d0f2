"""Experiment 4, step 2: self-improvement from the best seed (RESULTS.md, where it is
pre-registered), then transfer of each run's improvers to the five held-out tasks.

    python experiments/best_seed.py plan      # the commands, from steps before it (nothing runs)
    python experiments/best_seed.py run       # runs them, resumably; skips finished steps
    python experiments/best_seed.py report    # the tables RESULTS.md shows, from what has run

The seed I_0 is experiment 3's winner under its registered decision (`better_default` on the
leaderboard's last stage), else `knobs`. The meta-utility's tasks are the ones step 1
(experiments/headroom.py) chose. Each self-improve run and each transfer is found again by its
sample seed, so `run` resumes a killed step and skips a finished one; progress goes to the
data's experiment.log.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "experiments"))  # a script's neighbours, however it is loaded
from data import DATA  # noqa: E402

from selftaught.settings import TRANSFER_TASKS  # noqa: E402

RUN_SEEDS = ("exp4-a", "exp4-b", "exp4-c")
TRANSFER_SEED = "exp4-transfer"
FALLBACK_SEED = "knobs"
CANDIDATES, ITERATIONS, TRANSFER_RUNS = 12, 2, 4
# û calls of the improver-of-improvers: one per candidate, and one for the incumbent, which a seed
# that keeps it (knobs, keep_best) scores first. Its û is journalled already, so that call costs
# no improver run, but it counts against the budget (amended 2026-12-03, before any run: with 12,
# knobs would have written 11 candidates; RESULTS.md).
META_BUDGET = CANDIDATES + 1
# The registered budgets: the small preset's, 12 candidates per step, and the same 1800 s wall
# limit per improver run as experiments 2 and 3 (LM calls count towards it on a shared CPU).
COMMON = ["--preset", "small", "--improver-time-limit", "1800", "--backend", "local"]


def seed_improver(data_dir: Path) -> str:
    """Experiment 3's winner under its registered decision, else the fallback. The decision must
    be final (leaderboard.final_decision): the seed depends on it."""
    import leaderboard

    winner = leaderboard.final_decision(data_dir / "runs")
    return winner.label if winner is not None else FALLBACK_SEED


def meta_tasks(data_dir: Path) -> list[str]:
    import headroom

    from selftaught.analysis.rundata import load_run

    found = headroom.find_run(data_dir / "runs")
    if found is None or not (found / "transfer.json").exists():
        raise SystemExit("step 1 has not finished: run `python experiments/headroom.py run` first")
    chosen = headroom.chosen(headroom.headroom(load_run(found)))
    if not chosen:
        raise SystemExit("no task qualified in step 1: experiment 4 ends there (RESULTS.md)")
    return chosen


def abandon_if_keyless(runs: Path, command: str, key: str, value: str, done_file: str, log) -> Path | None:
    """Amendment of 2026-12-03 (RESULTS.md), made before any run of step 2: a sitting may run on a
    new machine, and an unfinished run whose instance key this machine lacks cannot resume (its
    hidden instances cannot be rebuilt). That run is marked abandoned (kept in the data, not
    counted) and its step starts again under a new key with the same sample seed. Its LM samples
    replay from the cache wherever a request is the same as before; the instances are new, so
    scores, and the requests that depend on them, can differ. Only a key that is absent
    abandons a run: any other trouble (an unreadable key file) is left to `--resume` to report.
    Returns the abandoned run, if any."""
    from stop_embedded import ABANDONED, find_run

    from selftaught.tasks.secret import stored_key_path

    run = find_run(runs, command, key, value)
    if run is None or (run / done_file).exists():
        return None
    stored = stored_key_path(run)
    if stored is None or stored.exists():
        return None
    (run / ABANDONED).write_text(f"{time.strftime('%Y-%m-%d %H:%M:%S')}: its instance key (fingerprint "
                                 f"{stored.name[:16]}…) is not in this machine's key store; a new machine\n")
    log(f"abandoned {run.name} ({command} {value}): its instance key is not on this machine; "
        "the step restarts under a new key, replaying its samples from the cache where requests repeat")
    return run


def self_improve_args(seed: str, tasks: list[str], sample_seed: str, cache: Path) -> list[str]:
    return [*COMMON, "--cache-path", str(cache), "--seed-improver", seed,
            *[flag for task in tasks for flag in ("--task", task)], "-T", str(ITERATIONS),
            "--meta-responses", str(CANDIDATES), "--meta-budget", str(META_BUDGET), "--sample-seed", sample_seed]


def transfer_args(run: Path, cache: Path) -> list[str]:
    return [*COMMON, "--cache-path", str(cache), str(run), "--tasks", ",".join(TRANSFER_TASKS),
            "--n-tests", str(TRANSFER_RUNS), "--sample-seed", TRANSFER_SEED]


def changes_table(changes: list) -> list[str]:
    """Candidates by what they changed (analysis/edits.py), and how many of them then scored
    exactly like their parent (under common random numbers: no change in behaviour seen)."""
    from collections import Counter

    kinds = Counter(c.category for c in changes)
    same = Counter(c.category for c in changes if c.same_scores)
    lines = ["| changed | candidates | scored exactly like their parent |", "|---|---|---|"]
    lines += [f"| {kind} | {n} | {same[kind]} |" for kind, n in kinds.most_common()]
    lines += [f"| all | {len(changes)} | {sum(same.values())} |"]
    shown = [c for c in changes if c.edit is not None and (c.edit.knobs or c.edit.prompt) and not c.same_scores]
    lines += [f"- step {c.t}, `{c.improver[:8]}`: {c.edit.summary()}" for c in shown]
    return lines


def cost(run_dir: Path) -> str:
    """What a run spent, as registered: wall time (its sittings, not the time between them), its
    improver runs by outcome, and the LM's completion tokens, replayed responses counted apart."""
    from selftaught.runs.summary import summarize

    s = summarize(run_dir)
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(s.improver_statuses.items(), key=lambda kv: -kv[1]))
    sittings = f" over {s.sittings} sittings" if s.sittings > 1 else ""
    return (f"Cost: {s.wall_time_s / 60:.0f} min{sittings}; {s.improver_runs} improver runs ({statuses or 'none'}); "
            f"{s.lm_calls} LM calls, {s.completion_tokens:,} completion tokens over all responses"
            + (f" ({s.cached_calls} calls wholly replayed from the cache)" if s.cached_calls else "") + ".")


def report(data_dir: Path) -> str:
    """Per run of step 2: its steps, what its candidates changed, and its transfer paired against
    I_0 (pooled and per task, 95% intervals); whatever has run so far, said to be partial."""
    from stop_embedded import ABANDONED, find_run

    from selftaught.analysis.history import self_improvement
    from selftaught.analysis.leaderboard import standings
    from selftaught.analysis.lineage import candidate_changes
    from selftaught.analysis.rundata import load_run

    runs = data_dir / "runs"
    lines: list[str] = []
    abandoned = sorted(runs.glob(f"*/{ABANDONED}"))
    if abandoned:
        lines += ["Abandoned runs, not counted:"]
        lines += [f"- `{marker.parent.name}`: {marker.read_text().strip()}" for marker in abandoned]
        lines.append("")
    for sample_seed in RUN_SEEDS:
        found = find_run(runs, "self-improve", "sample_seed", sample_seed)
        if found is None:
            lines += [f"## {sample_seed}: not started", ""]
            continue
        run = load_run(found)
        done = (found / "self_improvement.json").exists()
        steps = self_improvement(run)
        lines += [f"## {sample_seed}: run `{found.name}`{'' if done else ' (unfinished)'}", ""]
        for step in steps[1:]:
            verdict = step.reason if step.accepted else f"kept I_{step.t - 1} ({step.reason})"
            lines.append(f"- step {step.t}: {verdict}; {len(step.candidates)} candidates scored "
                         f"({step.wall_time_s / 60:.0f} min, {step.usage.completion_tokens:,} completion tokens)")
        lines += ["", *changes_table(candidate_changes(run, steps)), "", cost(found), ""]
        transfer = find_run(runs, "transfer", "source", str(found.resolve()))
        if transfer is None:
            lines += ["Transfer: not started.", ""]
            continue
        board = standings(load_run(transfer))
        lines += [f"Transfer `{transfer.name}`{'' if (transfer / 'transfer.json').exists() else ' (unfinished)'}:"]
        for s in board[1:]:
            d = s.versus_reference
            per_task = ", ".join(f"{t} {i.mean:+.3f}" for t, i in s.per_task.items())
            lines.append(f"- {s.label} − {board[0].label}, test, pooled over {s.runs} runs: "
                         + (f"{d.mean:+.3f} [{d.lo:+.3f}, {d.hi:+.3f}]" if d else "no pairs") + f" ({per_task})")
        if len(board) < 2:
            lines.append("- I_T = I_0: nothing to pair")
        lines += ["", cost(transfer), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["plan", "run", "report"])
    parser.add_argument("--data", type=Path, default=DATA, help=f"the experiment data [default: {DATA}]")
    args = parser.parse_args()
    if args.action == "report":
        print(report(args.data))
        return
    runs, cache = args.data / "runs", args.data / "cache.sqlite"
    seed, tasks = seed_improver(args.data), meta_tasks(args.data)
    if args.action == "plan":
        for sample_seed in RUN_SEEDS:
            print("selftaught self-improve " + " ".join(self_improve_args(seed, tasks, sample_seed, cache)))
            print("selftaught transfer " + " ".join(transfer_args(Path(f"<the {sample_seed} run>"), cache)))
        return
    from stop_embedded import step  # finds a step by its sample seed, resumes or skips it

    log_file = args.data / "experiment.log"

    def log(line: str) -> None:
        stamped = f"{time.strftime('%Y-%m-%d %H:%M:%S')} experiment 4: {line}"
        print(stamped, flush=True)
        with log_file.open("a") as f:
            f.write(stamped + "\n")

    log(f"seed {seed}; meta-utility tasks {', '.join(tasks)}")
    for sample_seed in RUN_SEEDS:
        abandon_if_keyless(runs, "self-improve", "sample_seed", sample_seed, "self_improvement.json", log)
        run = step(self_improve_args(seed, tasks, sample_seed, cache), runs, "self-improve", "sample_seed",
                   sample_seed, "self_improvement.json", log)
        abandon_if_keyless(runs, "transfer", "source", str(run.resolve()), "transfer.json", log)
        step(transfer_args(run, cache), runs, "transfer", "source", str(run.resolve()), "transfer.json", log)


if __name__ == "__main__":
    main()
