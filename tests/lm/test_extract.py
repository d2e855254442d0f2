from hypothesis import given
from hypothesis import strategies as st

from selftaught.lm.extract import code_blocks, extract_code

# Lines that cannot be mistaken for a fence.
line = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=40).filter(
    lambda s: not s.lstrip().startswith(("```", "~~~"))
)
body = st.lists(line, min_size=1, max_size=12).map("\n".join).filter(lambda s: s.strip())
prose = st.lists(line, max_size=4).map("\n".join)


@given(prose, body, prose, st.sampled_from(["python", "py", ""]))
def test_one_block_in_prose_is_extracted_exactly(before, code, after, lang):
    text = f"{before}\n```{lang}\n{code}\n```\n{after}"
    assert extract_code(text) == code.rstrip("\n")


@given(prose, body)
def test_an_unterminated_fence_yields_the_code_so_far(before, code):
    assert extract_code(f"{before}\n```python\n{code}") == code.rstrip("\n")


@given(st.lists(body, min_size=2, max_size=4), prose)
def test_the_largest_block_wins(codes, between):
    text = "".join(f"```python\n{c}\n```\n{between}\n" for c in codes)
    assert extract_code(text) == max((c.rstrip("\n") for c in codes), key=len)


@given(prose)
def test_prose_without_code_gives_none(text):
    assert extract_code(text) is None


def test_a_longer_closing_fence_and_inner_backticks():
    text = "Idea: memoize.\n````python\ndef f():\n    return '```'\n````\nDone."
    assert extract_code(text) == "def f():\n    return '```'"


def test_empty_blocks_are_ignored():
    assert extract_code("```\n```\ntext") is None
    assert code_blocks("```\n```") == [""]


def test_tilde_fences():
    assert extract_code("~~~python\nx = 1\n~~~") == "x = 1"
