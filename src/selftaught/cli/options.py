"""Option groups shared by several commands, declared once.

`lm_options` adds the language-model flags to a command and hands it a built `LMConfig`;
`stop_options` adds those and the preset and budget flags and hands it a `Config`. Typer reads
the combined signature, so every command's --help lists the flags under their own panels.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Callable, Iterator, Optional, get_type_hints

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from selftaught.fields import flag
from selftaught.lm.config import LMConfig
from selftaught.settings import PLACEMENTS, PRESETS, Placement, RunSettings
from selftaught.tomlconfig import base_type

console = Console(stderr=True)


def _option(name: str, kind: Any, default: Any, flag: str, help: str, panel: str) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=Annotated[kind, typer.Option(flag, help=help, rich_help_panel=panel)])


def _generated(cls: type, panel: str, shown_default: Callable[[dataclasses.Field], str]) -> list[inspect.Parameter]:
    """One option per field of a settings dataclass, from the field itself: its name, type, help
    and flag (selftaught/fields.py), so help, defaults and fixes cannot drift from the code.
    Every option defaults to None ("not given"): the config layers decide the value."""
    hints = get_type_hints(cls)
    options = []
    for f in dataclasses.fields(cls):
        if f.metadata.get("cli") is False:
            continue
        kind = base_type(hints[f.name])
        if typing.get_origin(kind) is tuple:  # a repeatable flag
            kind = list[str]
        elif kind not in (bool, int, float, Path):
            kind = str  # enums (the cache mode) parse from text
        name = flag(cls, f.name)
        if kind is bool:
            name = f"{name}/--no-{name[2:]}"
        default = shown_default(f) if f.metadata.get("show_default", True) else ""
        options.append(_option(f.name, Optional[kind], None, name, f.metadata["help"] + default, panel))
    return options


def _lm_default(f: dataclasses.Field) -> str:
    value = f.default.value if hasattr(f.default, "value") else f.default
    return f" [default: {value}]"


def _preset_default(presets: dict[str, Any]) -> Callable[[dataclasses.Field], str]:
    """The shown default of a field that the presets set: one value, or each preset's."""

    def shown(f: dataclasses.Field) -> str:
        values = {name: getattr(preset, f.name) for name, preset in presets.items()}
        if len(set(values.values())) == 1:
            return f" [default: {next(iter(values.values()))}]" if values["small"] not in ("", None) else ""
        return " [preset " + ", ".join(f"{name}: {value}" for name, value in values.items()) + "]"

    return shown


LM = "Language model"
LM_OPTIONS = _generated(LMConfig, LM, _lm_default) + [
    _option("config_file", Optional[Path], None, "--config",
            "TOML file with [lm], [run] and [placement] tables; flags override it.", LM),
]

DEBUG = _option("debug", bool, False, "--debug", "Show tracebacks for errors.", "Options")
BUDGET = "Budgets (override the preset)"
RUN_OPTIONS = [
    _option("preset", str, "small", "--preset", RunSettings.__dataclass_fields__["preset"].metadata["help"], BUDGET),
] + _generated(RunSettings, BUDGET, _preset_default(PRESETS))
PLACEMENT_OPTIONS = _generated(Placement, "Where it runs (a resumed run may move)", _preset_default(PLACEMENTS))


def _inject(params: list[inspect.Parameter], build: Callable[[dict], dict]) -> Callable:
    """Add `params` to a command's signature; `build` turns their values into the keyword
    arguments the command declares (e.g. {"lm": LMConfig})."""

    def decorate(fn: Callable) -> Callable:
        hints = get_type_hints(fn, include_extras=True)
        own = [p.replace(annotation=hints.get(p.name, p.annotation))
               for p in inspect.signature(fn).parameters.values()]
        own = [p for p in own if p.name not in {"lm", "config"}]  # supplied by `build`

        @functools.wraps(fn)
        def wrapper(**kwargs: Any) -> Any:
            group = {p.name: kwargs.pop(p.name) for p in params}
            return fn(**kwargs, **build(group))

        wrapper.__signature__ = inspect.Signature(own + params)
        wrapper.__annotations__ = {p.name: p.annotation for p in wrapper.__signature__.parameters.values()}
        return wrapper

    return decorate


def _lm_config(group: dict) -> Any:
    from selftaught.config import ALL_TABLES
    from selftaught.lm.config import from_sources

    config_file = group.pop("config_file")
    return from_sources(config_file, ALL_TABLES, **group)


def lm_options(fn: Callable) -> Callable:
    """Add the language-model flags; the command receives `lm: LMConfig`."""
    return _inject(LM_OPTIONS, lambda group: {"lm": _lm_config(group)})(fn)


def stop_options(fn: Callable) -> Callable:
    """Add the language-model, preset, budget and placement flags; the command receives
    `config: Config`."""

    def build(group: dict) -> dict:
        from selftaught.config import load

        run = {p.name: group.pop(p.name) for p in RUN_OPTIONS}
        placement = {p.name: group.pop(p.name) for p in PLACEMENT_OPTIONS}
        config_file = group.pop("config_file")
        return {"config": load(run.pop("preset"), config_file, lm_flags=group, run_flags=run,
                               placement_flags=placement)}

    return _inject(LM_OPTIONS + RUN_OPTIONS + PLACEMENT_OPTIONS, build)(fn)


@contextmanager
def byte_progress(description: str) -> Iterator:
    """A rich progress bar fed by (done, total) callbacks, e.g. while assembling the model."""
    with Progress(
        "[progress.description]{task.description}", BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        console=console, transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)
