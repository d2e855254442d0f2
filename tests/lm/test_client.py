"""Cache and budget semantics of the client, through the same path real backends use."""

import json

import pytest

from selftaught.errors import BudgetExceeded, CacheMiss, ConfigError
from selftaught.lm.budget import Budget
from selftaught.lm.cache import CacheMode

from .conftest import CountingBackend


def test_identical_messages_in_a_batch_get_different_samples(make_client, backend):
    lm = make_client()
    out = lm.batch_prompt("expert", ["same"] * 4)
    assert len(set(out)) == 4
    assert len(backend.requests) == 4
    assert backend.requests[0][0] == {"role": "system", "content": "expert"}


def test_prompt_with_n_responses_equals_a_batch_of_n(make_client):
    assert len(set(make_client().prompt("e", "m", n_responses=3))) == 3


def test_a_rerun_replays_the_kth_sample_for_the_kth_request(make_client, backend):
    run = make_client()
    first = run.batch_prompt("e", ["a", "a", "b"]) + run.batch_prompt("e", ["a"])
    # A new client is a new run: occurrence counters start again at 0.
    rerun_backend = CountingBackend()
    lm = make_client(CacheMode.REPLAY, be=rerun_backend)
    again = lm.batch_prompt("e", ["a", "a", "b"]) + lm.batch_prompt("e", ["a"])
    assert rerun_backend.requests == []
    assert again == first
    assert len({again[0], again[1], again[3]}) == 3


def test_readwrite_records_only_what_is_missing(make_client, backend):
    make_client().batch_prompt("e", ["a", "a"])
    lm = make_client()
    out = lm.batch_prompt("e", ["a", "a", "a"])
    assert len(backend.requests) == 3  # 2 recorded + 1 new
    assert len(set(out)) == 3


def test_replay_miss_is_an_error_naming_the_request(make_client):
    make_client().batch_prompt("e", ["a"])
    lm = make_client(CacheMode.REPLAY)
    lm.batch_prompt("e", ["a"])
    with pytest.raises(CacheMiss, match="no sample #1 .*user message 'a'"):
        lm.batch_prompt("e", ["a"])


def test_cache_off_always_asks_the_backend(make_client, backend):
    lm = make_client(CacheMode.OFF)
    lm.batch_prompt("e", ["a"])
    make_client(CacheMode.OFF).batch_prompt("e", ["a"])
    assert len(backend.requests) == 2


def test_budget_counts_calls_including_cached_ones(make_client):
    make_client().batch_prompt("e", ["a"])
    lm = make_client(budget=Budget(max_calls=1, max_responses_per_call=2))
    lm.batch_prompt("e", ["a"])  # served from cache, still a call
    with pytest.raises(BudgetExceeded, match="call budget of 1"):
        lm.batch_prompt("e", ["a"])


def test_fresh_budget_shares_cache_numbering(make_client, backend):
    lm = make_client(budget=Budget(max_calls=1, max_responses_per_call=1))
    first = lm.batch_prompt("e", ["a"])
    second = lm.with_fresh_budget().batch_prompt("e", ["a"])
    assert first != second


def test_every_call_is_accounted(make_client, tmp_path):
    lm = make_client()
    lm.batch_prompt("e", ["a", "b"], temperature=0.2)
    make_client().batch_prompt("e", ["a", "c"])
    lines = [json.loads(l) for l in (tmp_path / "usage.jsonl").read_text().splitlines()]
    assert [(l["n_responses"], l["n_cached"]) for l in lines] == [(2, 0), (2, 0)]
    assert lines[0]["temperature"] == 0.2 and lines[0]["completion_tokens"] == 10
    assert lines[0]["model"] == "counting-model" and lines[0]["latency_s"] >= 0


@pytest.mark.parametrize("temperature", [-0.1, 2.5])
def test_temperature_out_of_range_is_refused(make_client, temperature):
    with pytest.raises(ConfigError, match="temperature"):
        make_client().batch_prompt("e", ["a"], temperature=temperature)


def test_a_single_string_is_one_message(make_client):
    assert len(make_client().batch_prompt("e", "just one")) == 1


def test_streams_are_independent_sample_sequences(make_client, backend):
    lm = make_client()
    a = lm.with_fresh_budget(stream="run-a").batch_prompt("e", ["m"])
    b = lm.with_fresh_budget(stream="run-b").batch_prompt("e", ["m"])
    assert a != b
    # Replaying only stream b (as a resumed run that skips finished run a would) gets b's sample.
    replay = make_client(CacheMode.REPLAY, be=CountingBackend())
    assert replay.with_fresh_budget(stream="run-b").batch_prompt("e", ["m"]) == b


def test_a_huge_n_responses_is_refused_before_anything_is_built(make_client):
    with pytest.raises(BudgetExceeded, match="at most 6 responses per call"):
        make_client().prompt("e", "m", n_responses=10**12)


def test_streams_nest_so_each_run_has_its_own_samples(make_client):
    lm = make_client()
    run_a, run_b = lm.with_fresh_budget(stream="seed-a"), lm.with_fresh_budget(stream="seed-b")
    assert run_a.with_fresh_budget(stream="improver/lpn/0").stream == "seed-a/improver/lpn/0"
    assert run_a.with_fresh_budget(stream="x").batch_prompt("e", ["m"]) != \
        run_b.with_fresh_budget(stream="x").batch_prompt("e", ["m"])
