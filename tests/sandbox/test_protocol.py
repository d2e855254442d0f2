from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest

from selftaught.sandbox import protocol
from selftaught.sandbox.protocol import ProtocolError


def roundtrip(value):
    frame = protocol.encode_frame({"v": protocol.to_wire(value)}, 1 << 20)
    (message,) = protocol.FrameReader(1 << 20).feed(frame)
    return protocol.from_wire(message["v"])


def test_plain_values_roundtrip():
    value = {"a": [1, 2.5, None, True, "s"], "b": {"c": (1, 2)}}
    assert roundtrip(value) == {"a": [1, 2.5, None, True, "s"], "b": {"c": [1, 2]}}


@pytest.mark.parametrize("dtype", ["int64", "float32", "bool", "uint8", ">f8"])
def test_arrays_roundtrip_with_dtype_and_shape(dtype):
    array = np.arange(6).reshape(2, 3).astype(dtype)
    back = roundtrip(array)
    assert back.shape == (2, 3) and np.array_equal(back, array)
    assert back.flags.writeable


def test_numpy_scalars_become_python_values():
    assert roundtrip([np.float64(1.5), np.int64(3), np.bool_(True)]) == [1.5, 3, True]


@pytest.mark.parametrize("value", [object(), {1: 2}, np.array([object()]), np.array(["a"]), b"bytes",
                                   type("L", (list,), {})([1]), type("F", (float,), {})(1.0)])
def test_unsupported_values_are_refused(value):
    with pytest.raises(ProtocolError):
        protocol.to_wire(value)


def test_depth_is_capped():
    nested = []
    for _ in range(200):
        nested = [nested]
    with pytest.raises(ProtocolError):
        protocol.to_wire(nested)


@pytest.mark.parametrize("data", [
    {"__ndarray__": "AAAA", "dtype": "|O", "shape": [1]},
    {"__ndarray__": "AAAA", "dtype": "<i8", "shape": [5]},
    {"__ndarray__": "not base64!", "dtype": "|u1", "shape": [1]},
    {"__ndarray__": "AA==", "dtype": "|u1", "shape": [-1]},
    {"__ndarray__": "AA==", "dtype": "|u1", "shape": [1], "extra": 1},
])
def test_malformed_arrays_are_refused(data):
    with pytest.raises(ProtocolError):
        protocol.from_wire(data)


@pytest.mark.parametrize("body", [b"\xff", b"[1]", b"[" * 100000 + b"]" * 100000, b"1" * 5000,
                                  b'{"a": 1'])
def test_hostile_frame_bodies_are_protocol_errors(body):
    frame = struct.pack(">I", len(body)) + body
    with pytest.raises(ProtocolError):
        protocol.FrameReader(1 << 20).feed(frame)


def test_size_caps_apply_on_both_sides():
    with pytest.raises(ProtocolError):
        protocol.encode_frame({"x": "y" * 100}, 50)
    with pytest.raises(ProtocolError):
        protocol.FrameReader(50).feed(struct.pack(">I", 51))


def test_reader_handles_split_and_joined_frames():
    frames = protocol.encode_frame({"a": 1}, 100) + protocol.encode_frame({"b": 2}, 100)
    reader = protocol.FrameReader(100)
    assert reader.feed(frames[:3]) == []
    assert reader.feed(frames[3:]) == [{"a": 1}, {"b": 2}]


def test_read_frame_from_fd():
    r, w = os.pipe()
    protocol.write_all(w, protocol.encode_frame({"k": [1, 2]}, 100))
    os.close(w)
    assert protocol.read_frame(r, 100) == {"k": [1, 2]}
    assert protocol.read_frame(r, 100) is None
    os.close(r)


def test_nan_survives_as_data():
    frame = protocol.encode_frame({"v": float("nan")}, 100)
    assert json.dumps(protocol.FrameReader(100).feed(frame)[0]) == '{"v": NaN}'


def test_lone_surrogates_are_not_text():
    import pytest

    from selftaught.sandbox.protocol import ProtocolError, from_wire

    with pytest.raises(ProtocolError, match="lone surrogate"):
        from_wire(["fine", "\ud800"])
    with pytest.raises(ProtocolError, match="lone surrogate"):
        from_wire({"\udfff": 1})
    assert from_wire({"ok": "näive ✓"}) == {"ok": "näive ✓"}
