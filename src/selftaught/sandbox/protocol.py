"""Wire format between the host and the sandbox: length-prefixed JSON frames.

This module is also shipped *into* the sandbox as source text (the sandbox sees nothing of
the project), so it must stay stdlib-only; numpy is imported lazily and only when an
array is actually on the wire.

Values cross the boundary as plain JSON. numpy arrays are encoded explicitly as
``{"__ndarray__": <base64 bytes>, "dtype": "<f8", "shape": [..]}`` with a short list of
allowed dtypes; nothing is ever pickled, and the decoder only builds dict, list, str, int,
float, bool, None and ndarray.
"""

from __future__ import annotations

import base64
import json
import math
import struct
from typing import Any

HEADER = struct.Struct(">I")
# Dtypes an array may have on the wire; object/void/str dtypes could smuggle anything.
ALLOWED_DTYPES = frozenset(
    ["|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f4", "<f8"]
)
ARRAY_KEY = "__ndarray__"


class ProtocolError(Exception):
    """A frame or value that does not follow the wire format (treated as bad output)."""


# ---- values ----------------------------------------------------------------------------


def to_wire(value: Any, _depth: int = 0) -> Any:
    """Turn a Python value into JSON-ready data; raise ProtocolError on anything else.

    Only exact builtin types pass (``type(x) is int``), so a subclass with a rigged
    ``__eq__`` or ``__str__`` cannot sneak through.
    """
    if _depth > 100:
        raise ProtocolError("value is nested more than 100 levels deep")
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return value
    if kind in (list, tuple):
        return [to_wire(item, _depth + 1) for item in value]
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise ProtocolError(f"dict keys must be str, got {type(key).__name__}")
            out[key] = to_wire(item, _depth + 1)
        return out
    module = getattr(kind, "__module__", "")
    if module == "numpy" and kind.__name__ == "ndarray":
        return _array_to_wire(value)
    if module == "numpy" and hasattr(value, "item") and getattr(value, "shape", None) == ():
        # numpy scalar (np.float64, np.int64, np.bool_): its plain Python twin
        return to_wire(value.item(), _depth + 1)
    raise ProtocolError(f"cannot send a value of type {kind.__module__}.{kind.__qualname__}")


def _array_to_wire(array: Any) -> dict:
    import numpy as np  # only when an array is actually present

    array = np.ascontiguousarray(array)
    dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
    array = array.astype(dtype, copy=False)
    if dtype.str not in ALLOWED_DTYPES:
        raise ProtocolError(f"arrays of dtype {array.dtype} cannot be sent")
    return {
        ARRAY_KEY: base64.b64encode(array.tobytes()).decode("ascii"),
        "dtype": dtype.str,
        "shape": list(array.shape),
    }


def from_wire(data: Any, _depth: int = 0) -> Any:
    """Inverse of to_wire for data that came out of json.loads; checks every type."""
    if _depth > 100:
        raise ProtocolError("value is nested more than 100 levels deep")
    kind = type(data)
    if kind is str:
        return _text(data)
    if data is None or kind in (bool, int, float):
        return data
    if kind is list:
        return [from_wire(item, _depth + 1) for item in data]
    if kind is dict:
        if ARRAY_KEY in data:
            return _array_from_wire(data)
        return {_text(key): from_wire(item, _depth + 1) for key, item in data.items()}
    raise ProtocolError(f"unexpected {kind.__name__} in decoded data")


def _text(value: str) -> str:
    # JSON can spell lone surrogates ("\\ud800"); they are not text and break every UTF-8 write.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ProtocolError("a string holds a lone surrogate (not valid Unicode text)") from None
    return value


def _array_from_wire(data: dict) -> Any:
    if set(data) != {ARRAY_KEY, "dtype", "shape"}:
        raise ProtocolError("malformed array: keys must be __ndarray__, dtype, shape")
    dtype, shape, payload = data["dtype"], data["shape"], data[ARRAY_KEY]
    if dtype not in ALLOWED_DTYPES:
        raise ProtocolError(f"array dtype {dtype!r} is not allowed")
    if type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape):
        raise ProtocolError("array shape must be a list of non-negative ints")
    if len(shape) > 32 or type(payload) is not str:
        raise ProtocolError("malformed array")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (ValueError, TypeError) as exc:
        raise ProtocolError(f"array payload is not base64: {exc}") from None
    try:
        import numpy as np
    except ImportError:
        raise ProtocolError("an array arrived but numpy is not installed") from None
    itemsize = np.dtype(dtype).itemsize
    if len(raw) != math.prod(shape) * itemsize:
        raise ProtocolError("array payload size does not match its shape and dtype")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


# ---- frames ----------------------------------------------------------------------------


def encode_frame(message: dict, max_bytes: int) -> bytes:
    """JSON-encode an already wire-safe message and prefix its length."""
    body = json.dumps(message, separators=(",", ":"), allow_nan=True).encode("utf-8")
    if len(body) > max_bytes:
        raise ProtocolError(f"message of {len(body)} bytes exceeds the {max_bytes}-byte cap")
    return HEADER.pack(len(body)) + body


def decode_body(body: bytes) -> dict:
    """Parse one frame body; any parse failure is a ProtocolError, never a crash."""
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(f"frame is not valid JSON: {type(exc).__name__}") from None
    if type(message) is not dict:
        raise ProtocolError("frame must be a JSON object")
    return message


class FrameReader:
    """Incremental frame parser for a non-blocking byte stream with a size cap."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[dict]:
        return [frame for _size, frame in self.feed_sized(data)]

    def feed_sized(self, data: bytes) -> list[tuple[int, dict]]:
        """The complete frames so far, each with its size in bytes (checked before parsing)."""
        self._buffer += data
        frames = []
        while len(self._buffer) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._buffer)
            if size > self.max_bytes:
                raise ProtocolError(f"frame of {size} bytes exceeds the {self.max_bytes}-byte cap")
            if len(self._buffer) < HEADER.size + size:
                break
            body = bytes(self._buffer[HEADER.size : HEADER.size + size])
            del self._buffer[: HEADER.size + size]
            frames.append((size, decode_body(body)))
        return frames


def read_frame(fd: int, max_bytes: int) -> dict | None:
    """Blocking read of one frame from a file descriptor; None on clean EOF."""
    import os

    header = _read_exact(fd, HEADER.size, os)
    if header is None:
        return None  # EOF (a partial header counts as EOF: the peer is gone either way)
    (size,) = HEADER.unpack(header)
    if size > max_bytes:
        raise ProtocolError(f"frame of {size} bytes exceeds the {max_bytes}-byte cap")
    body = _read_exact(fd, size, os)
    if body is None:
        raise ProtocolError("stream ended inside a frame")
    return decode_body(body)


def _read_exact(fd: int, size: int, os: Any) -> bytes | None:
    """Read exactly `size` bytes; None if the stream ends first."""
    chunks, remaining = [], size
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def write_all(fd: int, data: bytes) -> None:
    import os

    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
