"""The report's figures, drawn with matplotlib's object API (no pyplot, no global state) and
returned as PNG data URIs, so the page needs no other file and fetches nothing."""

from __future__ import annotations

import base64
import io
from typing import Sequence

from selftaught.analysis.history import Step, TransferRow, Usage
from selftaught.analysis.leaderboard import Standing
from selftaught.stats import Interval

COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
SEED_COLOR = "#9a9a9a"


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig


def to_data_uri(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})  # no version stamp: same input, same bytes
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def label(text: object) -> str:
    """Text for matplotlib: `$` would start math mode, and labels stay short."""
    text = str(text)
    text = text if len(text) <= 40 else text[:37] + "..."
    return text.replace("$", r"\$")


def _errors(intervals: Sequence[Interval]) -> list[list[float]]:
    return [[max(0.0, i.mean - i.lo) for i in intervals], [max(0.0, i.hi - i.mean) for i in intervals]]


def meta_utility(series: Sequence[tuple[str, Sequence[Step]]], seeds: Sequence[tuple[str, float]]) -> str:
    """û(I_t) on val and test per iteration, 95% intervals as error bars; u(s) as dotted lines."""
    # Several runs: the legend goes beside the axes, where it cannot hide the points.
    fig = _figure(7.5 if len(series) == 1 else 10.5, 3.6 if len(series) <= 4 else 4.8)
    ax = fig.add_subplot()
    reverted_label = "reverted"  # one legend entry for the crosses of every run
    for k, (name, steps) in enumerate(series):
        scored = [s for s in steps if s.score]
        color = COLORS[k % len(COLORS)]
        prefix = f"{label(name)}: " if len(series) > 1 else ""
        offset = 0.04 * k
        for split, style, shift in (("val", "-o", -0.06), ("test", "--s", 0.06)):
            intervals = [getattr(s.score, split) for s in scored]
            ax.errorbar([s.t + shift + offset for s in scored], [i.mean for i in intervals],
                        yerr=_errors(intervals), fmt=style, color=color, capsize=4,
                        alpha=1.0 if split == "val" else 0.7, label=f"{prefix}û {split}")
        rejected = [s for s in scored if s.t > 0 and not s.accepted]
        if rejected:
            ax.plot([s.t for s in rejected], [s.score.val.mean for s in rejected], "x", color="black",
                    markersize=9, label=reverted_label)
            reverted_label = "_nolegend_"
    for k, (name, value) in enumerate(seeds):
        ax.axhline(value, color=SEED_COLOR, linestyle=":", linewidth=1.5, label=f"u(s) {label(name)}")
    ax.set_xlabel("iteration t (improver I_t)")
    ax.set_ylabel("meta-utility û")
    ax.set_ylim(-0.05, 1.05)
    ts = sorted({s.t for _, steps in series for s in steps})
    ax.set_xticks(ts or [0])
    ax.grid(alpha=0.3)
    if len(series) == 1:
        ax.legend(fontsize=8, loc="best")
    else:
        fig.legend(fontsize=7, loc="outside right upper")
    return to_data_uri(fig)


def candidates(steps: Sequence[Step]) -> str:
    """Every improver û scored in each step: the candidates of step t and the one that became I_t."""
    fig = _figure(7.5, 3.2)
    ax = fig.add_subplot()
    for step in steps:
        points = list(step.candidates) if step.t > 0 else ([step.score] if step.score else [])
        for j, cand in enumerate(points):
            x = step.t + (j - (len(points) - 1) / 2) * 0.08
            chosen = cand.improver == step.improver
            for v in cand.run_vals:
                ax.plot(x + 0.02, v, "x", color="#555555", markersize=5)
            ax.errorbar(x, cand.val.mean, yerr=_errors([cand.val]), fmt="*" if chosen else "o",
                        color=COLORS[2] if chosen else COLORS[0], markersize=12 if chosen else 6, capsize=3)
    ax.plot([], [], "o", color=COLORS[0], label="candidate û (val, 95% CI)")
    ax.plot([], [], "*", color=COLORS[2], markersize=12, label="became I_t")
    ax.plot([], [], "x", color="#555555", label="one downstream run")
    ax.set_xlabel("step t (t = 0: the seed improver)")
    ax.set_ylabel("û on val")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xticks(sorted({s.t for s in steps}) or [0])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return to_data_uri(fig)


