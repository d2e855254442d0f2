"""The `helpers` module improvers import inside the sandbox (`from helpers import extract_code`)."""

from code_extraction import extract_code as _extract_one  # the host's extraction, shipped unchanged


def extract_code(responses):
    """The paper's helper: the largest fenced code block of each response (a list in, a list
    out; a single string in, a string out). A response without code gives an empty program."""
    if isinstance(responses, str):
        return _extract_one(responses) or ""
    return [_extract_one(r) or "" for r in responses]
