"""Run untrusted, LM-written programs isolated (bwrap + seccomp + rlimits) and fast.

    from selftaught.sandbox import SandboxConfig, SandboxPool

    with SandboxPool(SandboxConfig(slots=2)) as pool:
        outcome = pool.call(program_text, "algorithm", [train, labels, test], time_limit_s=2.0)
        if outcome.ok:
            use(outcome.value)          # plain data: JSON types and numpy arrays only
        else:
            print(outcome.status, outcome.diagnostics)

Modules: host (SandboxPool: the trusted API), slot (one sandboxed fork-server) and
conversation (one run's frames with it), worker (the fork-server inside the sandbox, stdlib
only), child (the per-program child: module, then the timed call), syscall_filter (the
seccomp rules), protocol (frames and the value codec, shared by both sides), isolation
(bwrap argv, uids, prctl), telemetry (static flags, exit-status names), outcome, config.
Scoring a program on a task's instances is selftaught.utility.evaluate.
"""

from selftaught.sandbox.config import SandboxConfig
from selftaught.sandbox.host import SandboxPool
from selftaught.sandbox.outcome import Outcome, Telemetry

__all__ = ["Outcome", "SandboxConfig", "SandboxPool", "Telemetry"]
