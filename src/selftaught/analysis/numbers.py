"""How a number is written with its spread: one place for the HTML report and the experiments'
Markdown tables, so that a figure reads the same wherever it is quoted."""

from __future__ import annotations

from selftaught.analysis.stats import Rate
from selftaught.stats import Interval


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def ci(i: Interval) -> str:
    """mean [lo, hi]; the mean alone when there is no interval."""
    note = _no_spread(i)
    return f"{i.mean:.3f}{note}" if note is not None else f"{i.mean:.3f} [{i.lo:.3f}, {i.hi:.3f}]"


def signed(i: Interval) -> str:
    """A difference: signed mean [lo, hi]; the mean alone when there is no interval."""
    note = _no_spread(i)
    return f"{i.mean:+.3f}{note}" if note is not None else f"{i.mean:+.3f} [{i.lo:+.3f}, {i.hi:+.3f}]"


def rate(r: Rate) -> str:
    """k/n with its 95% Wilson interval."""
    if r.n == 0:
        return "0/0"
    i = r.interval
    return f"{r.k}/{r.n} · {100 * i.mean:.1f}% (CI {100 * i.lo:.1f}-{100 * i.hi:.1f}%)"


def _no_spread(i: Interval) -> str | None:
    """Why an interval is not shown, or None when it is. One value has no interval, and values
    that all agree give a t interval of zero width, which would claim a certainty that a handful
    of runs cannot give."""
    if i.n < 2:
        return ""
    if i.hi - i.lo < 1e-12:
        return f" ({i.n} equal values)"
    return None
