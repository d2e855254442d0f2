"""Untrusted text made safe to show: LM-written code, program output, diagnostics and strings
that improvers return can hold anything, from terminal escape sequences (clear the screen,
set the window title, rewrite the line with CR) to bidi overrides and lone surrogates.

`clean` makes every invisible or dangerous code point visible as an escape (ESC becomes the
four characters `\\x1b`). Every human-facing output uses it: the HTML report (then
autoescaped), and the terminal (`terminal`, which also escapes rich markup).
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, line/paragraph separators, bidi
# overrides and isolates (which reorder what a reader sees), BOM, and lone surrogates.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\t\n]")


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: object, limit: int | None = None) -> str:
    """Printable text: invisible and dangerous code points as escapes, CRLF as LF, cut at `limit`."""
    text = str(text).replace("\r\n", "\n")
    if limit is not None and len(text) > limit:
        text = text[:limit] + f"\n... ({len(text) - limit:,} more characters not shown)\n"
    return _INVISIBLE.sub(_visible, text)


def one_line(text: object, limit: int | None = None) -> str:
    """`clean`, and tabs and newlines escaped too: for a field of one line (a progress line, a
    table cell), which must not start a forged line of its own."""
    return _LINE_BREAKS.sub(_visible, clean(text, limit))


def terminal(text: object, limit: int | None = None, *, single_line: bool = False) -> str:
    """Untrusted text for rich's console: neutralised, then with its markup escaped."""
    from rich.markup import escape

    return escape(one_line(text, limit) if single_line else clean(text, limit))
