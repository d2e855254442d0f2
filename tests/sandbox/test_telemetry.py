from __future__ import annotations

import signal

import pytest

from selftaught.sandbox import telemetry


@pytest.mark.parametrize("source, flag", [
    ("import ctypes", "ctypes"),
    ("import os\nos._exit(0)", "os_exit"),
    ("import sys\nsys._getframe(1).f_back", "frame_walk"),
    ("import subprocess", "subprocess"),
    ("import os\nos.system('ls')", "subprocess"),
    ("run(use_sandbox=False)", "disable_sandbox"),
    ("language_model.budget = 100", "touches_budget"),
    ("setattr(utility, 'budget', 9)", "touches_budget"),
    ("lm = LanguageModel(budget=100)", "constructs_language_model"),
    ("lm = type(language_model)()", "constructs_language_model"),
    ("utility.__call__ = f", "patches_proxy"),
    ("open('/etc/passwd')", "host_paths"),
    ("exec('x')", "dynamic_code"),
    ("().__class__.__base__.__subclasses__()", "introspection_escape"),
])
def test_flags(source, flag):
    assert flag in telemetry.scan(source)


def test_plain_program_has_no_flags():
    assert telemetry.scan("import numpy as np\ndef f(x):\n    return np.sum(x)\n") == ()


def test_unparsable_program():
    assert telemetry.scan("def (:") == ("unparsable",)
    assert telemetry.scan("x = 1\x00") == ("unparsable",)


def _signaled(sig: int) -> int:
    return int(sig)  # a wait status for "killed by sig" (no core dump)


def test_describe_exit():
    assert telemetry.describe_exit(_signaled(signal.SIGSYS))[0] == "blocked"
    assert telemetry.describe_exit(_signaled(signal.SIGXCPU))[0] == "timeout"
    status, text = telemetry.describe_exit(_signaled(signal.SIGSEGV))
    assert status == "crash" and "SIGSEGV" in text
    assert telemetry.describe_exit(0) == ("crash", "exited with code 0 without returning a result")
    assert telemetry.describe_exit(3 << 8)[1].startswith("exited with code 3")
