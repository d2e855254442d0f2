"""`Config`: everything a run computes with, each value stored once.

    lm         the language-model layer: backend, model, max_tokens, temperature, cache, server
    run        the recipe: budgets, acceptance rule, sample seed (`settings.RunSettings`)
    placement  where improver runs go: executor, workers, slots, LM replicas (`settings.Placement`)
    unsafe     whether LM-written code runs without the sandbox

The LM budget is the run's (`run.lm_calls` x `run.lm_responses` per improver run); the budget
the LM layer is opened with, which sizes the local server's parallel slots, is derived from it
and never stored. A resumed run rebuilds its Config from config.json alone: no TOML file, no
environment variable; only its placement may change (`resumed_by`: the placement settings the
resuming command was given), since where a unit runs never changes what it computes.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from selftaught.errors import DAMAGED_RUN_FIX, ConfigError
from selftaught.lm.budget import Budget
from selftaught.lm.config import LMConfig, from_record as lm_from_record, from_sources
from selftaught.settings import PLACEMENT_FIELDS, TABLES, Placement, RunSettings, place, resolve
from selftaught.tomlconfig import RECORD, read_table, validated

# Which table holds each setting of a config file, [lm]'s too (settings.TABLES names only the
# run's and the placement's, since settings may not import the LM's config): a key in the wrong
# table, or above every header, is named with the table it belongs in.
ALL_TABLES = {**{f.name: "lm" for f in dataclasses.fields(LMConfig)}, **TABLES}


@dataclass(frozen=True)
class Config:
    lm: LMConfig
    run: RunSettings
    placement: Placement = field(default_factory=Placement)
    unsafe: bool = False
    # The placement settings this config was given (TOML or flags), not taken from the preset:
    # what a resumed run changes of its recorded placement. Not recorded.
    placement_given: frozenset[str] = field(default=frozenset(), compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.placement, Placement):  # e.g. Config(lm, run, True) from before placements
            raise TypeError(f"Config.placement must be a Placement, not {self.placement!r}")

    def session_budget(self) -> Budget:
        """The budget a session's LM client opens with: lm_calls calls per improver run, and a
        server slot per response that can be asked for at once (every worker's call, or the
        improver-of-improvers' candidates). Derived, never stored."""
        at_once = max(self.run.lm_responses * self.placement.workers, self.run.meta_responses)
        return Budget(self.run.lm_calls, at_once)

    def placed(self, placement: Placement) -> "Config":
        """The same run placed elsewhere: where a run goes may change on resume, what it computes
        may not."""
        return dataclasses.replace(self, placement=placement)

    def resumed_by(self, command: "Config") -> "Config":
        """This (recorded) config, resumed by `command`'s: the recorded placement, changed only
        where the resuming command was given a placement setting (e.g. --executor ray)."""
        given = {name: getattr(command.placement, name) for name in command.placement_given}
        return self.placed(dataclasses.replace(self.placement, **given))

    def record(self, **extra: object) -> dict:
        """What config.json keeps (no secrets: only the name of the key's variable)."""
        lm = {f.name: getattr(self.lm, f.name) for f in dataclasses.fields(self.lm)}
        lm["cache"] = self.lm.cache.value
        return {"run": dataclasses.asdict(self.run), "placement": dataclasses.asdict(self.placement), "lm": lm,
                "unsafe_no_sandbox": self.unsafe, **extra}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> "Config":
        """Exactly the config a run recorded. Experiments 1-3's runs recorded the placement inside
        "run"; it is read from there when the record has no "placement" of its own."""
        tables = {name: record.get(name) for name in ("lm", "run")}
        placement = record.get("placement")
        if placement is None and isinstance(tables["run"], Mapping):
            placement = {k: v for k, v in tables["run"].items() if k in PLACEMENT_FIELDS}
        tables["placement"] = placement
        unsafe = record.get("unsafe_no_sandbox", False)
        for name, table in tables.items():
            if not isinstance(table, Mapping):
                raise ConfigError(f"{RECORD} has no {name} settings table", DAMAGED_RUN_FIX)
        if not isinstance(unsafe, bool):
            raise ConfigError(f"{RECORD}: unsafe_no_sandbox = {unsafe!r} is not true or false", DAMAGED_RUN_FIX)
        return cls(lm_from_record(tables["lm"]), RunSettings.from_record(tables["run"]),
                   Placement(**validated(Placement, "placement", RECORD, placement)), unsafe)


def load(preset: str, toml_path: Path | None = None, lm_flags: Mapping[str, Any] | None = None,
         run_flags: Mapping[str, Any] | None = None, placement_flags: Mapping[str, Any] | None = None,
         unsafe: bool = False) -> Config:
    """A STOP command's config: the preset, then the [lm], [run] and [placement] tables of
    `toml_path`, then OPENAI_* environment variables (lm), then flags (None: not given)."""
    # The LM's settings first: it checks the file's top level against every table's (ALL_TABLES).
    lm = from_sources(toml_path, ALL_TABLES, **(lm_flags or {}))
    run = resolve(preset, toml_path, **(run_flags or {}))
    if not run.sample_seed:  # a fresh stream of samples per run, whichever front end starts it
        run = dataclasses.replace(run, sample_seed=secrets.token_hex(4))
    flags = {k: v for k, v in (placement_flags or {}).items() if v is not None}
    given = set(flags) | (set(read_table(toml_path, "placement")) if toml_path is not None else set())
    return Config(lm, run, place(preset, toml_path, **flags), unsafe, frozenset(given))

