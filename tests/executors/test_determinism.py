"""The serial and the local executor give every unit the same samples and the same result
(each improver run's LM client counts its own identical requests, lm/client.py), and two
improvers that send the same requests on the same stream get the same samples (common random
numbers): the variant improver costs no new samples."""

from __future__ import annotations

import pytest

from selftaught.executors import LocalExecutor, SerialExecutor
from selftaught.work import open_pools
from selftaught.lm.backends.replay import ReplayBackend
from selftaught.lm.cache import CacheMode

from tests.executors.jobs import PROGRAMS, ScriptedModel, results, run_job, session


@pytest.fixture(scope="module")
def pools():
    with open_pools(improver_slots=3, program_slots=2) as pools:
        yield pools


def test_serial_and_local_give_the_same_results_and_common_random_numbers(tmp_path, pools):
    cache = tmp_path / "cache.sqlite"
    model = ScriptedModel()
    recorded = session(tmp_path / "serial", pools, SerialExecutor(), model, cache, CacheMode.READWRITE)
    runs = run_job(recorded)  # seed@0, variant@0, seed@1, variant@1
    assert [r["status"] for r in runs] == ["ok"] * 4
    # one request of 2 samples per stream: the variant replays the seed's samples (no new ones)
    assert model.answered == 4
    assert runs[0]["solution"] == runs[1]["solution"] and runs[2]["solution"] == runs[3]["solution"]
    assert (runs[0]["val"], runs[2]["val"]) == (runs[1]["val"], runs[3]["val"])
    # index 0 chose between answers 0 and 1, index 1 between answers 2 and 3
    assert runs[0]["solution_source"] in (PROGRAMS[0].strip(), PROGRAMS[1].strip())
    assert runs[2]["solution_source"] in (PROGRAMS[2].strip(), PROGRAMS[3].strip())

    local = LocalExecutor(2)
    try:
        replayed = session(tmp_path / "local", pools, local, ReplayBackend("scripted"), cache, CacheMode.REPLAY)
        again = run_job(replayed)
        assert results(replayed) == results(recorded)
        assert [r["key"] for r in again] == [r["key"] for r in runs]
    finally:
        local.close()
