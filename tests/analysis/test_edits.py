"""What a candidate changed against its parent (analysis/edits.py), on the knob-style seed that
experiment 4 starts from and on edits of the kinds the 1.5B model wrote in the issue's probe."""

import pytest

from selftaught.analysis.edits import ABSENT, describe
from selftaught.improvers import library_improver, library_names

KNOBS = library_improver("knobs")


def edited(old: str, new: str, source: str = KNOBS) -> str:
    assert source.count(old) == 1, old
    return source.replace(old, new)


@pytest.mark.parametrize("name", library_names())
def test_a_copy_changes_nothing(name):
    source = library_improver(name)
    assert describe(source, source).category == "nothing"


def test_comments_docstrings_and_formatting_are_not_changes():
    child = edited("CALLS = 1  # language-model calls", "CALLS = (1)  # more words here")
    child = edited('    scores = Scores(utility)\n', '    "a note to self"\n    scores  =  Scores(utility)\n', child)
    child = child.replace("keep_best with its knobs", "A rewritten docstring: beam search, genetic")
    edit = describe(KNOBS, "# a new comment\n" + child)
    assert edit.category == "nothing" and "nothing" in edit.summary()


def test_a_constant_is_a_knob():
    edit = describe(KNOBS, edited("CALLS = 1 ", "CALLS = 10 "))
    assert edit.category == "knob"
    assert [(c.name, c.old, c.new) for c in edit.knobs] == [("CALLS", "1", "10")]
    assert "CALLS 1 -> 10" in edit.summary()


def test_the_probe_s_three_knob_edit():
    child = edited("SAMPLES_PER_CALL = 12", "SAMPLES_PER_CALL = 10")
    child = edited("TEMPERATURE = 0.7", "TEMPERATURE = 0.5", child)
    child = edited("KEEP_INCUMBENT = True", "KEEP_INCUMBENT: bool = False", child)
    edit = describe(KNOBS, child)
    assert edit.category == "knob"
    assert {c.name: (c.old, c.new) for c in edit.knobs} == {
        "SAMPLES_PER_CALL": ("12", "10"), "TEMPERATURE": ("0.7", "0.5"), "KEEP_INCUMBENT": ("True", "False")}


def test_a_sentence_is_prompt_and_mixed_edits_name_both():
    sentence = "Be as creative as you can under the constraints."
    edit = describe(KNOBS, edited(sentence, "Keep the solution fast."))
    assert edit.category == "prompt" and [c.name for c in edit.prompt] == ["INSTRUCTION"]
    both = describe(KNOBS, edited(sentence, "Keep it fast.", edited("CALLS = 1 ", "CALLS = 2 ")))
    assert both.category == "knob+prompt"


def test_added_and_removed_constants():
    edit = describe(KNOBS, "BEAM_WIDTH = 5\n" + KNOBS)
    assert edit.category == "knob" and (edit.knobs[0].old, edit.knobs[0].new) == (ABSENT, "5")
    hints = describe(KNOBS, 'HINTS = ("Be fast.", "Be exact.")\n' + KNOBS)
    assert hints.category == "prompt" and "prompt: HINTS (added)" in hints.summary()
    gone = describe(KNOBS, KNOBS.replace("EXPERTISE = (", "_UNUSED = (").replace("EXPERTISE,", '"",'))
    assert "EXPERTISE (removed), _UNUSED (added)" in gone.summary()


def test_a_rewritten_loop_is_code():
    child = edited("    for _ in range(calls):", "    import random\n    for _ in range(calls + 1):")
    assert describe(KNOBS, child).category == "code"
    # A knob and a code change: both named.
    assert describe(KNOBS, edited("CALLS = 1 ", "CALLS = 3 ", child)).category == "knob+code"
    # A constant the code now uses in a new place is a code change, whatever its name.
    assert describe(KNOBS, edited("temperature=temperature", "temperature=TEMPERATURE")).category == "code"


def test_between_library_strategies():
    assert describe(library_improver("paper"), library_improver("keep_best")).category == "code"


@pytest.mark.parametrize("child, verdict", [
    ("def improve_algorithm(initial_solution, utility):\n    return initial_solution\n", "interface"),
    ("def improve(initial_solution, utility, language_model):\n    return initial_solution\n", "interface"),
    ("def improve_algorithm(a, b, c, d):\n    return a\n", "interface"),
    ("def improve_algorithm(a, b, c, *, beam):\n    return a\n", "interface"),
    ("async def improve_algorithm(a, b, c):\n    return a\n", "interface"),
    ("def improve_algorithm(a, b, c:\n", "unparsable"),
    ("x = (" * 300 + ")" * 300 + "\ndef improve_algorithm(a, b, c):\n    return a\n", "unparsable"),
])
def test_candidates_that_cannot_run(child, verdict):
    edit = describe(KNOBS, child)
    assert edit.category == verdict and edit.summary().startswith(verdict)


@pytest.mark.parametrize("child", [
    "def improve_algorithm(a, b, c, beam=5):\n    return a\n",
    "def improve_algorithm(*args):\n    return args[0]\n",
    "def improve_algorithm(a, b, c=None, /):\n    return a\n",
])
def test_signatures_that_still_take_three_arguments(child):
    edit = describe(KNOBS, child)
    assert edit.problem is None and edit.code  # it dropped KNOBS's constants too
    assert describe(child, child).category == "nothing"


def test_an_unparsable_parent_leaves_the_child_s_own_verdict():
    assert describe("def (", KNOBS).category == "code"
    assert describe("def (", "def (").category == "unparsable"


def test_odd_literals_do_not_break_it():
    child = "LIMIT = 1e999\nNAN = float('nan')\nRAW = b'x'\nEMPTY = ()\n" + KNOBS
    edit = describe(KNOBS, child)
    assert edit.category == "knob+code"  # NAN is a call, so code; the literals are knobs
    assert {c.name for c in edit.knobs} == {"LIMIT", "RAW", "EMPTY"}
    assert "LIMIT (absent) -> inf" in edit.summary()


@pytest.mark.parametrize("top", [
    "X = 0x" + "f" * 5000,  # an int too long to print: not shown as a knob, counted as code
    "print(0x" + "f" * 5000 + ")",  # the same inside code
    "X = " + "[" * 150 + "]" * 150,  # deep, still parses
    "X = 1" + "+1" * 500,  # a long expression: deep in the tree
])
def test_hostile_sources_give_a_verdict_not_an_exception(top):
    source = top + "\n" + KNOBS
    assert describe(KNOBS, source).category in ("knob", "code", "knob+code")
    assert describe(source, source).category == "nothing"


def test_a_source_too_deep_to_parse_is_unparsable():
    assert describe(KNOBS, "X = " + "-" * 100000 + "1\n" + KNOBS).category == "unparsable"
