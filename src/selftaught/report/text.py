"""Untrusted text made safe to show: LM-written code, diagnostics and outputs can hold
anything, from `</script>` to terminal escape sequences and lone surrogates.

`clean` makes every invisible or dangerous code point visible as an escape (ESC becomes the
four characters `\\x1b`); HTML escaping is then jinja2's autoescape (or pygments') job.
"""

from __future__ import annotations

import re

from markupsafe import Markup

# C0 controls but tab and newline, DEL, C1 controls, line/paragraph separators, bidi
# overrides and isolates (which reorder what a reader sees), BOM, and lone surrogates.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
MAX_CHARS = 60_000  # of one program or diff shown on the page


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: object, limit: int | None = None) -> str:
    """Printable text: invisible and dangerous code points as escapes, CRLF as LF, cut at `limit`."""
    text = str(text).replace("\r\n", "\n")
    if limit is not None and len(text) > limit:
        text = text[:limit] + f"\n... ({len(text) - limit:,} more characters not shown)\n"
    return _INVISIBLE.sub(_visible, text)


def highlight(code: str, language: str = "python") -> Markup:
    """Code as highlighted HTML (pygments escapes it); `language` is python or diff."""
    from pygments import highlight as render
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import DiffLexer, PythonLexer

    lexer = DiffLexer() if language == "diff" else PythonLexer()
    html = render(clean(code, MAX_CHARS), lexer, HtmlFormatter(cssclass="code", wrapcode=True))
    return Markup(html)


def highlight_css() -> str:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(style="default").get_style_defs(".code")
