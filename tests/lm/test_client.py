"""Cache and budget semantics of the client, through the same path real backends use."""

import json

import pytest

from selftaught.errors import BudgetExceeded, CacheMiss, ConfigError, EngineError
from selftaught.lm.budget import Budget
from selftaught.lm.cache import CacheMode

from .conftest import CountingBackend, SingleRequestBackend


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


def test_clients_on_one_stream_share_samples_common_random_numbers(make_client, backend):
    """Two improver runs on the same stream that send the same requests get the same samples
    (each client numbers its own requests), drawn once; another stream gets its own."""
    lm = make_client(budget=Budget(max_calls=2, max_responses_per_call=2))
    run_a, run_b = lm.with_fresh_budget(stream="task/0"), lm.with_fresh_budget(stream="task/0")
    first = run_a.batch_prompt("e", ["a", "a"]) + run_a.batch_prompt("e", ["a"])
    assert first == ["sample 0 for a", "sample 1 for a", "sample 2 for a"]
    assert run_b.batch_prompt("e", ["a", "a"]) + run_b.batch_prompt("e", ["a"]) == first
    assert len(backend.requests) == 3  # each sample drawn once (this backend has no n)
    assert lm.with_fresh_budget(stream="task/1").batch_prompt("e", ["a"]) == ["sample 3 for a"]


def test_concurrent_clients_on_one_stream_draw_each_sample_once(make_client):
    import threading
    import time

    from .conftest import CountingBackend

    class Slow(CountingBackend):
        def complete(self, messages, sampling):
            time.sleep(0.2)
            return super().complete(messages, sampling)

    slow = Slow()
    lm = make_client(be=slow, budget=Budget(max_calls=1, max_responses_per_call=3))
    got: list[list[str]] = []
    threads = [threading.Thread(target=lambda: got.append(
        lm.with_fresh_budget(stream="s").batch_prompt("e", ["a", "a", "a"]))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(slow.requests) == 3 and all(g == got[0] for g in got) and len(set(got[0])) == 3


def test_every_call_is_accounted(make_client, tmp_path):
    lm = make_client()
    lm.batch_prompt("e", ["a", "b"], temperature=0.2)
    make_client().with_fresh_budget(stream="seed").with_fresh_budget(stream="parity/3").batch_prompt("e", ["a", "c"])
    lines = [json.loads(l) for l in (tmp_path / "usage.jsonl").read_text().splitlines()]
    assert [(l["n_responses"], l["n_cached"]) for l in lines] == [(2, 0), (2, 0)]
    assert [l["stream"] for l in lines] == ["", "seed/parity/3"]  # whose calls they were, for per-task usage
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


# One request with n per group of identical messages -------------------------------------

def test_identical_messages_go_out_as_one_request_with_n(make_client, backend):
    out = make_client().batch_prompt("e", ["a", "b", "a", "a"])
    assert sorted(backend.batches) == [("a", 3), ("b", 1)]
    assert len(set(out)) == 4 and out[1].endswith("for b")


def test_a_partial_cache_hit_asks_only_for_the_missing_samples(make_client, backend):
    first = make_client().batch_prompt("e", ["a", "a"])
    again = make_client().batch_prompt("e", ["a", "a", "a", "a"])
    assert backend.batches == [("a", 2), ("a", 2)]
    assert again[:2] == first and len(set(again)) == 4


def test_the_kth_sample_of_a_request_with_n_replays_as_the_kth(make_client, backend):
    run = make_client()
    first = run.batch_prompt("e", ["a", "a"]) + run.batch_prompt("e", ["a"])
    replay = make_client(CacheMode.REPLAY, be=CountingBackend())
    assert replay.batch_prompt("e", ["a", "a"]) + replay.batch_prompt("e", ["a"]) == first
    assert replay.backend.batches == [] and len(set(first)) == 3


def test_a_backend_without_complete_n_gets_separate_requests(make_client):
    single = SingleRequestBackend()
    out = make_client(be=single).batch_prompt("e", ["a"] * 3)
    assert len(single.requests) == 3 and single.batches == [] and len(set(out)) == 3


def test_prompt_tokens_of_a_request_with_n_are_counted_once(make_client, tmp_path):
    make_client().batch_prompt("e", ["a", "a", "a", "b"])
    (line,) = [json.loads(l) for l in (tmp_path / "usage.jsonl").read_text().splitlines()]
    assert (line["prompt_tokens"], line["completion_tokens"]) == (3 + 3, 4 * 5)


def test_a_backend_returning_the_wrong_number_of_samples_is_an_error(make_client):
    class Short(CountingBackend):
        def complete_n(self, messages, sampling, n):
            return super().complete_n(messages, sampling, n)[:-1]

    with pytest.raises(EngineError, match="returned 1 samples for 2"):
        make_client(be=Short()).batch_prompt("e", ["a", "a"])


def test_cancel_stops_a_request_in_flight_and_every_later_call(make_client):
    import threading

    from selftaught.errors import Cancelled

    from .conftest import StallingBackend

    stalling = StallingBackend()
    lm = make_client(be=stalling)
    raised: list[BaseException] = []
    caller = threading.Thread(target=lambda: raised.extend(_raises(lambda: lm.batch_prompt("e", ["m", "m"]))))
    caller.start()
    assert stalling.started.wait(10)
    lm.cancel()
    caller.join(10)
    assert stalling.stopped.is_set() and [type(e) for e in raised] == [Cancelled]
    calls = lm.budget.calls_used
    with pytest.raises(Cancelled):
        lm.batch_prompt("e", ["m"])
    assert lm.budget.calls_used == calls  # refused before it is charged
    # the claimed samples were released: another run of the same stream draws them itself
    again = make_client(be=CountingBackend(model=stalling.model))
    assert len(again.batch_prompt("e", ["m", "m"])) == 2


def _raises(fn) -> list[BaseException]:
    try:
        fn()
    except BaseException as exc:  # noqa: BLE001 - the test inspects it
        return [exc]
    return []


def test_a_cancelled_draw_another_run_waits_for_is_drawn_again_not_failed(tmp_path):
    """Common random numbers: runs of two improvers on the same (task, index) share samples. If
    one run ends while drawing, the other must still get its samples, not a Cancelled."""
    import threading
    import time

    from .conftest import StallingBackend

    from selftaught.lm.cache import ResponseCache
    from selftaught.lm.client import LanguageModelClient
    from selftaught.lm.usage import UsageLog

    stalling, cache = StallingBackend(), ResponseCache(tmp_path / "cache.sqlite", CacheMode.READWRITE)
    ending, waiting = (LanguageModelClient(be, cache, UsageLog(None), Budget(4, 6), 32)  # one cache, as in a run
                       for be in (stalling, CountingBackend()))
    threading.Thread(target=lambda: _raises(lambda: ending.batch_prompt("e", ["m", "m"]))).start()
    assert stalling.started.wait(10)
    got: list = []
    other = threading.Thread(target=lambda: got.extend(waiting.batch_prompt("e", ["m", "m"])))
    other.start()
    time.sleep(0.3)  # it now waits for the draw the first client claimed
    assert not got
    ending.cancel()
    other.join(10)
    assert len(got) == 2 and all(text.startswith("sample ") for text in got)
    assert waiting.budget.calls_used == 1
