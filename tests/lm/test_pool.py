"""Several endpoints behind one client: two real llama.cpp servers (the prebuilt engine with the
embedded model) on 127.0.0.1. Requests spread over both; one killed mid-run costs retries, not
results; the cache and replay do not depend on which endpoint answered; budgets hold under
concurrency against two endpoints."""

from __future__ import annotations

import json
import logging
import threading

import pytest

from selftaught.errors import BudgetExceeded, EndpointError
from selftaught.lm.backends.openai_compat import EndpointConfig, OpenAIBackend
from selftaught.lm.backends.pool import EndpointPool
from selftaught.lm.backends.replay import ReplayBackend
from selftaught.lm.budget import Budget
from selftaught.lm.cache import CacheMode, ResponseCache
from selftaught.lm.client import LanguageModelClient
from selftaught.lm.usage import UsageLog

from .conftest import CountingBackend

MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m"


@pytest.fixture(scope="module")
def servers():
    from selftaught.lm.local.embedded import ensure_model
    from selftaught.lm.local.server import LlamaServer, ServerConfig

    started = [LlamaServer(ServerConfig(model_path=ensure_model(), slots=2, ctx_per_slot=512, alias=MODEL,
                                        threads=1)).start() for _ in range(2)]
    yield started
    for server in started:
        server.stop()


def pool_of(urls, **kw) -> EndpointPool:
    return EndpointPool([OpenAIBackend(EndpointConfig(base_url=u, model=MODEL, api_key="none", timeout_s=120,
                                                      max_retries=0)) for u in urls], **kw)


def client(backend, tmp_path, mode=CacheMode.READWRITE, budget=Budget(50, 4)) -> LanguageModelClient:
    return LanguageModelClient(backend, ResponseCache(tmp_path / "cache.sqlite", mode),
                               UsageLog(tmp_path / "usage.jsonl"), budget, max_tokens=6)


@pytest.mark.embedded
def test_requests_spread_over_both_endpoints_and_the_usage_log_names_them(servers, tmp_path):
    pool = pool_of([s.base_url for s in servers])
    lm = client(pool, tmp_path)
    threads = [threading.Thread(target=lm.batch_prompt, args=("Be terse.", [f"Say the number {i}."]))
               for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(pool.answered) == {s.base_url for s in servers} and sum(pool.answered.values()) == 4
    usage = [json.loads(line) for line in (tmp_path / "usage.jsonl").read_text().splitlines()]
    assert sorted(u for record in usage for u in record["endpoints"]) == sorted(
        url for url, n in pool.answered.items() for _ in range(n))
    lm.close()


@pytest.mark.embedded
def test_a_request_with_n_goes_to_one_endpoint_whole(servers, tmp_path):
    pool = pool_of([s.base_url for s in servers])
    lm = client(pool, tmp_path)
    lm.batch_prompt("Be creative.", ["Name a color."] * 2, temperature=1.0)
    (record,) = [json.loads(line) for line in (tmp_path / "usage.jsonl").read_text().splitlines()]
    assert list(record["endpoints"].values()) == [2] and sum(pool.answered.values()) == 1
    lm.close()


@pytest.mark.embedded
def test_a_killed_endpoint_costs_retries_not_results_and_replay_is_the_same(tmp_path, caplog):
    from selftaught.lm.local.embedded import ensure_model
    from selftaught.lm.local.server import LlamaServer, ServerConfig

    doomed = LlamaServer(ServerConfig(model_path=ensure_model(), slots=1, ctx_per_slot=512, alias=MODEL,
                                      threads=1)).start()
    survivor = LlamaServer(ServerConfig(model_path=ensure_model(), slots=1, ctx_per_slot=512, alias=MODEL,
                                        threads=1)).start()
    try:
        pool = pool_of([doomed.base_url, survivor.base_url])
        lm = client(pool, tmp_path)
        first = lm.batch_prompt("Be terse.", ["Say one word."])
        doomed.process.kill()
        doomed.process.wait()
        with caplog.at_level(logging.WARNING):
            rest = [lm.batch_prompt("Be terse.", [f"Say word {i}."]) for i in range(3)]
        assert all(r and r[0] is not None for r in rest)
        assert f"endpoint {doomed.base_url} failed" in caplog.text and "out of rotation" in caplog.text
        assert pool.answered[survivor.base_url] >= 3
        lm.close()
        replayed = client(ReplayBackend(MODEL), tmp_path, CacheMode.REPLAY)
        assert replayed.batch_prompt("Be terse.", ["Say one word."]) == first
        assert [replayed.batch_prompt("Be terse.", [f"Say word {i}."]) for i in range(3)] == rest
        replayed.close()
    finally:
        doomed.stop()
        survivor.stop()


@pytest.mark.embedded
def test_every_endpoint_down_is_one_error_naming_each(servers, tmp_path):
    from selftaught.lm.local.server import free_port

    dead = [f"http://127.0.0.1:{free_port()}/v1", f"http://127.0.0.1:{free_port()}/v1"]
    lm = client(pool_of(dead), tmp_path)
    with pytest.raises(EndpointError, match="every endpoint failed this request") as error:
        lm.prompt("Be terse.", "hi")
    assert all(url in error.value.problem for url in dead) and "--endpoint" in error.value.fix
    lm.close()


class Endpoint(CountingBackend):
    """A stand-in endpoint for the budget test: the pool only needs complete_n and a URL."""

    def __init__(self, url: str) -> None:
        super().__init__("m")
        self.config = EndpointConfig(base_url=url, model="m", api_key="none")

    def complete_n(self, messages, sampling, n, cancelled=None):
        return super().complete_n(messages, sampling, n)

    def engine_counts(self):
        from selftaught.lm.backends.engine_counts import EngineCounts

        return EngineCounts()


def test_the_budget_holds_for_48_threads_against_two_endpoints(tmp_path):
    """tests/lm/test_budget.py's concurrency property, with the pool between client and endpoints."""
    endpoints = [Endpoint("http://a/v1"), Endpoint("http://b/v1")]
    pool = EndpointPool(endpoints)  # type: ignore[list-item]
    lm = LanguageModelClient(pool, ResponseCache(None, CacheMode.OFF), UsageLog(None), Budget(10, 2), 8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        try:
            lm.batch_prompt("e", [f"m{i}"])
            result = "ok"
        except BudgetExceeded:
            result = "over"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(48)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 10 and outcomes.count("over") == 38
    assert sum(len(e.batches) for e in endpoints) == 10 and all(e.batches for e in endpoints)
    lm.close()
