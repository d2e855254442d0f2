"""Throughput of the language-model layer on the embedded model, in one run.

Three ways of asking for completions, interleaved round by round so machine drift hits
all of them alike:
  single  one request through the layer (`prompt`, n=1)
  layer6  a `batch_prompt` of 6 through the layer (budget, cache, accounting, threads)
  direct6 the same 6 requests sent straight to llama-server with httpx
Reported: combined completion tokens/s (median over rounds) and two ratios measured here,
layer6/single (target >= 1.4) and the layer's cost against direct6 (target < 3%).
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from report import write_section
from selftaught.lm.backends.local import LocalBackend
from selftaught.lm.budget import Budget
from selftaught.lm.cache import CacheMode, ResponseCache
from selftaught.lm.client import LanguageModelClient
from selftaught.lm.local.embedded import QWEN_CODER_1_5B, ensure_model
from selftaught.lm.local.server import ServerConfig
from selftaught.lm.usage import UsageLog

EXPERTISE = "You are an expert Python programmer."
MESSAGE = ("Write a long, complete Python module implementing a priority queue, a trie and an "
           "LRU cache, each with docstrings and doctests.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()

    backend = LocalBackend(ServerConfig(model_path=ensure_model(), slots=6, ctx_per_slot=1024,
                                        alias=QWEN_CODER_1_5B.name))
    client = LanguageModelClient(backend, ResponseCache(None, CacheMode.OFF), UsageLog(None),
                                 Budget(max_calls=10**6, max_responses_per_call=6), args.max_tokens)
    url = backend.base_url + "/chat/completions"
    body = {"model": QWEN_CODER_1_5B.name, "temperature": 0.7, "max_tokens": args.max_tokens, "top_p": 1.0,
            "messages": [{"role": "system", "content": EXPERTISE}, {"role": "user", "content": MESSAGE}]}
    http = httpx.Client(timeout=600)
    pool = ThreadPoolExecutor(6)

    def layer(n: int) -> tuple[int, float]:
        started = time.perf_counter()
        result = client.call("batch_prompt", EXPERTISE, [MESSAGE] * n, 0.7)
        return sum(c.completion_tokens for c in result.completions), time.perf_counter() - started

    def direct(n: int) -> tuple[int, float]:
        started = time.perf_counter()
        replies = list(pool.map(lambda _: http.post(url, json=body).json(), range(n)))
        return sum(r["usage"]["completion_tokens"] for r in replies), time.perf_counter() - started

    try:
        layer(6)  # warm-up: first requests pay for allocations
        rates: dict[str, list[float]] = {"single": [], "layer6": [], "direct6": []}
        for r in range(args.rounds):
            for name, fn, n in (("single", layer, 1), ("layer6", layer, 6), ("direct6", direct, 6)):
                tokens, wall = fn(n)
                rates[name].append(tokens / wall)
                print(f"round {r + 1}/{args.rounds} {name:8s} {tokens:4d} tokens in {wall:6.2f} s "
                      f"= {tokens / wall:5.1f} tok/s", flush=True)
    finally:
        client.close()
        backend.close()

    med = {k: statistics.median(v) for k, v in rates.items()}
    speedup = med["layer6"] / med["single"]
    cost = 1 - med["layer6"] / med["direct6"]
    table = "\n".join([
        f"Embedded {QWEN_CODER_1_5B.name}, llama-server with 6 slots, max_tokens={args.max_tokens}, "
        f"temperature 0.7, {args.rounds} interleaved rounds (median).",
        "",
        "| path | combined completion tok/s (median) | all rounds |",
        "|---|---|---|",
        *(f"| {k} | {med[k]:.1f} | {', '.join(f'{x:.1f}' for x in rates[k])} |" for k in rates),
        "",
        "| ratio | measured | target |",
        "|---|---|---|",
        f"| batch of 6 / single stream | {speedup:.2f}x | >= 1.4x |",
        f"| layer cost vs direct requests | {cost * 100:+.1f}% | < 3% |",
    ])
    print(table)
    if not args.no_write:
        write_section("lm_throughput", "Language-model layer throughput", table)


if __name__ == "__main__":
    main()
