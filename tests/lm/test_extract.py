from hypothesis import given
from hypothesis import strategies as st

from selftaught.lm.extract import code_blocks, extract_code

# Lines that cannot be mistaken for a fence, and without quotes: a fence inside a string
# literal legitimately joins blocks (see test_fences_inside_a_string_literal).
line = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="'\"\\"),
               max_size=40).filter(lambda s: not s.lstrip().startswith(("```", "~~~")))
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


IMPROVER = '''def improve_algorithm(initial_solution, utility, language_model):
    message = f"""Improve the following solution:
```python
{initial_solution}
```
Score function:
```python
{utility.str}
```
"""
    return language_model.batch_prompt("expert", [message])[0]'''


def test_fences_inside_a_string_literal_stay_in_the_code():
    response = f"Idea: keep it simple.\n```python\n{IMPROVER}\n```\nThat is all."
    assert extract_code(response) == IMPROVER
    assert extract_code(f"```python\n{IMPROVER}") == IMPROVER  # cut off by max_tokens


def test_separate_blocks_that_each_parse_are_not_merged():
    text = "First:\n```python\nx = 1\n```\nThen:\n```python\ny = 2\nz = 3\n```\n"
    assert code_blocks(text) == ["x = 1", "y = 2\nz = 3"]
