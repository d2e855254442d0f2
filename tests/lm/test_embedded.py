"""Model assembly, on a tiny model made of fake part packages (the real one is 1.1 GB)."""

import hashlib
import os
import sys

import pytest

from selftaught.errors import EngineError
from selftaught.lm.local import embedded
from selftaught.lm.local.embedded import EmbeddedModel, ensure_model, part_paths, verify_model

PARTS = [b"GGUF" + bytes(range(200)), b"tail" * 100, b"x"]


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """Install 3 importable part packages and point the user cache at tmp_path."""
    prefix = f"tiny_model_part_{tmp_path.name.replace('-', '_')}_"
    for i, data in enumerate(PARTS, start=1):
        pkg = tmp_path / "site" / f"{prefix}{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setenv("SELFTAUGHT_CACHE_DIR", str(tmp_path / "cache"))
    whole = b"".join(PARTS)
    yield EmbeddedModel("tiny", 3, len(whole), hashlib.sha256(whole).hexdigest(), "0.1", prefix)
    for i in range(1, 4):
        sys.modules.pop(f"{prefix}{i}", None)


def test_parts_are_joined_in_order_and_verified(tiny):
    seen = []
    path = ensure_model(tiny, progress=lambda done, total: seen.append((done, total)))
    assert path.read_bytes() == b"".join(PARTS)
    assert seen[-1] == (tiny.size, tiny.size)
    assert path.parent == embedded.cache_dir() / "models"


def test_a_verified_model_is_not_rebuilt(tiny):
    first = ensure_model(tiny)
    mtime = first.stat().st_mtime_ns
    assert ensure_model(tiny).stat().st_mtime_ns == mtime


def test_a_hash_mismatch_is_refused_and_leaves_nothing(tiny):
    wrong = EmbeddedModel("tiny", 3, tiny.size, "0" * 64, "0.1", tiny.package_prefix)
    with pytest.raises(EngineError, match="expected 0000") as info:
        ensure_model(wrong)
    assert "force-reinstall" in info.value.fix
    assert list((embedded.cache_dir() / "models").iterdir()) == []


def test_corruption_after_assembly_is_caught_by_verify(tiny):
    path = ensure_model(tiny)
    stat = path.stat()
    data = bytearray(path.read_bytes())
    data[5] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # bit rot: size and mtime unchanged
    with pytest.raises(EngineError, match="hash to sha256"):
        verify_model(tiny)
    assert ensure_model(tiny).read_bytes() == b"".join(PARTS)  # rebuilt from parts


def test_missing_parts_are_named_with_the_install_command(tiny):
    absent = EmbeddedModel("tiny", 5, 1, "0" * 64, "0.1", tiny.package_prefix)
    with pytest.raises(EngineError) as info:
        part_paths(absent)
    assert info.value.problem.endswith("-4, " + tiny.package_prefix.replace("_", "-") + "5")
    assert "pip install 'selftaught[embedded]'" in info.value.fix
