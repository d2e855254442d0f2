"""Content addresses for programs: the same text always gets the same id."""

import hashlib


def program_id(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:16]
