"""Language-model throughput on the real workload: the prompts STOP's improvers send.

Workload (the exact messages, taken by running the seed improver against recording stand-ins):
  fibonacci  the seed improver's message for the fibonacci task
  lpn        the seed improver's message for the lpn task
  meta       the improver-of-improvers' message: the seed improver on its own source, with the
             meta-utility's description (small preset, task lpn)
each sent as a `batch_prompt` of 3 and of 6 identical messages at temperature 0.7 and the small
preset's max_tokens (768). Settings, each its own llama-server (6 slots), interleaved round by
round so machine drift hits all alike:
  today           n separate requests, no speculation (the path before issue 7)
  serial          one slot: the n samples decoded one after another (is batching worth it on
                  2 cores at these context lengths?)
  n               one request with n, no speculation
  n+ngram-simple  one request with n, n-gram drafts (llama.cpp ngram-simple)
  n+ngram-mod, n+ngram-map-k   other n-gram drafters
  n+draft         one request with n, the 0.5B draft model (selftaught[draft])
Per call: wall time, combined completion tok/s, the server's CPU time per completion token (its
work, which other load on the machine inflates far less than wall time), prompt tokens evaluated
and draft acceptance. Each
call's system message starts with a unique tag, so no call reuses a prompt cached by another.
`--greedy` also checks that every setting gives the same text as `n` at temperature 0, and
`--score` scores every fibonacci sample (the share that passes, per setting), and
`--e2e K` times `selftaught improve fibonacci` (small preset) K times each, today's path against
the new default, interleaved (medians; the samples differ, so compare medians, not single runs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tempfile
import types
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from report import write_section
from selftaught.lm.backends.local import LocalBackend
from selftaught.lm.backends.separate import complete_separately
from selftaught.lm.budget import Budget
from selftaught.lm.cache import CacheMode, ResponseCache
from selftaught.lm.client import LanguageModelClient
from selftaught.lm.local import speculative
from selftaught.lm.local.embedded import QWEN_CODER_0_5B_DRAFT, QWEN_CODER_1_5B, ensure_model
from selftaught.lm.local.server import ServerConfig
from selftaught.lm.protocol import Sampling
from selftaught.lm.usage import UsageLog

MAX_TOKENS = 768  # the small preset's; --max-tokens lowers it for a short check
SETTINGS = ("today", "serial", "n", "n+ngram-simple", "n+ngram-mod", "n+ngram-map-k", "n+draft")
QUICK_SETTINGS = ("today", "n", "n+ngram-simple", "n+ngram-mod", "n+draft")


# The workload ------------------------------------------------------------------------------

class _Recorded(Exception):
    pass


def improver_message(improver: str, initial_solution: str, utility_str: str, utility_budget: int) -> tuple[str, str]:
    """(expertise, message) of the improver's first batch_prompt, by running it in this process
    against stand-ins that record the call. Only for our own, trusted seed improver."""
    from selftaught.improvers import helpers_modules

    saved = dict(sys.modules)
    for name, source in helpers_modules():  # what the sandbox makes importable, in its order
        module = types.ModuleType(name)
        sys.modules[name] = module
        exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    seen: list[tuple[str, str]] = []

    class LanguageModel:
        max_responses_per_call, budget = 3, 2

        def batch_prompt(self, expertise, messages, temperature=None):
            seen.append((expertise, messages[0]))
            raise _Recorded

    class Utility:
        str, budget = utility_str, utility_budget

    try:
        namespace: dict = {}
        exec(compile(improver, "<improver>", "exec"), namespace)
        namespace["improve_algorithm"](initial_solution, Utility(), LanguageModel())
    except _Recorded:
        pass
    finally:
        sys.modules.clear()
        sys.modules.update(saved)
    return seen[0]


def workload() -> dict[str, tuple[str, str]]:
    from selftaught.improvers import seed_improver
    from selftaught.meta import MetaUtility
    from selftaught.settings import PRESETS
    from selftaught.tasks.loader import load_task

    small = PRESETS["small"]
    prompts = {}
    for name in ("fibonacci", "lpn"):
        task = load_task(name)
        prompts[name] = improver_message(seed_improver(), task.seed_program, task.utility_text, small.utility_budget)
    meta = MetaUtility(None, [load_task("lpn")], small)  # only its description
    prompts["meta"] = improver_message(seed_improver(), seed_improver(), meta.description, small.meta_budget)
    return prompts


# The settings ------------------------------------------------------------------------------

class SeparateRequests:
    """Today's path: a backend without complete_n, so the client sends n separate requests."""

    def __init__(self, backend: LocalBackend) -> None:
        self.backend, self.name, self.model = backend, backend.name, backend.model

    def complete(self, messages, sampling):
        return self.backend.complete(messages, sampling)

    def close(self) -> None:
        pass


