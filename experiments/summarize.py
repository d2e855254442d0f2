"""Tables for RESULTS.md from the run directories of the issue-13 experiment (read-only).

    python experiments/summarize.py [RUNS_DIR]   (default: the data location, experiments/data.py)

Per self-improve run: û(I_0), every iteration's candidates (û and how their runs ended), the
decision, the final I_T vs I_0 comparison if any, and what the downstream programs did (statuses
and the share that imported a module the sandbox does not have), with wall time and tokens.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "experiments"))  # a script's neighbours, however it is loaded
from data import DATA  # noqa: E402


def events(run: Path) -> list[dict]:
    out = []
    for line in (run / "events.jsonl").read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass  # a line cut by kill -9
    return out


def interval(mean: float, ci: list | None) -> str:
    return f"{mean:.3f}" if not ci or ci[0] == ci[1] else f"{mean:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"


def summarize(run: Path) -> str:
    config = json.loads((run / "config.json").read_text())
    settings = config["settings"]
    seed = settings["run"].get("sample_seed", "?")
    log = events(run)
    scores = {e["improver"]: e for e in log if e["kind"] == "meta_score"}
    runs = [e for e in log if e["kind"] == "improver_run"]
    lines = [f"### `{seed}` ({run.name}; tasks: {', '.join(settings.get('tasks', []))})", ""]
    first = next((e for e in log if e["kind"] == "meta_score"), None)
    if first:
        lines.append(f"- û(I_0) = {interval(first['val'], first.get('val_ci'))} val, "
                     f"{interval(first['test'], first.get('test_ci'))} test (n = {first['n']} improver runs)")
    # A resumed run logs iteration_started again for the iteration it resumes: keep the first.
    started, seen = [], set()
    for e in log:
        if e["kind"] == "iteration_started" and e["t"] not in seen:
            seen.add(e["t"])
            started.append(e)
    done = {e["t"]: e for e in log if e["kind"] == "iteration"}
    for it in started:
        t = it["t"]
        end = done.get(t)
        later = [e["ts"] for e in log if e["kind"] == "iteration_started" and e["t"] == t + 1]
        window = [s for s in scores.values() if it["ts"] <= s["ts"] and (not later or s["ts"] < later[0])
                  and s["improver"] != it["improver"]]
        cands = []
        for s in window:
            statuses = Counter(r["status"] for r in runs if r["improver"] == s["improver"])
            cands.append(f"`{s['improver'][:8]}` {s['val']:.3f} ({', '.join(f'{k} {v}' for k, v in statuses.items())})")
        verdict = ("accepted" if end["accepted"] else f"kept the incumbent: {end['reason'][:120]}") if end else "unfinished"
        lines.append(f"- iteration {t}: {len(window)} candidates scored: {'; '.join(cands) or 'none yet'}; "
                     f"returned `{((end or {}).get('candidate') or '?')[:8]}`; {verdict}")
    final = run / "self_improvement.json"
    if final.exists():
        data = json.loads(final.read_text())
        if data.get("final"):
            lines.append(f"- final I_T vs I_0 on fresh paired test runs: {json.dumps(data['final'])[:300]}")
        else:
            lines.append("- final comparison: none (I_T is I_0)")
    evals = [e for e in log if e["kind"] == "evaluation"]
    statuses = Counter(i["status"] for e in evals for i in e["instances"])
    missing = sum(1 for e in evals if any("ModuleNotFoundError" in (i.get("diagnostics") or "") for i in e["instances"]))
    lines.append(f"- downstream programs: {len(evals)} evaluations, instance statuses "
                 f"{dict(statuses.most_common())}; {missing} of {len(evals)} programs import a module the sandbox lacks")
    usage = [json.loads(line) for line in (run / "usage.jsonl").read_text().splitlines() if line.strip()] \
        if (run / "usage.jsonl").exists() else []
    span = (log[-1]["ts"] - log[0]["ts"]) / 60 if log else 0.0
    lines.append(f"- {len(runs)} improver runs, {len(usage)} LM calls "
                 f"({sum(u['prompt_tokens'] for u in usage):,} prompt + {sum(u['completion_tokens'] for u in usage):,} "
                 f"completion tokens), {span:.0f} min from first to last event")
    return "\n".join(lines) + "\n"


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else DATA / "runs"
    for config in sorted(root.glob("*-self-improve/config.json")):
        seed = json.loads(config.read_text())["settings"]["run"].get("sample_seed", "")
        if seed.startswith(("multi-", "lpn-")):
            print(summarize(config.parent))


if __name__ == "__main__":
    main()
