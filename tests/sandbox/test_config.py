from __future__ import annotations

import dataclasses

import pytest

from selftaught.errors import ConfigError
from selftaught.sandbox import SandboxConfig


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SandboxConfig().slots = 9


@pytest.mark.parametrize("changes", [{"slots": 0}, {"recycle_after": 0}])
def test_config_validates(changes):
    with pytest.raises(ConfigError):
        SandboxConfig(**changes)


def test_defaults_use_system_python_and_isolation():
    config = SandboxConfig()
    # the system interpreter of the host's Python version (the sandbox never sees the venv)
    import os
    import sys

    assert config.unsafe is False and config.python == f"/usr/bin/python{sys.version_info[0]}.{sys.version_info[1]}"
    assert os.access(config.python, os.X_OK)
