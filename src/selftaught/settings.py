"""Run settings: a preset, then the [run] table of a TOML config, then flags; and where a run
goes (Placement: a preset's, then the [placement] table, then flags).

`paper` is the paper's setting (and the paper's acceptance rule). `small` fits a 2-core
laptop with the embedded model: candidates are raced on fresh paired runs (`paired`), so that
sampling noise is not mistaken for progress.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from selftaught.errors import ConfigError
from selftaught.fields import described, flag
from selftaught.lm.budget import Budget
from selftaught.tomlconfig import RECORD, read_table, validated

# Names only: the rules live in selftaught/acceptance, the executors in selftaught/executors, and
# both import these, so that settings stay a leaf of the import graph.
Rule = Literal["paper", "incumbent", "paired"]
Executor = Literal["local", "ray"]
RULES: tuple[str, ...] = get_args(Rule)
EXECUTORS: tuple[str, ...] = get_args(Executor)
TRANSFER_TASKS = ("parity", "three_sat", "max_cut", "string_grid_distance", "mqap")  # the held-out five
PAPER_IMPROVER_TIME_LIMIT_S = 3600.0
# The sandbox turns the limit into socket timeouts, which overflow near 1e10 s, and a meta run's
# limit is this times its û calls: one day, 24 times the paper's, keeps both far from that.
MAX_IMPROVER_TIME_LIMIT_S = 86_400.0


@dataclass(frozen=True)
class ImproverLimits:
    """What one improver run may spend (work.py enforces it). The defaults are the paper's
    (PRESETS["paper"] takes its per-run budgets from them)."""

    lm_budget: Budget = field(default_factory=Budget)  # the paper's 4 calls x 6 responses
    utility_budget: int = 25
    time_limit_s: float = PAPER_IMPROVER_TIME_LIMIT_S  # wall time of one improver run, LM calls included
    memory_limit_mb: int = 1024


@dataclass(frozen=True)
class RunSettings:
    preset: str = described("small: fits a 2-core laptop with the embedded model; paper: the paper's budgets.",
                        cli=False)  # the --preset option itself
    lm_calls: int = described("LM calls per improver run.")
    lm_responses: int = described("Responses per LM call.")
    utility_budget: int = described("Utility calls per improver run.")
    n_tests: int = described("Improver runs per task in one meta-utility score û.")
    meta_budget: int = described("Meta-utility calls per self-improvement step (û calls of the improver-of-improvers).")
    iterations: int = described("Self-improvement steps T.", cli=False)  # self-improve's own -T
    improver_time_limit_s: float = described("Wall-time limit of one improver run, in seconds (LM calls included).")
    accept: Rule = described("How a new improver replaces the current one: paper (anything with û > 0, the paper's "
                        "rule), incumbent (û at least as high) or paired (better on fresh paired runs at 95%, "
                        "raced).", "paper")
    meta_responses: int = described("Responses per LM call of the improver-of-improvers, i.e. candidate improvers "
                                "per step (0: --lm-responses).", 0)
    race_first_runs: int = described("paired: fresh runs per task before the race's first look.", 2)
    race_max_runs: int = described("paired: at most this many fresh runs per task.", 8)
    final_runs: int = described("Paired runs per task comparing the last improver with the seed improver on test.", 0)
    meta_feedback: bool = described("Tell the improver-of-improvers how the current improver's runs went (how often "
                                "its output scored below the program it started from, how runs failed).", False)
    sample_seed: str = described("Name of the run's LM sample streams in the response cache: two runs with the same "
                             "seed and settings replay the same samples (empty: a fresh random seed per run).", "")

    def __post_init__(self) -> None:
        _at_least_one(self, ("lm_calls", "lm_responses", "utility_budget", "n_tests", "meta_budget"))
        if self.accept not in RULES:
            raise ConfigError(f"accept = {self.accept!r} is not an acceptance rule", f"use one of: {', '.join(RULES)}")
        if not 1 <= self.race_first_runs <= self.race_max_runs:
            raise ConfigError(f"race_first_runs = {self.race_first_runs} must lie between 1 and race_max_runs = "
                              f"{self.race_max_runs}", "set --race-first-runs and --race-max-runs accordingly")
        if self.meta_responses < 0 or self.final_runs < 0:
            raise ConfigError("meta_responses and final_runs must not be negative", "use 0 or more")
        if self.iterations < 0:
            raise ConfigError(f"iterations = {self.iterations} is negative", "set --iterations to 0 or more")
        if not 0 < self.improver_time_limit_s <= MAX_IMPROVER_TIME_LIMIT_S:  # false for nan too
            raise ConfigError(f"improver_time_limit_s = {self.improver_time_limit_s} must be positive and at most "
                              f"{MAX_IMPROVER_TIME_LIMIT_S:g} (one day)", "set --improver-time-limit in seconds")

    @property
    def lm_budget(self) -> Budget:
        return Budget(self.lm_calls, self.lm_responses)

    def improver_limits(self) -> ImproverLimits:
        return ImproverLimits(self.lm_budget, self.utility_budget, self.improver_time_limit_s)

    def meta_limits(self, n_tasks: int = 1) -> ImproverLimits:
        """The improver-of-improvers' own limits (loop.py): û is its utility, so its run lasts up
        to meta_budget û evaluations of n_tests improver runs per task, and each of its LM calls
        asks for meta_responses candidates."""
        outer = self.improver_time_limit_s * (1 + self.meta_budget * self.n_tests * n_tasks)
        return ImproverLimits(Budget(self.lm_calls, self.meta_responses or self.lm_responses), self.meta_budget, outer)

    def fresh_offset(self) -> int:
        """First run index that neither û nor the race used: the final comparison's."""
        return self.n_tests + (self.race_max_runs if self.accept == "paired" else 0)

    def improver_runs_estimate(self, n_tasks: int) -> int:
        """Improver runs of a self-improve run over `n_tasks` tasks, for a progress bar: û of
        I_0, then one û per candidate per step (races add runs, identical candidates cost none)."""
        candidates = min(self.meta_responses or self.lm_responses, self.meta_budget)
        return self.n_tests * n_tasks * (1 + self.iterations * candidates)

    @classmethod
    def from_record(cls, record: dict) -> "RunSettings":
        """The settings a run directory's config.json recorded. Runs of experiments 1-3 (the
        data's runs/) recorded their placement here too: config.Config.from_record moves it."""
        values = {k: v for k, v in record.items() if k not in PLACEMENT_FIELDS}
        if values.pop("keep_incumbent", False):  # experiment 1's runs
            values["accept"] = "incumbent"
        values.pop("max_tokens", None)  # experiment 1's runs; the LM config holds it
        # Checked as strictly as a config file: a damaged config.json is named, not a traceback.
        return cls(**validated(cls, "run", RECORD, values))


