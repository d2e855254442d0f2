"""The one sanitiser for untrusted text, and the terminal output that uses it."""

import io

import pytest
from rich.console import Console

from selftaught.textsafe import clean, one_line, terminal

# clear screen, OSC window title, BEL, CR (overwrite the line), C1 CSI, bidi override, a lone surrogate
ATTACKS = ["\x1b[2J\x1b[H", "\x1b]0;pwned\x07", "\x07", "ok\rFAKE", "\x9b2J", "\u202egnp.exe", "\ud800",
           "\x1bP+q\x1b\\", "\u2028fake line"]


@pytest.mark.parametrize("text", ATTACKS)
def test_nothing_invisible_survives(text):
    for shown in (clean(text), one_line(text), terminal(text), terminal(text, single_line=True)):
        assert not any(ord(c) < 0x20 and c not in "\n\t" or 0x7f <= ord(c) <= 0x9f or c in "\u202e\u2028\ud800"
                       for c in shown), repr(shown)
    assert clean("\x1b[2J") == "\\x1b[2J" and clean("\u202e") == "\\u202e"


def test_one_line_fields_cannot_forge_lines_and_markup_stays_text():
    assert one_line("a\nb\tc") == "a\\x0ab\\x09c"
    assert clean("a\r\nb") == "a\nb"  # CRLF is a line break, not an overwrite
    out = io.StringIO()
    Console(file=out, force_terminal=False, width=200).print(terminal("[bold red]x[/] \x1b[31m", single_line=True))
    assert out.getvalue() == "[bold red]x[/] \\x1b[31m\n"


def test_progress_lines_and_tables_neutralise_every_field():
    from rich.table import Table

    from selftaught.cli.render import describe, neutralised

    evil = "\x1b[2J\x1b]0;t\x07\rX\n[red]"
    events = [{"kind": "evaluation", "key": evil, "score": 0.5},
              {"kind": "improver_run", "key": evil, "status": evil, "val": 0, "test": 0, "lm_calls": 1,
               "utility_calls": 1, "wall_time_s": 1},
              {"kind": "meta_score", "improver": evil, "val": 0, "val_std": 0, "test": 0},
              {"kind": "iteration", "t": 1, "accepted": False, "reason": evil, "val": 0},
              {"kind": "transfer_row", "key": evil, "seed_program": 0, "improvers": {evil: 0.5}}]
    for event in events:
        out = io.StringIO()
        Console(file=out, force_terminal=True, width=500).print(describe(event), highlight=False)
        shown = out.getvalue()
        assert "\x1b[2J" not in shown and "\x1b]" not in shown and "\x07" not in shown and "\r" not in shown
        assert shown.count("\n") == 1, repr(shown)  # one line, whatever the fields held
    table = Table(title=evil)
    table.add_column("c")
    table.add_row(evil)
    out = io.StringIO()
    Console(file=out, force_terminal=False, width=500).print(neutralised(table))
    assert "\x1b" not in out.getvalue() and "\x07" not in out.getvalue() and "\\x1b[2J" in out.getvalue()


def test_every_format_and_control_character_is_made_visible():
    """The class, not a list of instances: every code point Unicode calls a control, format,
    surrogate or line/paragraph separator (tag characters, zero-width spaces and joiners, bidi
    marks, ...) comes out as an escape."""
    import unicodedata

    from selftaught.textsafe import clean

    hidden = [c for c in range(0x110000) if unicodedata.category(chr(c)) in ("Cc", "Cf", "Cs", "Zl", "Zp")
              and chr(c) not in "\t\n" and clean(chr(c)) == chr(c)]
    assert hidden == [], [hex(c) for c in hidden[:20]]


@pytest.mark.parametrize("char", ["\u3164", "\u115f", "\u1160", "\uffa0", "\ufe0f", "\U000e0100", "\u034f", "\u17b4"])
def test_invisible_characters_of_other_categories_are_made_visible(char):
    from selftaught.textsafe import clean

    escaped = f"\\u{ord(char):04x}" if ord(char) < 0x10000 else f"\\U{ord(char):08x}"
    assert clean(f"a{char}b") == f"a{escaped}b"