def server_config(setting: str) -> ServerConfig:
    base = ServerConfig(model_path=ensure_model(), slots=6, ctx_per_slot=4096, alias=QWEN_CODER_1_5B.name,
                        speculative="none")
    if setting in ("today", "n"):
        return base
    if setting == "serial":
        return replace(base, slots=1)
    if setting == "n+ngram-simple":
        return replace(base, speculative="ngram")
    if setting == "n+draft":
        return replace(base, speculative="draft", draft_model_path=ensure_model(QWEN_CODER_0_5B_DRAFT))
    return replace(base, extra_args=("--spec-type", setting.removeprefix("n+")))


@dataclass(frozen=True)
class Call:
    setting: str
    prompt: str
    n: int
    wall_s: float
    completion_tokens: int
    prompt_evaluated: int
    drafted: int
    accepted: int
    texts: tuple[str, ...]
    cpu_s: float  # the server's CPU time: its work, which other load on the machine inflates far less

    @property
    def cpu_per_token_ms(self) -> float:
        return 1000 * self.cpu_s / self.completion_tokens

    @property
    def rate(self) -> float:
        return self.completion_tokens / self.wall_s


class Runner:
    def __init__(self, setting: str, max_tokens: int) -> None:
        self.setting = setting
        self.backend = LocalBackend(server_config(setting))
        lm = SeparateRequests(self.backend) if setting in ("today", "serial") else self.backend
        self.client = LanguageModelClient(lm, ResponseCache(None, CacheMode.OFF), UsageLog(None),
                                          Budget(max_calls=10**6, max_responses_per_call=6), max_tokens)

    def call(self, prompt: str, expertise: str, message: str, n: int, tag: str) -> Call:
        before, cpu_before = self.backend.engine_counts(), self.cpu_s()
        started = time.perf_counter()
        result = self.client.call("batch_prompt", f"[{tag}] {expertise}", [message] * n, 0.7)
        wall = time.perf_counter() - started
        cpu = self.cpu_s() - cpu_before
        spent = self.backend.engine_counts() - before
        tokens = sum(c.completion_tokens for c in result.completions)
        return Call(self.setting, prompt, n, wall, tokens, spent.prompt_evaluated, spent.drafted, spent.accepted,
                    tuple(result.texts), cpu)

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.backend.server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def greedy(self, expertise: str, message: str, max_tokens: int) -> str:
        chat = [{"role": "system", "content": expertise}, {"role": "user", "content": message}]
        return self.backend.complete(chat, Sampling(temperature=0.0, max_tokens=max_tokens)).text

    def close(self) -> None:
        self.client.close()
        self.backend.close()


# Quality: the share of fibonacci samples that pass ------------------------------------------

def pass_rates(calls: list[Call]) -> dict[str, tuple[int, int]]:
    """(passing, all) fibonacci samples per setting: a sample passes if its code scores > 0 on
    val (every test answered correctly in time), scored in the sandbox like any candidate."""
    from selftaught.lm.extract import extract_code
    from selftaught.sandbox import SandboxConfig, SandboxPool
    from selftaught.tasks.loader import load_task
    from selftaught.utility import evaluate

    task, rates = load_task("fibonacci"), {}
    with SandboxPool(SandboxConfig(slots=2)) as pool:
        for call in calls:
            if call.prompt != "fibonacci":
                continue
            for text in call.texts:
                code = extract_code(text)
                ok = code is not None and evaluate(task, code, "val", pool).score > 0
                passed, total = rates.get(call.setting, (0, 0))
                rates[call.setting] = (passed + ok, total + 1)
    return rates


# End to end --------------------------------------------------------------------------------

