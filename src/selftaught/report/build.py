"""Build the HTML report of one or more runs: analyses in, one self-contained page out."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from markupsafe import Markup

from selftaught.analysis import numbers
from selftaught.analysis.analyze import RunAnalysis, analyze
from selftaught.analysis.leaderboard import better_default, standings
from selftaught.analysis.rundata import number
from selftaught.analysis.safety import BUDGET_FLAGS, FLAG_NOTES, SANDBOX_FLAGS, safety_table
from selftaught.analysis.strategies import frequency
from selftaught.ids import program_id
from selftaught.improvers import DEFAULT_IMPROVER, library_improver
from selftaught.report import plots
from selftaught.report.page import CSS, TEMPLATE
from selftaught.report.text import clean, highlight, highlight_css


@dataclass(frozen=True)
class Report:
    html: str
    analyses: tuple[RunAnalysis, ...]

    def save(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html, encoding="utf-8")
        return path


def build_report(runs: Sequence[Path | RunAnalysis], title: str | None = None,
                 generated: str | None = None) -> Report:
    """The report of `runs` (run directories or analyses), side by side in the given order."""
    from selftaught.version import __version__

    analyses = tuple(r if isinstance(r, RunAnalysis) else analyze(r) for r in runs)
    views = [_run_view(a, i) for i, a in enumerate(analyses, 1)]
    table = safety_table(a.run for a in analyses)
    safety_rows = list(table.per_run)
    if len(table.per_model) > 1 or len(analyses) > 1:
        safety_rows += [_relabel(s, f"model {s.label}") for s in table.per_model]
    if len(table.per_model) > 1:
        safety_rows.append(table.total)
    improvers = {i.program: i for a in analyses for i in a.improvers}
    self_improve = [(a.run.name, list(a.steps)) for a in analyses if a.steps]
    context = dict(
        title=title or ("selftaught report: " + ", ".join(a.run.name for a in analyses))[:200],
        generated=generated or _dt.datetime.now().isoformat(timespec="seconds"), version=__version__,
        css=Markup(CSS + highlight_css()), runs=views, safety_rows=safety_rows,
        sandbox_flags=sorted(SANDBOX_FLAGS), budget_flags=sorted(BUDGET_FLAGS),
        blocked=[(s.label, what, n) for s in table.per_run for what, n in s.blocked_reasons.items()],
        runtime_events=[(s.label, what, n) for s in table.per_run for what, n in s.runtime_events.items()],
        flag_notes=[(f, FLAG_NOTES.get(f, "")) for f in table.total.flags],
        improver_count=len(improvers),
        strategy_plot=plots.strategy_frequency(frequency(i.strategies for i in improvers.values()), len(improvers))
        if improvers else None,
        meta_runs=len(self_improve),
        meta_plot=plots.meta_utility(self_improve, []) if len(self_improve) > 1 else None,
    )
    return Report(_environment().from_string(TEMPLATE).render(**context), analyses)


def _relabel(safety, label: str):
    import dataclasses

    return dataclasses.replace(safety, label=label)


def _run_view(a: RunAnalysis, index: int) -> dict:
    run, kind = a.run, a.run.kind
    view = dict(name=run.name, anchor=f"run-{index}", short=f"{index}. {kind}", entry=a.entry,
                settings=_settings_line(a), unsafe=run.unsafe, steps=list(a.steps), transfer=list(a.transfer),
                improve=a.improve, final=a.final, improvers=list(a.improvers), lineage=a.lineage, best=set(), best_code=[],
                meta_plot=None, candidate_plot=None, transfer_plot=None, transfer_labels=[], improve_plot=None,
                leaderboard=[], leaderboard_plot=None, leaderboard_default=None, leaderboard_tasks=[],
                leaderboard_default_label=None,
                usage_plot=None)
    if a.steps:
        seeds = [(f"{task} (val)", val) for task, (val, _) in a.seed_scores.items() if val is not None]
        view["meta_plot"] = plots.meta_utility([(run.name, list(a.steps))], seeds)
        view["candidate_plot"] = plots.candidates(list(a.steps))
        usage = [(f"step {s.t}" if s.t else "I_0 scored", s.usage, s.wall_time_s) for s in a.steps]
        unit = "step"
        best = a.best_improver
        final = a.steps[-1].improver
        for pid, badge, title in ((best, "best", "highest û on val"), (final, "final", "the improver the run ended with")):
            node = next((n for n in a.lineage.nodes if n.program == pid and n.source), None)
            if node and all(node.source != code for _, _, code in view["best_code"]):
                view["best_code"].append((badge, f"{node.label} ({pid[:12]}): {title}", node.source))
        view["best"] = {best} if best else set()
    elif a.transfer:
        view["transfer_labels"] = list(dict.fromkeys(k for row in a.transfer for k in row.cells))
        view["transfer_plot"] = plots.transfer(list(a.transfer))
        board = standings(a.run)
        if len(board) >= 2:  # a leaderboard: each improver paired against the first
            view["leaderboard"], view["leaderboard_plot"] = board, plots.leaderboard(board)
            view["leaderboard_tasks"] = sorted({t for s in board for t in s.per_task})
            # issue 22's question only makes sense when the reference is today's default, by its
            # code (a user's own paper.py is labelled paper too)
            default = a.run.improver_labels().get(program_id(library_improver(DEFAULT_IMPROVER)))
            view["leaderboard_default_label"] = None if default != board[0].label else \
                default if default == DEFAULT_IMPROVER else f"{default} (= {DEFAULT_IMPROVER})"
            view["leaderboard_default"] = better_default(board, a.run.tasks) if view["leaderboard_default_label"] else None
        usage = [(row.task, row.usage, 0.0) for row in a.transfer]
        usage = _with_walls(a, usage)
        unit = "task"
    else:
        from selftaught.analysis.history import usage_of

        usage, unit = [("whole run", usage_of(run.usage), _run_wall(a))], "run"
        if a.improve:
            view["improve_plot"] = plots.before_after(
                a.improve.task, (a.improve.seed_val, a.improve.seed_test), (a.improve.val, a.improve.test))
    if not a.steps:
        for task, event in a.best_runs.items():
            view["best"].add(str(event.get("solution")))
            view["best_code"].append(("best", f"{task}: test {number(event.get('test')):.3f}, by improver "
                                      f"{str(event.get('improver'))[:12]} ({event.get('key')})",
                                      str(event["solution_source"])))
    view["usage"], view["usage_unit"] = usage, unit
    if len(usage) > 1:
        view["usage_plot"] = plots.usage([u[0] for u in usage], [u[1] for u in usage], [u[2] for u in usage], unit)
    return view


def _with_walls(a: RunAnalysis, usage: list) -> list:
    """Wall time per task of a transfer run: the span of that task's improver runs (cells run
    in parallel, so spans overlap); older journals without run starts: one row to the next."""
    from selftaught.runs.events import event_time

    spans: dict[str, tuple[float, float]] = {}
    for e in a.run.events:
        ref = e.get("run") if e.get("kind") == "improver_run_started" else e.get("key")
        t = event_time(e)
        if e.get("kind") in ("improver_run_started", "improver_run") and isinstance(ref, str) \
                and ref.count("/") >= 2 and t is not None:
            task = ref.split("/")[-2]
            lo, hi = spans.get(task, (t, t))
            spans[task] = (min(lo, t), max(hi, t))
    if any(e.get("kind") == "improver_run_started" for e in a.run.events):
        return [(name, u, spans[name][1] - spans[name][0] if name in spans else 0.0) for name, u, _ in usage]
    rows = [e for e in a.run.events if e.get("kind") == "transfer_row"]
    times = [event_time(a.run.events[0]) if a.run.events else None] + [event_time(e) for e in rows]
    walls = [(b - t) if t is not None and b is not None else 0.0 for t, b in zip(times, times[1:])]
    return [(name, u, wall) for (name, u, _), wall in zip(usage, walls + [0.0] * len(usage))]


def _run_wall(a: RunAnalysis) -> float:
    from selftaught.analysis.history import span

    return span(list(a.run.events))


def _settings_line(a: RunAnalysis) -> str:
    s = a.run.run_settings
    lm = a.run.settings.get("lm") if isinstance(a.run.settings.get("lm"), dict) else {}
    parts = [f"tasks: {', '.join(a.entry.tasks) or '-'}", f"model: {a.entry.model}"]
    if s:
        parts.append(f"preset {s.get('preset', '?')}: {s.get('lm_calls', '?')} LM calls × {s.get('lm_responses', '?')} "
                     f"responses, utility budget {s.get('utility_budget', '?')}, {s.get('n_tests', '?')} runs per "
                     f"task in û, meta budget {s.get('meta_budget', '?')}, T = {s.get('iterations', '?')}, "
                     f"{lm.get('max_tokens', s.get('max_tokens', '?'))} tokens")  # older runs kept it in [run]
    if isinstance(a.run.settings.get("improvers"), list):  # the run keeps what it compared
        parts.append("improvers: " + ", ".join(label for label, _ in a.run.compared_improvers().values()))
    elif isinstance(a.run.settings.get("source"), str):
        found = "" if a.run.source_run() else " (not found here)"
        parts.append(f"improvers from {Path(a.run.settings['source']).name}{found}")
    return " · ".join(parts)


def _environment():
    from jinja2 import Environment, StrictUndefined

    def finalize(value: object) -> object:
        if isinstance(value, Markup) or not isinstance(value, str):
            return value
        return clean(value)

    env = Environment(autoescape=True, undefined=StrictUndefined, finalize=finalize, trim_blocks=True,
                      lstrip_blocks=True)
    env.globals.update(pct=numbers.pct, num=numbers.num, ci=numbers.ci, signed=numbers.signed, rate=numbers.rate,
                       minutes=lambda s: f"{s / 60:.1f} min", highlight=highlight,
                       default_improver=DEFAULT_IMPROVER)
    return env

