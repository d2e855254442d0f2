"""Run settings: a preset, then the [run] table of a TOML config, then flags.

`paper` is the paper's setting (and the paper's acceptance rule). `small` fits a 2-core
laptop with the embedded model: candidates are raced on fresh paired runs (`paired`), so that
sampling noise is not mistaken for progress.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selftaught.acceptance import RULES
from selftaught.errors import ConfigError
from selftaught.executors import EXECUTORS
from selftaught.improve import ImproverLimits
from selftaught.lm.budget import Budget
from selftaught.loop import LoopSettings
from selftaught.meta import MetaSettings
from selftaught.tomlconfig import read_table, typed, unknown_key


@dataclass(frozen=True)
class RunSettings:
    preset: str
    lm_calls: int  # LM calls per improver run
    lm_responses: int  # responses per call
    utility_budget: int  # utility calls per improver run
    n_tests: int  # improver runs per task in one û evaluation
    meta_budget: int  # û calls per improver-of-improvers run
    iterations: int  # T
    improver_time_limit_s: float
    accept: str = "paper"  # paper | incumbent | paired: see selftaught/acceptance
    meta_responses: int = 0  # responses per LM call of the improver-of-improvers; 0: lm_responses
    race_first_runs: int = 2  # paired: fresh runs per task at the race's first look
    race_max_runs: int = 8  # paired: at most this many per task
    final_runs: int = 0  # paired runs per task comparing I_T with I_0 on test at the end
    meta_feedback: bool = False  # û's description says how the current improver's runs went
    workers: int = 1  # improver runs at once (local executor); improver_slots must exceed it
    executor: str = "local"  # local | ray: where improver runs go (selftaught/executors)
    ray_address: str = ""  # ray: the cluster's address (HOST:PORT); "" joins RAY_ADDRESS or starts one here
    improver_slots: int = 2
    program_slots: int = 2
    # Names the run's streams of LM samples in the response cache: a new run gets a fresh one,
    # a resumed run keeps its own, and runs given the same seed replay each other's samples.
    sample_seed: str = ""

    def __post_init__(self) -> None:
        for name in ("lm_calls", "lm_responses", "utility_budget", "n_tests", "meta_budget",
                     "improver_slots", "program_slots"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} = {getattr(self, name)} must be at least 1",
                                  f"set --{name.replace('_', '-')} to 1 or more")
        if self.accept not in RULES:
            raise ConfigError(f"accept = {self.accept!r} is not an acceptance rule", f"use one of: {', '.join(RULES)}")
        if not 1 <= self.race_first_runs <= self.race_max_runs:
            raise ConfigError(f"race_first_runs = {self.race_first_runs} must lie between 1 and race_max_runs = "
                              f"{self.race_max_runs}", "set --race-first-runs and --race-max-runs accordingly")
        if self.meta_responses < 0 or self.final_runs < 0:
            raise ConfigError("meta_responses and final_runs must not be negative", "use 0 or more")
        if self.iterations < 0:
            raise ConfigError(f"iterations = {self.iterations} is negative", "set --iterations to 0 or more")
        if self.improver_time_limit_s <= 0:
            raise ConfigError("improver_time_limit_s must be positive", "set --improver-time-limit in seconds")
        if self.executor not in EXECUTORS:
            raise ConfigError(f"executor = {self.executor!r} is not an executor", f"use one of: {', '.join(EXECUTORS)}")
        if self.ray_address and self.executor != "ray":
            raise ConfigError("--ray-address is set but the executor is not ray", "add --executor ray")
        if self.workers < 1:
            raise ConfigError(f"workers = {self.workers} must be at least 1", "set --workers 1 or more")
        if self.improver_slots < self.workers + 1:
            raise ConfigError(f"improver_slots = {self.improver_slots} is too few for {self.workers} worker(s): one "
                              "slot improves improvers, one per worker is improved",
                              f"set --improver-slots {self.workers + 1} or more")

    @property
    def lm_budget(self) -> Budget:
        return Budget(self.lm_calls, self.lm_responses)

    def improver_limits(self) -> ImproverLimits:
        return ImproverLimits(self.lm_budget, self.utility_budget, self.improver_time_limit_s)

    def meta(self) -> MetaSettings:
        return MetaSettings(n_tests=self.n_tests, limits=self.improver_limits(), budget=self.meta_budget)

    def loop(self, n_tasks: int = 1) -> LoopSettings:
        # The improver-of-improvers runs up to meta_budget û evaluations, each n_tests improver
        # runs per task.
        outer = self.improver_time_limit_s * (1 + self.meta_budget * self.n_tests * n_tasks)
        budget = Budget(self.lm_calls, self.meta_responses or self.lm_responses)
        return LoopSettings(self.iterations, self.accept, self.race_first_runs, self.race_max_runs,
                            self.final_runs, self.meta_feedback, ImproverLimits(budget, self.meta_budget, outer))

    def improver_runs_estimate(self, n_tasks: int) -> int:
        """Improver runs of a self-improve run over `n_tasks` tasks, for a progress bar: û of
        I_0, then one û per candidate per step (races add runs, identical candidates cost none)."""
        candidates = min(self.meta_responses or self.lm_responses, self.meta_budget)
        return self.n_tests * n_tasks * (1 + self.iterations * candidates)

    @classmethod
    def from_record(cls, record: dict) -> "RunSettings":
        """The settings a run directory's config.json recorded (older runs: keep_incumbent, and
        max_tokens, which the LM config holds)."""
        values = dict(record)
        values.pop("max_tokens", None)
        if values.pop("keep_incumbent", False):
            values["accept"] = "incumbent"
        return cls(**values)


PRESETS: dict[str, RunSettings] = {
    "paper": RunSettings(preset="paper", lm_calls=4, lm_responses=6, utility_budget=25, n_tests=5,
                         meta_budget=25, iterations=3, improver_time_limit_s=3600),
    # Every candidate the improver-of-improvers writes (6 per iteration) gets a û; CRN make
    # candidates that behave like the incumbent cost almost nothing (same samples, same scores).
    "small": RunSettings(preset="small", lm_calls=2, lm_responses=3, utility_budget=6, n_tests=2,
                         meta_budget=6, iterations=2, improver_time_limit_s=600,
                         accept="paired", meta_responses=6, race_first_runs=2, race_max_runs=6,
                         final_runs=4, workers=2, improver_slots=3),
}
_FIELDS = {f.name for f in dataclasses.fields(RunSettings)} - {"preset"}


def resolve(preset: str, toml_path: Path | None = None, **overrides: Any) -> RunSettings:
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}", f"use one of: {', '.join(PRESETS)}")
    values: dict[str, Any] = {}
    if toml_path is not None:
        table = read_table(toml_path, "run")
        for key, value in table.items():
            if key == "max_tokens":
                raise ConfigError(f"{toml_path}: run.max_tokens is a language-model setting",
                                  "move it to the [lm] table")
            if key not in _FIELDS:
                raise unknown_key(str(toml_path), "run", key, _FIELDS)
            typed(str(toml_path), f"run.{key}", value, type(getattr(PRESETS[preset], key)))
        values.update(table)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return dataclasses.replace(PRESETS[preset], **values)
