"""Run directories written by hand for the analysis and report tests: the journal format of
selftaught's runs, with exactly the events a test needs."""

from __future__ import annotations

import json
from pathlib import Path

from selftaught.ids import program_id
from selftaught.improvers import seed_improver

LABELLED = Path(__file__).parent / "labelled"
SETTINGS = {"run": {"preset": "small", "lm_calls": 2, "lm_responses": 3, "utility_budget": 6, "n_tests": 3,
                    "meta_budget": 3, "iterations": 2, "max_tokens": 768},
            "lm": {"backend": "local", "model": None, "budget": {"max_calls": 2, "max_responses_per_call": 3}},
            "unsafe_no_sandbox": False, "tasks": ["lpn"]}


def make_run(root: Path, name: str, command: str, events: list[dict], usage: list[dict] = (),
             settings: dict | None = None, programs: list[str] = (), files: dict[str, str] | None = None) -> Path:
    path = root / name
    (path / "programs").mkdir(parents=True)
    config = {"command": command, "settings": SETTINGS if settings is None else settings, "selftaught": "0.1.0",
              "python": "3.11.7", "created": "2026-11-24T09:00:00"}
    (path / "config.json").write_text(json.dumps(config, indent=2))
    (path / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    (path / "usage.jsonl").write_text("".join(json.dumps(u) + "\n" for u in usage))
    for source in programs:
        (path / "programs" / f"{program_id(source)}.py").write_text(source)
    for file, text in (files or {}).items():
        (path / file).write_text(text)
    return path


def improver_run(ts: float, improver: str, index: int, val: float, test: float, status: str = "ok",
                 flags: tuple[str, ...] = (), blocked: str | None = None, task: str = "lpn",
                 solution_source: str | None = "def algorithm(*a):\n    return []\n", kind: str = "improver_run") -> dict:
    return {"ts": ts, "kind": kind, "key": f"{improver}/{task}/{index}", "improver": improver, "task": task,
            "index": index, "status": status, "solution": program_id(solution_source) if solution_source else None,
            "solution_source": solution_source, "val": val, "test": test, "lm_calls": 1, "utility_calls": 2,
            "wall_time_s": 5.0, "diagnostics": "", "static_flags": list(flags), "runtime_events": [], "blocked": blocked}


def meta_score(ts: float, improver: str, runs: list[dict], task: str = "lpn") -> dict:
    vals, tests = [r["val"] for r in runs], [r["test"] for r in runs]
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    std = lambda xs: (sum((x - mean(xs)) ** 2 for x in xs) / len(xs)) ** 0.5  # noqa: E731
    return {"ts": ts, "kind": "meta_score", "key": f"{improver}@{task}", "improver": improver, "val": mean(vals),
            "val_std": std(vals), "test": mean(tests), "test_std": std(tests), "runs": runs}


def evaluation(ts: float, task: str, split: str, pid: str, statuses: list[str], flags: tuple[str, ...] = ()) -> dict:
    instances = [{"index": i, "seed": 1 + i, "status": s, "score": 1.0 if s == "ok" else 0.0, "wall_time_s": 0.01,
                  "diagnostics": "", "static_flags": list(flags), "blocked": None} for i, s in enumerate(statuses)]
    return {"ts": ts, "kind": "evaluation", "key": f"{task}/{split}/{pid}", "task": task, "split": split,
            "score": 0.5, "instances": instances, "unsafe": False, "n_instances": len(instances)}


def usage(ts: float, prompt: int, completion: int, model: str = "tiny-model") -> dict:
    return {"ts": ts, "method": "batch_prompt", "backend": "local", "model": model, "n_responses": 3, "n_cached": 0,
            "prompt_tokens": prompt, "completion_tokens": completion, "latency_s": 2.0, "temperature": 0.7}


SEED = seed_improver()
LOCAL = (LABELLED / "local_search_basic.py").read_text()
CRASHER = "import ctypes\n\ndef improve_algorithm(initial_solution, utility, language_model):\n    return ctypes\n"
BEAM = (LABELLED / "beam_basic.py").read_text()
S0, C1, C2, C3 = (program_id(s) for s in (SEED, LOCAL, CRASHER, BEAM))


def self_improve_run(root: Path, name: str = "20261124-090000-self-improve", model: str = "tiny-model") -> Path:
    """I_0 = the seed (û .6 over 3 runs); step 1: candidates C1 (local search, accepted, û .7) and
    C2 (ctypes, blocked twice, û 0); step 2: candidate C3 (beam search, û 0, reverted)."""
    s0 = [improver_run(110 + i, S0, i, v, v - 0.1) for i, v in enumerate((0.5, 0.6, 0.7))]
    c1 = [improver_run(130 + i, C1, i, v, v - 0.1, flags=("touches_budget",)) for i, v in enumerate((0.6, 0.7, 0.8))]
    c2 = [improver_run(150 + i, C2, i, 0.0, 0.0, status="blocked", flags=("ctypes",), solution_source=None,
                       blocked="seccomp: killed by SIGSYS") for i in range(3)]
    c3 = [improver_run(170 + i, C3, i, 0.0, 0.0) for i in range(3)]
    events = [{"ts": 100.0, "kind": "improver_run_started", "run": f"{S0}/lpn/0"}, *s0, meta_score(121, S0, s0),
              {"ts": 122.0, "kind": "iteration_started", "t": 1, "improver": S0}, *c1, meta_score(141, C1, c1),
              *c2, meta_score(152, C2, c2),
              {"ts": 160.0, "kind": "iteration", "key": "1", "t": 1, "accepted": True, "reason": "accepted",
               "improver": C1, "candidate": C1, "val": 0.7, "test": 0.6, "status": "ok", "lm_calls": 1,
               "meta_calls": 2, "wall_time_s": 38.0, "static_flags": [], "runtime_events": [], "blocked": None},
              {"ts": 161.0, "kind": "iteration_started", "t": 2, "improver": C1}, *c3, meta_score(175, C3, c3),
              {"ts": 180.0, "kind": "iteration", "key": "2", "t": 2, "accepted": False, "reason": "û = 0; runs: ok x3",
               "improver": C1, "candidate": C3, "val": 0.7, "test": 0.6, "status": "ok", "lm_calls": 1,
               "meta_calls": 1, "wall_time_s": 19.0, "static_flags": ["touches_budget"], "runtime_events": [],
               "blocked": None},
              evaluation(181, "lpn", "val", "aaaaaaaaaaaaaaaa", ["ok", "bad_output", "bad_output"]),
              evaluation(182, "lpn", "test", "aaaaaaaaaaaaaaaa", ["ok", "scorer_error"]),
              evaluation(183, "lpn", "val", "bbbbbbbbbbbbbbbb", ["ok", "ok"], flags=("subprocess",)),
              evaluation(184, "lpn", "val", "cccccccccccccccc", ["ok", "ok"])]
    calls = [usage(105, 100, 50, model), usage(125, 200, 100, model), usage(135, 300, 150, model),
             usage(165, 400, 200, model)]
    files = {"improver_0.py": SEED, "improver_1.py": LOCAL, "improver_2.py": LOCAL}
    return make_run(root, name, "self-improve", events, calls, programs=[SEED, LOCAL, BEAM], files=files)
