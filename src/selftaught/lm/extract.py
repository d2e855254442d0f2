"""Take the program out of an LM response: the largest fenced code block, as the paper does.

Line-based rather than one regex, so that an unterminated fence (a response cut off by
max_tokens) still yields the code written so far, and prose around blocks is ignored.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


def code_blocks(text: str) -> list[str]:
    """All fenced blocks in order; an unterminated last block runs to the end of the text."""
    blocks: list[str] = []
    current: list[str] | None = None
    opener = ""
    for line in text.splitlines():
        match = _FENCE.match(line)
        if current is None:
            if match:
                opener = match.group(1)
                current = []
        elif match and match.group(1)[0] == opener[0] and len(match.group(1)) >= len(opener) \
                and not line.strip()[len(match.group(1)):].strip():
            blocks.append("\n".join(current))
            current = None
        else:
            current.append(line)
    if current is not None:
        blocks.append("\n".join(current))
    return blocks


def extract_code(text: str) -> str | None:
    """The largest fenced block (first one wins a tie) without trailing newlines, or None when
    the response has no code."""
    blocks = [b.rstrip("\n") for b in code_blocks(text) if b.strip()]
    if not blocks:
        return None
    return max(blocks, key=len)