@contextmanager
def separate_requests() -> Iterator[None]:
    """Today's path inside a whole run: every sample its own request."""
    original = LanguageModelClient._complete_n

    def separately(self, chat, sampling, n):
        return complete_separately(self.backend.complete, chat, sampling, n)

    LanguageModelClient._complete_n = separately  # type: ignore[method-assign]
    try:
        yield
    finally:
        LanguageModelClient._complete_n = original  # type: ignore[method-assign]


def improve_fibonacci(today: bool, runs: Path) -> float:
    """Wall time of one `selftaught improve fibonacci` run (small preset), after start-up."""
    from selftaught.improvers import seed_improver
    from selftaught.lm.config import LMConfig
    from selftaught.runs.rundir import RunDir
    from selftaught.settings import PRESETS
    from selftaught.stop import Config, improve_task, open_session
    from selftaught.tasks.loader import load_task

    settings = replace(PRESETS["small"], sample_seed=os.urandom(4).hex())
    lm = LMConfig(cache=CacheMode.OFF, speculative="none" if today else speculative.DEFAULT)
    run = RunDir.create(runs, "improve", {})
    with (separate_requests() if today else _nothing()), open_session(run, Config(lm, settings)) as session:
        started = time.perf_counter()
        improve_task(session, load_task("fibonacci"), seed_improver())
        return time.perf_counter() - started


@contextmanager
def _nothing() -> Iterator[None]:
    yield


# The run -----------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true",
                        help="a short check: fibonacci and meta as batches of 3 only, settings "
                             + ", ".join(QUICK_SETTINGS) + " (combine with --rounds)")
    parser.add_argument("--settings", help="comma-separated subset of: " + ", ".join(SETTINGS))
    parser.add_argument("--cases", metavar="PROMPT:N,...",
                        help="which batches to send, e.g. fibonacci:6,meta:6 [default: every prompt with n = 3 and 6]")
    parser.add_argument("--max-tokens", type=int, default=MAX_TOKENS, help=f"per sample [default: {MAX_TOKENS}]")
    parser.add_argument("--greedy", type=int, default=0, metavar="TOKENS",
                        help="also compare each setting's temperature-0 output with n's, over this many tokens")
    parser.add_argument("--e2e", type=int, default=0, metavar="K",
                        help="also time `improve fibonacci` K times with today's path and K with the default")
    parser.add_argument("--score", action="store_true",
                        help="also score every fibonacci sample in the sandbox: the share that passes, per setting")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()

    settings = args.settings.split(",") if args.settings else list(QUICK_SETTINGS if args.quick else SETTINGS)
    prompts = workload()
    cases = ([parse_case(c, prompts) for c in args.cases.split(",")] if args.cases else
             [(p, n) for p in (("fibonacci", "meta") if args.quick else prompts)
              for n in ((3,) if args.quick else (3, 6))])
    load_start = os.getloadavg()[0]
    runners = {s: Runner(s, args.max_tokens) for s in settings}
    calls: list[Call] = []
    greedy: dict[str, bool] = {}
    try:
        for r in range(args.rounds):
            for prompt, n in cases:
                for s in settings:
                    expertise, message = prompts[prompt]
                    call = runners[s].call(prompt, expertise, message, n, f"round {r} {s} {prompt} {n}")
                    calls.append(call)
                    print(f"round {r + 1}/{args.rounds} {prompt:9s} n={n} {s:15s} {call.wall_s:6.1f} s "
                          f"{call.completion_tokens:5d} tok {call.rate:5.1f} tok/s prompt {call.prompt_evaluated:5d} "
                          f"drafts {call.accepted}/{call.drafted} cpu {call.cpu_s:6.1f} s", flush=True)
        if args.greedy:
            expertise, message = prompts["fibonacci"]
            texts = {s: runners[s].greedy(expertise, message, args.greedy) for s in settings}
            reference = texts.get("n", texts[settings[0]])
            greedy = {s: texts[s] == reference for s in settings}
    finally:
        for runner in runners.values():
            runner.close()
    e2e: dict[str, list[float]] = {"today": [], "default": []}
    with tempfile.TemporaryDirectory() as runs:
        for k in range(args.e2e):
            for name in e2e:
                e2e[name].append(improve_fibonacci(name == "today", Path(runs)))
                print(f"improve fibonacci {k + 1}/{args.e2e} {name}: {e2e[name][-1]:.1f} s", flush=True)
    load_end = os.getloadavg()[0]
    table = render(calls, settings, cases, args, greedy, load_start, load_end)
    if args.score:
        shares = ", ".join(f"{s} {p}/{t}" for s, (p, t) in pass_rates(calls).items())
        table += f"\n\nFibonacci samples that pass (score > 0 on val), per setting: {shares}."
    if args.e2e:
        today, default = statistics.median(e2e["today"]), statistics.median(e2e["default"])
        table += (f"\n\n`improve fibonacci` (small preset) end to end, median of {args.e2e}: today's path "
                  f"{today:.1f} s, default (one request with n, speculative {speculative.DEFAULT}) "
                  f"{default:.1f} s: {today / default:.2f}x "
                  f"(all: today {', '.join(f'{x:.0f}' for x in e2e['today'])}; "
                  f"default {', '.join(f'{x:.0f}' for x in e2e['default'])}).")
    print(table)
    if not args.no_write:
        write_section("lm_throughput", "Language-model throughput on the improver workload", table)


