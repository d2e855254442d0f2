from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from selftaught.sandbox import SandboxConfig, SandboxPool


def _pids_of_uid(uid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                status = Path("/proc", entry, "status").read_text()
            except OSError:
                continue
            if f"\nUid:\t{uid}\t" in status:
                pids.append(int(entry))
    return pids


def test_slot_starts_runs_and_stops_cleanly():
    pool = SandboxPool(SandboxConfig(slots=1))
    pool.start()
    slot = pool._all[0]
    process = slot.process
    assert slot.alive() and slot.hello["seccomp"] is True
    assert pool.call("def f():\n    return 1\n", "f").value == 1
    pool.close()
    assert process.poll() is not None and not slot.alive()
    if os.geteuid() == 0:  # every process of the slot's uid is gone (pid namespace torn down)
        time.sleep(0.1)
        assert _pids_of_uid(slot.identity.uid) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs a uid of its own per slot")
def test_frozen_fork_server_is_killed_and_replaced():
    with SandboxPool(SandboxConfig(slots=1, kill_grace_s=0.3)) as pool:
        slot = pool._all[0]
        first = slot.process.pid
        freezer = threading.Timer(0.2, lambda: [os.kill(p, signal.SIGSTOP) for p in _pids_of_uid(slot.identity.uid)])
        freezer.start()
        outcome = pool.call("import time\ndef f():\n    time.sleep(30)\n", "f", time_limit_s=0.5)
        freezer.join()
        assert outcome.status == "timeout"
        assert pool.call("def f():\n    return 'fresh'\n", "f").value == "fresh"
        assert slot.process.pid != first


def test_kill_on_timeout_leaves_the_fork_server_running():
    with SandboxPool(SandboxConfig(slots=1)) as pool:
        slot = pool._all[0]
        first = slot.process.pid
        assert pool.call("def f():\n    while True:\n        pass\n", "f", time_limit_s=0.3).status == "timeout"
        assert pool.call("def f():\n    return 2\n", "f").value == 2
        assert slot.process.pid == first  # the child was killed, not the whole sandbox