@dataclass(frozen=True)
class Placement:
    """Where a run's improver runs go: never what they compute. A unit's samples and result do not
    depend on the executor, the number of workers or the slots (executors/__init__.py), so a
    resumed run takes the placement it is resumed with, and config.json keeps this apart from
    the recipe (RunSettings)."""

    workers: int = described("Improver runs at once on this machine (local executor); the LM server batches their "
                         "requests.", 1)
    executor: Executor = described("Where improver runs go: local (this machine, --workers at once) or ray (a Ray "
                          "cluster; see --ray-address).", "local")
    ray_address: str = described("ray: the cluster's address, HOST:PORT of `ray start --head` (empty: RAY_ADDRESS, "
                             "or a Ray started on this machine).", "")
    lm_replicas: str = described("ray: an engine replica on every node ('per-node') or on N nodes; the run's LM "
                                 "requests spread over them, each with half its node's CPUs (empty: none, the "
                                 "model is served where the run starts).", "")
    improver_slots: int = described("Sandbox slots for improvers: at least --workers + 1.", 2)
    program_slots: int = described("Sandbox slots for scoring programs (each instance of a split takes one).", 2)

    def __post_init__(self) -> None:
        if self.executor not in EXECUTORS:
            raise ConfigError(f"executor = {self.executor!r} is not an executor", f"use one of: {', '.join(EXECUTORS)}")
        if self.lm_replicas and self.executor != "ray":
            raise ConfigError("--lm-replicas is set but the executor is not ray", "add --executor ray")
        if self.ray_address and self.executor != "ray":
            raise ConfigError("--ray-address is set but the executor is not ray", "add --executor ray")
        _at_least_one(self, ("workers", "improver_slots", "program_slots"))
        if self.improver_slots < self.workers + 1:
            raise ConfigError(f"improver_slots = {self.improver_slots} is too few for {self.workers} worker(s): one "
                              "slot improves improvers, one per worker is improved",
                              f"set --improver-slots {self.workers + 1} or more")


