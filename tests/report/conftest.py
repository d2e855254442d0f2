"""Real headless Chromium for the page tests: Debian's `chromium` package, installed with
apt-get when missing and we are root; never a browser downloaded by a tool."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.report.chromium import find_chromium


def _apt(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["apt-get", *args], capture_output=True, text=True, timeout=900,
                          env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


@pytest.fixture(scope="session")
def chromium() -> str:
    pytest.importorskip("websocket", reason="websocket-client (a test dependency) drives Chromium over DevTools")
    found = find_chromium()
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("Chromium is missing and cannot be installed here (needs root and apt-get): "
                    "run `apt-get install -y chromium`")
    proc = _apt("install", "-y", "-q", "chromium")
    if proc.returncode != 0:  # stale package lists: refresh once and retry
        _apt("update", "-q")
        proc = _apt("install", "-y", "-q", "chromium")
    found = find_chromium()
    if not found:
        pytest.skip(f"`apt-get install -y chromium` failed: {(proc.stderr or proc.stdout)[-800:]}")
    return found
