"""Untrusted text made safe to show: LM-written code, program output, diagnostics and strings
that improvers return can hold anything, from terminal escape sequences (clear the screen,
set the window title, rewrite the line with CR) to bidi overrides and lone surrogates.

`clean` makes every invisible or dangerous code point visible as an escape (ESC becomes the
four characters `\\x1b`). Every human-facing output uses it: the HTML report (then
autoescaped), and the terminal (`terminal`, which also escapes rich markup).
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, line/paragraph separators, lone
# surrogates, and every format character (Unicode category Cf: bidi overrides, isolates and
# marks that reorder what a reader sees, zero-width spaces and joiners, BOM, tag characters
# that spell hidden text), plus the invisible characters of other categories: Hangul fillers,
# variation selectors, the combining grapheme joiner and Khmer's invisible vowels.
# tests/test_textsafe.py checks the Cf list against unicodedata.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164"
    "\ud800-\udfff\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f\U000e0100-\U000e01ef]")
_LINE_BREAKS = re.compile("[\t\n]")


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


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
