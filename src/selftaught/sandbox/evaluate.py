"""`selftaught evaluate TASK --program FILE`: score one program on one task, sandboxed."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from selftaught.errors import ConfigError
from selftaught.sandbox.config import SandboxConfig
from selftaught.sandbox.host import SandboxPool


def builtin_task(task_name: str) -> Any:
    """The built-in tasks (only parity for now; the task format belongs to the STOP issue)."""
    if task_name in ("parity", "parity_without_noise"):
        from selftaught.tasks.parity import ParityTask

        return ParityTask()
    raise ConfigError(f"unknown task {task_name!r}", "use one of: parity")


def evaluate_task(task_name: str, program_text: str | bytes, split: str = "val",
                  unsafe: bool = False, slots: int = 2, pool: SandboxPool | None = None) -> dict:
    """Score a program on every instance of a split; a JSON-ready dict.

    Keys: task, split, score (mean per-instance accuracy), n_instances, unsafe, and
    instances: one {index, seed, status, score, wall_time_s, diagnostics} per instance.
    Hidden labels never leave this process; the program only sees the inputs.
    """
    task = builtin_task(task_name)
    if split not in [name for name, _, _ in task.splits]:
        raise ConfigError(f"unknown split {split!r} for task {task_name!r}", "use --split val or test")
    instances = task.instances(split)
    if pool is None:
        with SandboxPool(SandboxConfig(slots=slots, unsafe=unsafe)) as own_pool:
            return evaluate_task(task_name, program_text, split, unsafe, slots, own_pool)

    def run_one(index: int) -> dict:
        instance = instances[index]
        outcome = pool.call(program_text, task.entry_point, task.arguments(instance),
                            time_limit_s=task.time_limit_s, memory_limit_mb=task.memory_limit_mb)
        score, diagnostics = 0.0, outcome.diagnostics
        if outcome.ok:
            problem = task.output_problem(outcome.value)
            score = task.score(outcome.value, instance) if problem is None else 0.0
            diagnostics = problem or ""
        return {"index": index, "seed": instance.seed, "status": outcome.status, "score": score,
                "wall_time_s": round(outcome.wall_time_s, 6), "diagnostics": diagnostics[:2000],
                "static_flags": list(outcome.telemetry.static_flags),
                "blocked": outcome.telemetry.blocked}

    with ThreadPoolExecutor(max_workers=pool.config.slots) as executor:
        results = list(executor.map(run_one, range(len(instances))))
    return {
        "task": task.name,
        "split": split,
        "score": sum(r["score"] for r in results) / len(results),
        "n_instances": len(results),
        "unsafe": pool.config.unsafe,
        "instances": results,
    }


def render_text(report: dict) -> str:
    """A short human summary of evaluate_task's report (the CLI without --json)."""
    statuses = Counter(item["status"] for item in report["instances"])
    lines = [f"{report['task']} ({report['split']}): score {report['score']:.3f} "
             f"over {report['n_instances']} instances",
             "outcomes: " + ", ".join(f"{name} {count}" for name, count in sorted(statuses.items()))]
    failed = [item for item in report["instances"] if item["status"] != "ok" or item["diagnostics"]]
    if failed:
        first = failed[0]
        lines.append(f"first problem (instance {first['index']}, {first['status']}): "
                     f"{first['diagnostics'].splitlines()[0] if first['diagnostics'] else ''}")
    if report.get("unsafe"):
        lines.append("WARNING: evaluated WITHOUT a sandbox (--unsafe-no-sandbox)")
    return "\n".join(lines)
