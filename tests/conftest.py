"""Shared fixtures. The `embedded_server` is one real llama-server with the embedded model,
started once per test session (about 3 s) and stopped at the end."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def embedded_server():
    from selftaught.lm.local.embedded import ensure_model
    from selftaught.lm.local.server import LlamaServer, ServerConfig

    config = ServerConfig(model_path=ensure_model(), slots=6, ctx_per_slot=2048,
                          alias="qwen2.5-coder-1.5b-instruct-q4_k_m", api_key="test-key")
    with LlamaServer(config) as server:
        yield server


@pytest.fixture(autouse=True)
def _private_user_data(tmp_path_factory, monkeypatch):
    """Tests never touch the real ~/.local/share/selftaught (its instance secret above all);
    subprocesses inherit the variables."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.getbasetemp() / "xdg-data"))
    # ...nor the real record of which engine crashed on this machine (lm/local/engines.py).
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-state"))
