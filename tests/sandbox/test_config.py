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
    assert config.unsafe is False and config.python == "/usr/bin/python3.11"
