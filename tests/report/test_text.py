from selftaught.report.text import clean, highlight


def test_invisible_and_reordering_characters_become_visible_escapes():
    assert clean("a\x1b[2Jb\x00c\x7f\x9b") == "a\\x1b[2Jb\\x00c\\x7f\\x9b"
    assert clean("evil\u202eexe.py\u2066") == "evil\\u202eexe.py\\u2066"
    assert clean("x\ud800y\r\nz\rw\tv\n") == "x\\ud800y\nz\\x0dw\tv\n"
    assert clean("<b>&</b>") == "<b>&</b>"  # HTML escaping is the template's job


def test_long_text_is_cut_with_a_note():
    assert clean("x" * 50, limit=10) == "x" * 10 + "\n... (40 more characters not shown)\n"


def test_highlighted_code_is_escaped():
    html = str(highlight('s = "</script><script>alert(1)</script>\x1b[31m"'))
    assert "<script>" not in html and "</script>" not in html
    assert "&lt;/script&gt;" in html and "\x1b" not in html and "\\x1b" in html
    assert str(highlight("-a\n+b\n", "diff")).count('class="gi"') == 1
