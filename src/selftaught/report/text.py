"""Untrusted text made safe to show: LM-written code, diagnostics and outputs can hold
anything, from `</script>` to terminal escape sequences and lone surrogates.

`clean` (from selftaught.textsafe, shared with the terminal output) makes every invisible
or dangerous code point visible as an escape (ESC becomes the four characters `\\x1b`); HTML
escaping is then jinja2's autoescape (or pygments') job.
"""

from __future__ import annotations

from markupsafe import Markup

from selftaught.textsafe import clean  # noqa: F401  (the one sanitiser; re-exported)

MAX_CHARS = 60_000  # of one program or diff shown on the page


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