def _at_least_one(settings: object, names: tuple[str, ...]) -> None:
    for name in names:
        if getattr(settings, name) < 1:
            raise ConfigError(f"{name} = {getattr(settings, name)} must be at least 1",
                              f"set {flag(type(settings), name)} to 1 or more")


_PAPER = ImproverLimits()
PRESETS: dict[str, RunSettings] = {
    # ImproverLimits' defaults are the paper's per-run budgets: defined there, once
    "paper": RunSettings(preset="paper", lm_calls=_PAPER.lm_budget.max_calls,
                         lm_responses=_PAPER.lm_budget.max_responses_per_call, utility_budget=_PAPER.utility_budget,
                         n_tests=5, meta_budget=25, iterations=3, improver_time_limit_s=_PAPER.time_limit_s),
    # Every candidate the improver-of-improvers writes (6 per iteration) gets a û; CRN make
    # candidates that behave like the incumbent cost almost nothing (same samples, same scores).
    "small": RunSettings(preset="small", lm_calls=2, lm_responses=3, utility_budget=6, n_tests=2,
                         meta_budget=6, iterations=2, improver_time_limit_s=600,
                         accept="paired", meta_responses=6, race_first_runs=2, race_max_runs=6, final_runs=4),
}
# Where each preset runs by default: the paper's runs one improver run at a time; small keeps a
# 2-core laptop's two cores busy (2 workers, so 3 improver slots).
PLACEMENTS: dict[str, Placement] = {"paper": Placement(), "small": Placement(workers=2, improver_slots=3)}
RUN_FIELDS = tuple(f.name for f in dataclasses.fields(RunSettings) if f.name != "preset")
PLACEMENT_FIELDS = tuple(f.name for f in dataclasses.fields(Placement))


def resolve(preset: str, toml_path: Path | None = None, **overrides: Any) -> RunSettings:
    """The [run] settings: the preset's, then the [run] table of `toml_path`, then `overrides`
    (None: not given)."""
    return _layered(PRESETS, preset, "run", toml_path, overrides)


def place(preset: str, toml_path: Path | None = None, **overrides: Any) -> Placement:
    """The [placement] settings, layered like resolve()'s."""
    return _layered(PLACEMENTS, preset, "placement", toml_path, overrides)


# Which table holds a setting, so that a key in the wrong one is named with the right one.
TABLES = {"max_tokens": "lm", **{name: "placement" for name in PLACEMENT_FIELDS},
              **{name: "run" for name in RUN_FIELDS}}


def _layered(presets: dict[str, Any], preset: str, table_name: str, toml_path: Path | None,
             overrides: dict[str, Any]) -> Any:
    if preset not in presets:
        raise ConfigError(f"unknown preset {preset!r}", f"use one of: {', '.join(presets)}")
    base = presets[preset]
    fields = {f.name for f in dataclasses.fields(base)}
    elsewhere = {k: v for k, v in TABLES.items() if k not in fields}
    layers = [(str(toml_path), read_table(toml_path, table_name, TABLES))] if toml_path is not None else []
    layers.append(("the given settings", {k: v for k, v in overrides.items() if v is not None}))
    values: dict[str, Any] = {}
    for source, layer in layers:
        if "preset" in layer:  # the preset is the bottom layer, so it cannot be one of the layers
            raise ConfigError(f"{source}: {table_name}.preset cannot be set here", "choose the preset with --preset")
        values.update(validated(type(base), table_name, source, layer, elsewhere))
    return dataclasses.replace(base, **values)
