from __future__ import annotations

import json

import pytest

from selftaught.sandbox import Outcome, Telemetry


def test_outcome_rejects_unknown_status():
    with pytest.raises(ValueError):
        Outcome(status="fine")


def test_outcome_json_summary():
    outcome = Outcome(status="blocked", wall_time_s=0.0012345678,
                      telemetry=Telemetry(static_flags=("ctypes",), blocked="SIGSYS"))
    data = outcome.to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["blocked"] == "SIGSYS" and data["static_flags"] == ["ctypes"] and "value" not in data
    assert Outcome(status="ok", value=1).to_json(include_value=True)["value"] == 1
    assert Outcome(status="ok").ok and not outcome.ok
