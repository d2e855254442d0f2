"""Take the program out of an LM response: the largest fenced code block, as the paper does.

Line-based rather than one regex, so that an unterminated fence (a response cut off by
max_tokens) still yields the code written so far, and prose around blocks is ignored.

Fences can also appear *inside* code: an improver's prompt template holds ```python fences in
a string literal. So a block runs from its opening fence to the furthest closing fence (or
the end of the text) at which the code still parses as Python; a bare fence line never
parses outside a string, so separate blocks are not merged. Code that parses nowhere falls
back to the first closing fence.
"""

from __future__ import annotations

import ast
import re

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_MAX_CLOSERS = 32  # bounds the parse attempts per block


def _closes(line: str, opener: str) -> bool:
    match = _FENCE.match(line)
    if not match:
        return False
    fence = match.group(1)
    return fence[0] == opener[0] and len(fence) >= len(opener) and not line.strip()[len(fence):].strip()


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def code_blocks(text: str) -> list[str]:
    """All fenced blocks in order; an unterminated last block runs to the end of the text."""
    lines = text.splitlines()
    blocks: list[str] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        opener = match.group(1)
        closers = [j for j in range(i + 1, len(lines)) if _closes(lines[j], opener)][:_MAX_CLOSERS]
        ends = closers + [len(lines)]  # the text may also end inside the block
        end = next((j for j in reversed(ends) if _parses("\n".join(lines[i + 1 : j]))), ends[0])
        blocks.append("\n".join(lines[i + 1 : end]))
        i = end + 1
    return blocks


def extract_code(text: str) -> str | None:
    """The largest fenced block (first one wins a tie) without trailing newlines, or None when
    the response has no code."""
    blocks = [b.rstrip("\n") for b in code_blocks(text) if b.strip()]
    if not blocks:
        return None
    return max(blocks, key=len)