def parse_case(text: str, prompts: dict) -> tuple[str, int]:
    prompt, _, n = text.partition(":")
    if prompt not in prompts or not n.isdigit() or not 1 <= int(n) <= 6:
        raise SystemExit(f"--cases: {text!r} is not PROMPT:N with PROMPT one of {', '.join(prompts)} and N in 1..6")
    return prompt, int(n)


def render(calls: list[Call], settings: list[str], cases, args, greedy: dict[str, bool],
           load_start: float, load_end: float) -> str:
    def med(values) -> float:
        return statistics.median(values) if values else float("nan")

    lines = [
        f"Embedded {QWEN_CODER_1_5B.name}, llama-server with 6 slots per setting (serial: 1); recorded improver prompts "
        f"as batch_prompt calls, temperature 0.7, max_tokens {args.max_tokens}; {args.rounds} interleaved round(s), "
        f"medians. 1-minute load average {load_start:.2f} at the start, {load_end:.2f} at the end "
        "(the machine's other work slows every row alike, not the ratios' sign).",
        "",
        "| prompt | n | setting | wall s | x today | completion tok/s | server CPU ms per token "
        "| prompt tokens evaluated | drafts accepted |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for prompt, n in cases:
        base = med([c.wall_s for c in calls if (c.prompt, c.n, c.setting) == (prompt, n, "today")])
        for s in settings:
            mine = [c for c in calls if (c.prompt, c.n, c.setting) == (prompt, n, s)]
            wall = med([c.wall_s for c in mine])
            drafted, accepted = sum(c.drafted for c in mine), sum(c.accepted for c in mine)
            acceptance = f"{accepted}/{drafted} ({accepted / drafted:.0%})" if drafted else "-"
            versus = "-" if base != base else f"{base / wall:.2f}x"  # nan: `today` was not run
            lines.append(f"| {prompt} | {n} | {s} | {wall:.1f} | {versus} | "
                         f"{med([c.rate for c in mine]):.1f} | {med([c.cpu_per_token_ms for c in mine]):.0f} | "
                         f"{med([c.prompt_evaluated for c in mine]):.0f} | "
                         f"{acceptance} |")
    lines += ["", "| setting | combined completion tok/s over all calls | wall time over all calls vs today "
              "| server CPU ms per token over all calls |", "|---|---|---|---|"]
    base_wall = sum(c.wall_s for c in calls if c.setting == "today")
    for s in settings:
        mine = [c for c in calls if c.setting == s]
        tokens, wall = sum(c.completion_tokens for c in mine), sum(c.wall_s for c in mine)
        cpu = 1000 * sum(c.cpu_s for c in mine) / tokens
        lines.append(f"| {s} | {tokens / wall:.1f} | {f'{base_wall / wall:.2f}x' if base_wall else '-'} | {cpu:.0f} |")
    if greedy:
        same = ", ".join(f"{s}: {'identical' if ok else 'DIFFERS'}" for s, ok in greedy.items())
        lines += ["", f"Temperature 0, fibonacci prompt, {args.greedy} tokens, compared with `n`: {same}."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