def usage(labels: Sequence[str], usages: Sequence[Usage], walls: Sequence[float], xlabel: str) -> str:
    """Left: prompt and completion tokens (stacked), calls on top. Right: wall time and the time
    spent waiting for the LM."""
    fig = _figure(7.5, 3.0)
    tokens, times = fig.subplots(1, 2, width_ratios=[3, 2])
    xs = list(range(len(labels)))
    prompt = [u.prompt_tokens for u in usages]
    completion = [u.completion_tokens for u in usages]
    tokens.bar(xs, prompt, color=COLORS[0], label="prompt")
    tokens.bar(xs, completion, bottom=prompt, color=COLORS[1], label="completion")
    for x, u, p, c in zip(xs, usages, prompt, completion):
        tokens.annotate(f"{u.calls} calls", (x, p + c), ha="center", va="bottom", fontsize=8)
    tokens.set_ylim(0, 1.3 * max([p + c for p, c in zip(prompt, completion)] + [1]))
    tokens.set_ylabel("tokens")
    tokens.legend(fontsize=8, loc="upper left", ncol=2)
    width = 0.4
    times.bar([x - width / 2 for x in xs], [w / 60 for w in walls], width, color=COLORS[3], label="wall time")
    times.bar([x + width / 2 for x in xs], [u.latency_s / 60 for u in usages], width, color=COLORS[4],
              label="LM latency")
    times.set_ylabel("minutes")
    times.set_ylim(0, 1.3 * max([w / 60 for w in walls] + [u.latency_s / 60 for u in usages] + [0.1]))
    times.legend(fontsize=8, loc="upper left", ncol=2)
    for ax in (tokens, times):
        ax.set_xticks(xs, [label(x) for x in labels], rotation=25 if len(labels) > 3 else 0, fontsize=8,
                      ha="right" if len(labels) > 3 else "center")
        ax.set_xlabel(xlabel)
        ax.grid(axis="y", alpha=0.3)
    return to_data_uri(fig)


def transfer(rows: Sequence[TransferRow]) -> str:
    """The transfer table as grouped bars: u(s) in grey, then û(I_t) with 95% intervals."""
    improvers = list(dict.fromkeys(k for row in rows for k in row.cells))
    groups = 1 + len(improvers)
    width = 0.8 / groups
    fig = _figure(max(7.5, 1.4 * len(rows)), 3.6)
    ax = fig.add_subplot()
    xs = list(range(len(rows)))
    ax.bar([x - 0.4 + width / 2 for x in xs], [r.seed_program for r in rows], width, color=SEED_COLOR,
           label="u(s): seed program")
    for k, name in enumerate(improvers):
        cells = [r.cells.get(name, Interval(0.0, 0.0, 0.0, 0)) for r in rows]
        ax.bar([x - 0.4 + width * (k + 1.5) for x in xs], [c.mean for c in cells], width,
               yerr=_errors(cells), capsize=3, color=COLORS[k % len(COLORS)], label=f"û({label(name)})")
    ax.set_xticks(xs, [label(r.task) for r in rows], fontsize=8)
    ax.set_ylabel("score on test")
    ax.set_ylim(0, 1.05)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncol=min(groups, 5), loc="upper center", bbox_to_anchor=(0.5, -0.1))
    return to_data_uri(fig)


def leaderboard(board: Sequence[Standing]) -> str:
    """Each improver's pooled paired difference against the reference (the first), with its
    95% interval: right of 0 is better than the reference on the same runs."""
    rest = [s for s in board[1:] if s.versus_reference is not None]
    fig = _figure(7.5, max(1.6, 0.45 * len(rest) + 0.8))
    ax = fig.add_subplot()
    ys = list(range(len(rest)))[::-1]
    means = [s.versus_reference.mean for s in rest]
    errors = [[max(0.0, s.versus_reference.mean - s.versus_reference.lo) for s in rest],
              [max(0.0, s.versus_reference.hi - s.versus_reference.mean) for s in rest]]
    ax.errorbar(means, ys, xerr=errors, fmt="o", capsize=3, color=COLORS[0])
    ax.axvline(0.0, color=SEED_COLOR, linewidth=1)
    ax.set_yticks(ys, [label(s.label) for s in rest], fontsize=8)
    ax.set_xlabel(f"test score minus {label(board[0].label) if board else 'the reference'}'s, paired (95% CI)")
    ax.grid(axis="x", alpha=0.3)
    return to_data_uri(fig)


def strategy_frequency(counts: dict[str, int], total: int) -> str:
    """How many of `total` improvers use each strategy."""
    names = list(counts)
    fig = _figure(7.5, max(2.0, 0.2 * len(names) + 0.8))
    ax = fig.add_subplot()
    ax.barh(range(len(names)), [counts[n] for n in names], color=COLORS[0])
    ax.set_yticks(range(len(names)), [label(n.replace("_", " ")) for n in names], fontsize=8)
    ax.invert_yaxis()
    from matplotlib.ticker import MaxNLocator

    ax.set_xlim(0, max(total, 1))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"improvers using it (of {total} with known source)")
    if not any(counts.values()):
        ax.text(0.5, 0.5, "no strategy of the catalogue detected", transform=ax.transAxes, ha="center",
                va="center", color=SEED_COLOR, fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    return to_data_uri(fig)


def before_after(task: str, seed: tuple[float | None, float | None], result: tuple[float, float]) -> str:
    """An improve run: the seed program and the result, on val and test."""
    fig = _figure(5.0, 2.8)
    ax = fig.add_subplot()
    for k, (name, values, color) in enumerate((("seed program", seed, SEED_COLOR), ("result", result, COLORS[0]))):
        ax.bar([x + 0.38 * k for x in (0, 1)], [v or 0.0 for v in values], 0.36, color=color, label=name)
    ax.set_xticks([0.19, 1.19], ["val", "test"])
    ax.set_ylim(0, 1.05)
    ax.set_title(label(task), fontsize=9)
    ax.legend(fontsize=8)
    return to_data_uri(fig)
