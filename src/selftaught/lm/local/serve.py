"""The prebuilt engine: llama.cpp's own server from the `xllamacpp` wheel, in a process of its own.

    python -m selftaught.lm.local.serve --model M.gguf --port 8080 --parallel 6 --ctx-size 24576

It takes the subset of `llama-server`'s flags that `server.py` passes, so both engines start from
one command line and serve the same OpenAI-compatible HTTP (`/health`, `/v1/chat/completions`
with `n`, `/slots`). The engine runs in this child process, not in the run's: a crash in its
C++ code (an unbacked CPU path, say) kills this process only, and the run reports it and falls
back (`engines.py`). It stops on SIGTERM/SIGINT, which `server.py` sends, and PDEATHSIG sends
when the run itself dies.

The wheel is built for AVX2 without `-march=native`, so it does not trust CPU flags that a
hypervisor advertises but does not back (AMX on some cloud VMs): that is why it is the default.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Sequence

# llama.cpp's names for the speculative kinds that speculative.py asks for.
_SPEC_TYPES = {"none": "COMMON_SPECULATIVE_TYPE_NONE", "ngram-simple": "COMMON_SPECULATIVE_TYPE_NGRAM_SIMPLE",
               "ngram-mod": "COMMON_SPECULATIVE_TYPE_NGRAM_MOD", "ngram-map-k": "COMMON_SPECULATIVE_TYPE_NGRAM_MAP_K",
               "ngram-cache": "COMMON_SPECULATIVE_TYPE_NGRAM_CACHE", "draft-simple": "COMMON_SPECULATIVE_TYPE_DRAFT_SIMPLE"}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m selftaught.lm.local.serve", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="the GGUF file to serve")
    p.add_argument("--alias", default="local", help="the model name requests use")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--parallel", type=int, default=1, help="server slots (concurrent sequences)")
    p.add_argument("--ctx-size", type=int, default=0, help="context tokens, shared out over the slots")
    p.add_argument("--threads", type=int, default=-1, help="decoding threads [default: llama.cpp's]")
    p.add_argument("--api-key", default=None, help="require this key")
    p.add_argument("--no-webui", action="store_true", help="accepted for llama-server parity; always off")
    p.add_argument("--no-repack", action="store_true", help="keep weights as stored (no CPU-specific repacking)")
    p.add_argument("--spec-type", choices=sorted(_SPEC_TYPES), default="none")
    p.add_argument("--spec-draft-model", default=None, help="the draft model for --spec-type draft-simple")
    return p


def params(argv: Sequence[str]):
    """xllamacpp's CommonParams for llama-server-style flags."""
    import xllamacpp

    args = parser().parse_args(argv)
    p = xllamacpp.CommonParams()
    p.model.path = args.model
    p.model_alias = {args.alias}
    p.hostnames = [args.host]
    p.port = args.port
    p.n_parallel = args.parallel
    p.n_ctx = args.ctx_size
    p.ui = False
    p.no_extra_bufts = args.no_repack  # what llama-server's --no-repack sets
    if args.threads > 0:
        p.cpuparams.n_threads = args.threads
        p.cpuparams_batch.n_threads = args.threads
    if args.api_key:
        p.api_keys = [args.api_key]
    p.speculative.types = [getattr(xllamacpp.common_speculative_type, _SPEC_TYPES[args.spec_type])]
    if args.spec_draft_model:
        p.speculative.draft.mparams.path = args.spec_draft_model
    return p


def start(argv: Sequence[str]):
    """Load the model and start serving (llama.cpp's HTTP threads); returns once it listens."""
    import xllamacpp

    # The kernels this build may use, in the log as llama-server writes it (server.system_info).
    print(f"system_info: {xllamacpp.get_system_info()}", file=sys.stderr, flush=True)
    return xllamacpp.Server(params(argv))


def version() -> str:
    import xllamacpp

    return f"xllamacpp {xllamacpp.__version__}"


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:
        print(f"version: {version()}")
        return
    try:
        server = start(argv)
    except Exception as exc:  # a bad model file: the parent reads the exit code and this line
        print(f"error: the prebuilt engine could not load the model: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    # SIGTERM's default action ends the process at once; the server's threads die with it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        while True:
            signal.pause()
    finally:
        del server


if __name__ == "__main__":
    main()
