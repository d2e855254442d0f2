"""Run untrusted, LM-written programs isolated (bwrap + seccomp + rlimits) and fast.

    from selftaught.sandbox import SandboxConfig, SandboxPool

    with SandboxPool(SandboxConfig(slots=2)) as pool:
        outcome = pool.call(program_text, "algorithm", [train, labels, test], time_limit_s=2.0)
        if outcome.ok:
            use(outcome.value)          # plain data: JSON types and numpy arrays only
        else:
            print(outcome.status, outcome.diagnostics)

Modules: host (SandboxPool: the trusted API), slot (one sandboxed fork-server and the
per-run conversation), worker (the runtime inside the sandbox, stdlib only), protocol
(frames and the value codec, shared by both sides), isolation (bwrap argv, uids, prctl),
telemetry (static flags, exit-status names), outcome, config, evaluate (`selftaught
evaluate`).
"""

from selftaught.sandbox.config import SandboxConfig
from selftaught.sandbox.host import SandboxPool
from selftaught.sandbox.outcome import Outcome, Telemetry

__all__ = ["Outcome", "SandboxConfig", "SandboxPool", "Telemetry"]
