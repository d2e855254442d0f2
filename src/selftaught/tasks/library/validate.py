"""Strict checks of a candidate's return value; every check returns None on anything odd.

Values reach the scorer decoded from the sandbox's wire format, so they are plain JSON
types or numpy arrays. Lenient coercion (`np.array(x).reshape(-1)`) is what let an
improver in the paper score "accuracy" over 1000%, so nothing here reshapes, rounds or
truncates: a value has exactly the documented shape and entries, or it is rejected.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def binary_vector(value: Any, length: int) -> np.ndarray | None:
    """`value` as an int array of 0/1 of shape (length,), or None.

    Accepts a numpy bool/int/float array, or a list/tuple of bools, ints and floats;
    every entry must be finite and equal to 0 or 1.
    """
    array = _numeric_array(value, allow_float=True)
    if array is None or array.shape != (length,):
        return None
    if not np.all(np.isfinite(array)) or not np.all((array == 0) | (array == 1)):
        return None
    return array.astype(np.int64)


def permutation(value: Any, n: int) -> np.ndarray | None:
    """`value` as an int array holding each of 0..n-1 exactly once, or None.

    Accepts a numpy integer array or a list/tuple of ints; bools and floats are
    rejected (a float 3.0 is not an index).
    """
    array = _numeric_array(value, allow_float=False)
    if array is None or array.shape != (n,) or array.dtype.kind == "b":
        return None
    if not np.array_equal(np.sort(array), np.arange(n)):
        return None
    return array.astype(np.int64)


def _numeric_array(value: Any, allow_float: bool) -> np.ndarray | None:
    kinds = "biuf" if allow_float else "biu"
    if isinstance(value, np.ndarray):
        return value if value.dtype.kind in kinds else None
    if type(value) not in (list, tuple):
        return None
    scalar_types = (bool, int, float) if allow_float else (bool, int)
    if not all(type(v) in scalar_types for v in value):
        return None
    if not allow_float and any(type(v) is bool for v in value):
        return None
    try:
        # int64 would overflow on huge Python ints; object arrays are never built
        return np.asarray(value, dtype=np.float64 if allow_float else np.int64)
    except OverflowError:
        return None
