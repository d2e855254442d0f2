"""Scale-out: one û evaluation on 1 and 2 local workers and on Ray, and a model of clusters.

Run:  PYTHONPATH=src python bench/scaling.py [--rounds 3] [--n-tests 4] [--no-ray] [--live] [--no-write]

Job: û of the seed improver on parity, n_tests improver runs with the small preset's budgets (one
LM call of 3 responses, utility budget 6), programs and improvers really sandboxed. The LM is a
scripted model (tests/executors/jobs.py: five parity programs) recorded once into a response
cache and replayed in every timed run, so what is measured is the sandbox and the
orchestration. Every timed run is a new run directory with a new score memo: nothing is
journalled or memoized from the round before. Settings, interleaved round by round after one
warm-up round (Ray's worker processes and their sandbox pools start in it):
  serial  --workers 1
  local2  --workers 2 (threads; one sandbox pool with 3 improver and 2 program slots)
  ray2    --executor ray on a one-machine Ray with 2 CPUs (2 worker processes, each with its
          own pools of 1 improver and 2 program slots); includes starting the run's mailbox
          actor, which a run does once (measured apart)
`--live` also times serial against local2 with the embedded model (no cache, max_tokens 128, a
llama-server with 6 slots), so the server batches the two workers' requests.

Writes the "Scaling" section of BENCHMARKS.md, with a model of a paper-preset iteration on 10 and
100 nodes from the measured numbers and the stated assumptions.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.executors.jobs: the job

from report import write_section  # noqa: E402
from selftaught.executors import LocalExecutor, SerialExecutor  # noqa: E402
from selftaught.work import open_pools  # noqa: E402
from selftaught.lm.backends.replay import ReplayBackend  # noqa: E402
from selftaught.lm.cache import CacheMode  # noqa: E402
from selftaught.meta import MetaUtility  # noqa: E402
from selftaught.tasks.loader import load_task  # noqa: E402
from tests.executors.jobs import SEED, SETTINGS, ScriptedModel, session  # noqa: E402

# From BENCHMARKS.md "Language-model throughput on the improver workload" (embedded model, one
# request of 6 improver samples, this machine) and the recorded small-preset run of experiment 1
# (487 completion tokens per sample).
EMBEDDED_TOK_S = 14.3
TOKENS_PER_SAMPLE = 487


def one_score(root: Path, pools, executor, backend, cache: Path, mode: CacheMode, settings) -> float:
    job = session(root, pools, executor, backend, cache, mode, settings)
    started = time.perf_counter()
    score = MetaUtility(job, [load_task("parity")]).score(SEED)
    elapsed = time.perf_counter() - started
    assert all(r["status"] == "ok" for r in score.runs), [r["status"] for r in score.runs]
    return elapsed


def _round_trips(mailbox, n: int) -> float:
    from selftaught.executors.ray_cluster import _Driver

    driver, times = _Driver(mailbox), []
    for _ in range(n):
        started = time.perf_counter()
        driver("journal_get", "evaluation", "none")
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def replayed(args, tmp: Path) -> dict[str, list[float]]:
    settings = dataclasses.replace(SETTINGS, n_tests=args.n_tests, lm_responses=3, utility_budget=6)
    cache = tmp / "cache.sqlite"
    times: dict[str, list[float]] = {}
    with open_pools(improver_slots=3, program_slots=2) as pools:
        one_score(tmp / "record", pools, SerialExecutor(), ScriptedModel(), cache, CacheMode.READWRITE, settings)
        executors = {"serial": SerialExecutor(), "local2": LocalExecutor(2)}
        if not args.no_ray:
            import ray

            from selftaught.executors.ray_cluster import Desk, RayExecutor

            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
            executors["ray2"] = RayExecutor()
            started = time.perf_counter()
            desk = Desk(session(tmp / "desk", pools, SerialExecutor(), ReplayBackend("scripted"), cache,
                                CacheMode.REPLAY, settings))
            ray.get(desk.mailbox.take.remote(0.0))
            times["mailbox start"] = [time.perf_counter() - started]
            trips = ray.remote(num_cpus=1)(_round_trips)
            times["call into the driver"] = [ray.get(trips.remote(desk.mailbox, 50))]
            desk.close()
        try:
            for r in range(args.rounds + 1):
                for name, executor in executors.items():
                    elapsed = one_score(tmp / f"{name}-{r}", pools, executor, ReplayBackend("scripted"), cache,
                                        CacheMode.REPLAY, settings)
                    times.setdefault(name if r else f"{name} (warm-up)", []).append(elapsed)
                    print(f"round {r} {name}: {elapsed:.2f} s", flush=True)
        finally:
            for executor in executors.values():
                executor.close()
            if not args.no_ray:
                ray.shutdown()
    return times


def live(args, tmp: Path) -> tuple[dict[str, list[float]], float]:
    """Serial against local2 with the embedded model; also the combined completion tok/s
    measured meanwhile (what the cluster model below uses for the embedded endpoint)."""
    from selftaught.lm import LMConfig, open_language_model
    from selftaught.lm.budget import Budget
    from selftaught.runs.rundir import RunDir
    from selftaught.session import Session
    from selftaught.utility import ScoreMemo

    # max_tokens lives in the LM config: short samples keep the rounds affordable on 2 cores.
    settings = dataclasses.replace(SETTINGS, n_tests=2, lm_responses=3, utility_budget=3)
    config = LMConfig(backend="local", max_tokens=128, cache=CacheMode.OFF)
    times: dict[str, list[float]] = {}
    with open_pools(improver_slots=3, program_slots=2) as pools, open_language_model(config, Budget(100, 6)) as lm:
        for r in range(args.rounds):
            for name, executor in (("serial, live LM", SerialExecutor()), ("local2, live LM", LocalExecutor(2))):
                run = RunDir.create(tmp / f"live-{name[:6]}-{r}", "self-improve", {})
                job = Session(run, settings, pools, lm.with_fresh_budget(stream=f"live-{r}-{name}"),
                              ScoreMemo(run.journal, run.instance_secret), executor)
                started = time.perf_counter()
                MetaUtility(job, [load_task("parity")]).score(SEED)
                times.setdefault(name, []).append(time.perf_counter() - started)
                executor.close()
                print(f"round {r} {name}: {times[name][-1]:.2f} s", flush=True)
        tok_s = lm.usage.completion_tokens / sum(sum(v) for v in times.values())
    return times, tok_s


def model(unit_s: float, embedded_tok_s: float, endpoint_tok_s: float, cpus_per_node: int = 2) -> list[str]:
    """Wall time of one paper-preset iteration: the improver-of-improvers' LM call (6 samples),
    then û of its 6 candidates, 5 runs each (30 units), each unit one LM call of 6 samples
    (the seed improver's shape) and unit_s of sandbox work."""
    units, samples_per_unit, meta_samples = 6 * 5, 6, 6
    lm_tokens = (units * samples_per_unit + meta_samples) * TOKENS_PER_SAMPLE
    rows = []
    for label, tok_s, stream_tok_s in (("embedded model on the head node (2 cores)", embedded_tok_s, embedded_tok_s / 6),
                                       ("an endpoint serving 2,000 tok/s, 50 tok/s per stream (assumed)",
                                        endpoint_tok_s, 50.0)):
        latency = TOKENS_PER_SAMPLE / stream_tok_s  # one call's samples decode side by side
        for nodes in (1, 10, 100):
            waves = math.ceil(units / (nodes * cpus_per_node))
            compute = waves * (latency + unit_s)
            lm_bound = lm_tokens / tok_s
            total = latency + max(compute, lm_bound)
            rows.append(f"| {label} | {nodes} | {waves} | {lm_bound / 60:.1f} | {compute / 60:.1f} | "
                        f"{total / 60:.1f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n-tests", type=int, default=4, help="improver runs in the û evaluation")
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--live", action="store_true", help="also time the live embedded model")
    parser.add_argument("--endpoint-tok-s", type=float, default=2000.0, help="assumed endpoint throughput")
    parser.add_argument("--embedded-tok-s", type=float, default=EMBEDDED_TOK_S,
                        help="the embedded model's combined tok/s over 6 slots on improver prompts, for the model "
                             f"[default: {EMBEDDED_TOK_S}, measured by lm_throughput.py]")
    parser.add_argument("--note", default="", help="what else ran on the machine meanwhile, for the table's header")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()
    load_before = os.getloadavg()
    live_tok_s = None
    with tempfile.TemporaryDirectory(prefix="scaling-") as tmp:
        times = replayed(args, Path(tmp))
        if args.live:
            live_times, live_tok_s = live(args, Path(tmp))
            times.update(live_times)
    load_after = os.getloadavg()
    med = {name: statistics.median(values) for name, values in times.items()}
    one_offs = ("mailbox start", "call into the driver")
    rows = [f"| {name} | {med[name]:.2f} | {', '.join(f'{v:.2f}' for v in values)} |"
            for name, values in times.items() if name not in one_offs]
    ratios = [f"| local2 / serial | {med['local2'] / med['serial']:.2f} |"]
    if "ray2" in med:
        ratios.append(f"| ray2 / local2 | {med['ray2'] / med['local2']:.2f} |")
        ratios.append(f"| ray2 - mailbox start (once per run) / local2 | "
                      f"{(med['ray2'] - med['mailbox start']) / med['local2']:.2f} |")
    if "local2, live LM" in med:
        ratios.append(f"| local2 / serial, live LM | {med['local2, live LM'] / med['serial, live LM']:.2f} |")
    unit_s = med["serial"] / args.n_tests
    body = "\n".join([
        f"Load average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in load_before)}; after: "
        f"{', '.join(f'{x:.2f}' for x in load_after)}.{' ' + args.note if args.note else ''}",
        "",
        f"One û evaluation: the seed improver on parity, n_tests = {args.n_tests}, one LM call of 3 responses "
        "and utility budget 6 per run, the LM replayed from a recorded cache (sandbox and orchestration "
        f"only), {args.rounds} interleaved rounds after a warm-up round; seconds.",
        "",
        "| setting | median s | all rounds |",
        "|---|---|---|",
        *rows,
        "",
        "| ratio | measured |",
        "|---|---|",
        *ratios,
        "",
        *(["With the LM replayed the work is sandboxed CPU work, and 2 workers on 2 cores gain little: "
           "their gain is overlapping LM waits, which `--live` measures (not run for this section)."]
          if "local2, live LM" not in med else
          [f"Live LM rows: the embedded model (llama-server, 6 slots, max_tokens 128, no cache), n_tests = 2, "
           f"one LM call of 3 responses and utility budget 3 per run; {args.rounds} interleaved rounds; "
           f"{live_tok_s:.1f} completion tok/s over all live rounds, sandbox time included."]),
        "",
        *([f"Ray: starting the run's mailbox actor (once per run) took {med['mailbox start']:.2f} s; one call "
           f"from a unit into the driver (journal lookup, LM call, ...) {1000 * med['call into the driver']:.1f} ms "
           "median of 50; a unit makes 4 such calls, plus one per LM call and one or two per program evaluation.", ""] if "ray2" in med else []),
        "### Model: one paper-preset iteration on a cluster",
        "",
        "Paper preset, seed-improver-shaped runs: the improver-of-improvers makes one LM call of 6 samples; "
        "each of its 6 candidates gets û = 5 improver runs on one task (30 independent units), each one "
        f"LM call of 6 samples plus {unit_s:.1f} s of sandbox work (measured above: serial û / n_tests, "
        f"on this machine); {TOKENS_PER_SAMPLE} completion tokens per sample (the recorded small-preset run "
        "of experiment 1); 2 CPUs per node, one unit per CPU. Wall time = the meta call's latency + the larger "
        "of (units in waves of nodes x 2, each wave one call's latency + the sandbox work) and (all "
        f"tokens / the endpoint's throughput). Embedded model: {args.embedded_tok_s} tok/s combined over 6 slots "
        "on improver prompts (Language-model throughput on the improver workload, above). The hosted endpoint's numbers are assumptions, not "
        "measurements. Improvers that use the paper's whole LM budget (4 calls of 6) multiply the LM "
        "terms by up to 4.",
        "",
        "| LM endpoint | nodes | waves | LM-bound min | unit-bound min | iteration min |",
        "|---|---|---|---|---|---|",
        *model(unit_s, args.embedded_tok_s, args.endpoint_tok_s),
        "",
        "An iteration has only 30 independent units, so more than 15 two-CPU nodes idle within it; with "
        "the embedded model on one machine the LM bounds every cluster size. A cluster pays off with an "
        "endpoint that scales (vLLM, a hosted API) and with the paper's larger budgets, and across "
        "iterations and transfer tables, whose cells are independent.",
    ])
    print(body)
    if not args.no_write:
        write_section("scaling", "Scaling: local workers and Ray", body)


if __name__ == "__main__":
    main()
