"""Language-model replicas: what splitting one machine's cores between engines costs or gains, the
per-replica throughput and per-call overhead that calibrate the cluster model, and the model.

Run:  python bench/replicas.py [--rounds 2] [--max-tokens 128] [--no-write] [--note TEXT]

Live, on this machine, interleaved round by round (prebuilt engine, the embedded model, cache off):
  1 replica   one engine with 2 threads and 6 slots, the client's only endpoint
  2 replicas  two engines with 1 thread and 3 slots each, behind one client (the endpoint pool
              of --endpoint / --lm-replicas: least outstanding requests first)
Each round sends 2 concurrent requests of 3 samples on the seed improver's real fibonacci prompt
(bench/lm_throughput.py's workload), so both settings decode 6 streams at a time. Per setting:
wall time, combined completion tok/s (prompt evaluation included: each request brings
its ~1.5k-token prompt), and which endpoint answered. The per-call overhead is the
median latency of 5 one-token requests.

The model: one STOP iteration on N two-core nodes, each running one replica with one thread
(--lm-replicas per-node gives an engine half a node's CPUs) at the measured per-replica tok/s,
the driver's client spreading the calls. Writes the "Scaling: language-model replicas" section
of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import threading
import time
from contextlib import ExitStack

from report import write_section
from selftaught.lm import LMConfig, open_language_model
from selftaught.lm.budget import Budget
from selftaught.lm.cache import CacheMode
from selftaught.lm.local.embedded import ensure_model
from selftaught.lm.local.server import LlamaServer, ServerConfig

TOKENS_PER_SAMPLE = 487  # experiment 1's recorded small-preset runs (as bench/scaling.py)
UNIT_SANDBOX_S = 0.6  # sandbox work per improver run (bench/scaling.py, serial û / n_tests)
PRESETS = {  # (meta samples, units, LM calls per unit, samples per call)
    "small": (3, 3 * 2, 1, 3),  # meta_budget 3 candidates x n_tests 2; the seed's one call of 3
    "paper": (6, 6 * 5, 1, 6),  # 6 candidates x n_tests 5; one call of 6 (up to 4 with the whole budget)
}
NODES = (1, 2, 4, 10, 30)


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def start(threads: int, slots: int) -> LlamaServer:
    return LlamaServer(ServerConfig(model_path=ensure_model(), slots=slots, threads=threads)).start()


def one_round(lm, message: tuple[str, str], requests: int, samples: int) -> tuple[float, int]:
    before = lm.usage.completion_tokens
    errors: list[BaseException] = []

    def ask(i: int) -> None:
        try:
            lm.with_fresh_budget(stream=f"replicas-{time.time_ns()}-{i}").prompt(message[0], message[1], samples)
        except BaseException as exc:  # reported below: a failed round is no measurement
            errors.append(exc)

    started = time.perf_counter()
    workers = [threading.Thread(target=ask, args=(i,)) for i in range(requests)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started, lm.usage.completion_tokens - before


def overhead(lm, n: int = 5) -> float:
    times = []
    for i in range(n):
        started = time.perf_counter()
        lm.with_fresh_budget(stream=f"ping-{time.time_ns()}-{i}").prompt("You answer briefly.", "Say OK.", 1)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def model(tok_s_per_replica: float, stream_tok_s: float, call_overhead_s: float) -> list[str]:
    """Wall time of one iteration: the meta call, then the units in waves of one per node (its
    other CPU is its engine's), each wave one call's latency + its sandbox work, unless all the
    tokens over all replicas take longer (the LM-bound time)."""
    rows = []
    for preset, (meta_samples, units, calls, samples) in PRESETS.items():
        tokens = (meta_samples + units * calls * samples) * TOKENS_PER_SAMPLE
        call_s = call_overhead_s + TOKENS_PER_SAMPLE / stream_tok_s  # a call's samples decode side by side
        for nodes in NODES:
            lm_bound = tokens / (nodes * tok_s_per_replica)
            waves = math.ceil(units / nodes)
            unit_bound = waves * (calls * call_s + UNIT_SANDBOX_S)
            total = call_s + max(lm_bound, unit_bound)
            rows.append(f"| {preset} | {nodes} | {units} | {waves} | {lm_bound / 60:.1f} | {unit_bound / 60:.1f} | "
                        f"{total / 60:.1f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=128, help="per sample; short keeps the rounds affordable")
    parser.add_argument("--note", default="", help="what else ran on the machine meanwhile")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()
    from lm_throughput import workload

    message = workload()["fibonacci"]
    load_before = os.getloadavg()
    results: dict[str, list[tuple[float, int]]] = {"1 replica": [], "2 replicas": []}
    answered: dict[str, dict[str, int]] = {}
    pings: dict[str, float] = {}
    with ExitStack() as stack:
        one = stack.enter_context(start(threads=2, slots=6))
        pair = [stack.enter_context(start(threads=1, slots=3)) for _ in range(2)]
        clients = {}
        os.environ["SELFTAUGHT_BENCH_KEY"] = "none"  # the local engines here ask for no key
        for name, servers in (("1 replica", [one]), ("2 replicas", pair)):
            config = LMConfig(backend="openai", endpoints=tuple(s.base_url for s in servers), model="local",
                              max_tokens=args.max_tokens, cache=CacheMode.OFF, temperature=0.7,
                              api_key_env="SELFTAUGHT_BENCH_KEY")
            clients[name] = stack.enter_context(open_language_model(config, Budget(1000, 6)))
        for name, lm in clients.items():
            pings[name] = overhead(lm)
        for r in range(args.rounds):
            for name, lm in (clients.items() if r % 2 == 0 else reversed(list(clients.items()))):
                wall, tokens = one_round(lm, message, requests=2, samples=3)
                results[name].append((wall, tokens))
                print(f"round {r} {name}: {wall:.1f} s, {tokens} tokens, {tokens / wall:.1f} tok/s", flush=True)
        for name, lm in clients.items():
            answered[name] = dict(getattr(lm.backend, "answered", {}))
    load_after = os.getloadavg()
    tok_s = {name: sum(t for _, t in rs) / sum(w for w, _ in rs) for name, rs in results.items()}
    per_replica = tok_s["2 replicas"] / 2
    stream = per_replica / 3  # 3 streams per replica in the live rounds
    rows = [f"| {name} | {', '.join(f'{w:.1f}' for w, _ in rs)} | {sum(t for _, t in rs)} | {tok_s[name]:.2f} | "
            f"{1000 * pings[name]:.0f} | {', '.join(f'{n}' for n in sorted(answered[name].values(), reverse=True))} |"
            for name, rs in results.items()]
    body = "\n".join([
        f"- machine: {os.cpu_count()} cores ({cpu_name()}), Linux {platform.release()}",
        f"- command: `python bench/replicas.py --rounds {args.rounds} --max-tokens {args.max_tokens}`",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- load average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in load_before)}; after: "
        f"{', '.join(f'{x:.2f}' for x in load_after)}.{' ' + args.note if args.note else ''}",
        "",
        "Each round: 2 concurrent requests of 3 samples (the seed improver's fibonacci prompt, max_tokens "
        f"{args.max_tokens}), so 6 streams decode at once in both settings; rounds interleaved.",
        "",
        "| setting | wall s per round | completion tokens | combined tok/s | one-token call ms | requests per endpoint |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"2 replicas / 1 replica, combined tok/s: **{tok_s['2 replicas'] / tok_s['1 replica']:.2f}**. Per replica "
        f"(one thread, 3 slots): {per_replica:.2f} tok/s, {stream:.2f} tok/s per stream.",
        "",
        "### Model: one iteration on N two-core nodes, one replica per node",
        "",
        f"Each node runs one replica at the measured {per_replica:.2f} tok/s ({stream:.2f} per stream) and one "
        f"unit at a time ({UNIT_SANDBOX_S} s of sandbox work each); a call costs the measured one-token "
        f"latency ({1000 * pings['2 replicas']:.0f} ms) plus {TOKENS_PER_SAMPLE} tokens per sample at the "
        "per-stream speed, its samples side by side. Iteration = the meta call + the larger of the LM-bound "
        "time (all tokens / all replicas) and the unit-bound time (waves of one unit per node). Small preset: "
        "3 candidates x 2 runs, one call of 3 samples each; paper preset: 6 candidates x 5 runs, one call "
        "of 6 samples each (improvers that use the paper's whole budget, 4 calls, multiply the LM terms "
        "by up to 4). Minutes:",
        "",
        "| preset | nodes | units | waves | LM-bound | unit-bound | iteration |",
        "|---|---|---|---|---|---|---|",
        *model(per_replica, stream, pings["2 replicas"]),
        "",
        "With replicas the LM-bound time falls as 1/N, so the iteration time falls with every node until "
        "the units run out: at N = units (6 in the small preset, 30 in the paper's) each unit has a node "
        "and the iteration costs the meta call plus one unit's call, and more nodes add nothing. What "
        "would lift that limit: more independent work per iteration (racing the candidates' û runs "
        "concurrently with the next iteration's proposals, or more candidates per iteration), and "
        "across iterations, the transfer table's independent cells, which already spread.",
    ])
    print(body)
    if not args.no_write:
        write_section("replicas", "Scaling: language-model replicas", body)


if __name__ == "__main__":
    main()
