

def extract_code(responses):
    """The paper's helper: the largest fenced code block of each response (a list in, a list
    out; a single string in, a string out). A response without code gives an empty program."""
    if isinstance(responses, str):
        return extract_code_from_text(responses) or ""  # noqa: F821 (defined by extract.py above)
    return [extract_code_from_text(r) or "" for r in responses]  # noqa: F821
