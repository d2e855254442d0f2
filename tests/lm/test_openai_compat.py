"""The openai backend against the real embedded llama-server on loopback."""

import http.server
import json
import threading

import httpx
import pytest

from selftaught.errors import EndpointError
from selftaught.lm.backends.openai_compat import EndpointConfig, OpenAIBackend
from selftaught.lm.local.server import free_port
from selftaught.lm.protocol import Sampling

pytestmark = pytest.mark.embedded
CHAT = [{"role": "user", "content": "Reply with the single word: yes"}]
SHORT = Sampling(temperature=0.0, max_tokens=8)


def backend_for(url: str, key: str = "test-key", **kw) -> OpenAIBackend:
    return OpenAIBackend(EndpointConfig(base_url=url, model="qwen2.5-coder-1.5b-instruct-q4_k_m",
                                        api_key=key, **kw))


def test_a_completion_with_token_accounting(embedded_server):
    done = backend_for(embedded_server.base_url).complete(CHAT, SHORT)
    assert done.text.strip()
    assert done.prompt_tokens > 0 and 0 < done.completion_tokens <= 8 and done.latency_s > 0


def test_a_wrong_api_key_is_named(embedded_server):
    with pytest.raises(EndpointError, match="rejected the API key") as info:
        backend_for(embedded_server.base_url, key="wrong").complete(CHAT, SHORT)
    assert "OPENAI_API_KEY" in info.value.fix


def test_an_unreachable_endpoint_is_named():
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(EndpointError, match=f"cannot reach the endpoint {url}") as info:
        backend_for(url, max_retries=0).complete(CHAT, SHORT)
    assert "--base-url" in info.value.fix


def test_a_timeout_is_named(embedded_server):
    slow = Sampling(temperature=0.0, max_tokens=200)
    with pytest.raises(EndpointError, match="did not answer within 0.01 s"):
        backend_for(embedded_server.base_url, timeout_s=0.01, max_retries=0).complete(CHAT, slow)


def test_429_and_503_are_retried_until_the_server_answers(embedded_server):
    """A loopback proxy that refuses twice (429, then 503) and then forwards to the model."""
    seen: list[int] = []
    upstream = embedded_server.base_url

    class Flaky(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(len(seen))
            if len(seen) <= 2:
                self.send_response(429 if len(seen) == 1 else 503)
                self.send_header("retry-after-ms", "10")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
                return
            reply = httpx.post(upstream + self.path.removeprefix("/v1"), content=body,
                               headers={"Authorization": self.headers["Authorization"],
                                        "Content-Type": "application/json"}, timeout=60)
            self.send_response(reply.status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply.content)))
            self.end_headers()
            self.wfile.write(reply.content)

        def log_message(self, *args):
            pass

    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        done = backend_for(f"http://127.0.0.1:{proxy.server_address[1]}/v1", max_retries=3).complete(CHAT, SHORT)
    finally:
        proxy.shutdown()
    assert len(seen) == 3 and done.text.strip()


# n samples in one request -----------------------------------------------------------------

# Long (every sample runs into max_tokens) and random from the first token on (samples differ).
NUMBERS = [{"role": "system", "content": "Reply with numbers only, no words."},
           {"role": "user", "content": "Write 60 random integers between 0 and 999, separated by spaces."}]
HOT = Sampling(temperature=1.0, max_tokens=10)


def test_n_samples_come_from_one_request_with_exact_tokens_per_choice(embedded_server):
    backend = backend_for(embedded_server.base_url)
    done = backend.complete_n(NUMBERS, HOT, 3)
    spent = backend.engine_counts()
    assert len({c.text for c in done}) == 3
    # Every choice runs into max_tokens; the server's own `usage` would say 10 for all three.
    assert [c.completion_tokens for c in done] == [10, 10, 10]
    prompt = done[0].prompt_tokens
    assert prompt > 20 and [c.prompt_tokens for c in done[1:]] == [0, 0]
    # One request; its prompt was evaluated once (or less, from the server's prompt cache).
    assert (spent.requests, spent.generated) == (1, 30) and spent.prompt_evaluated <= prompt
    assert backend.n_supported


def test_a_short_answer_counts_its_end_of_turn_token(embedded_server):
    backend = backend_for(embedded_server.base_url)
    done = backend.complete_n(CHAT, Sampling(temperature=0.0, max_tokens=8), 2)
    tokenized = httpx.post(embedded_server.base_url.removesuffix("/v1") + "/tokenize",
                           json={"content": done[0].text}, headers={"Authorization": "Bearer test-key"}).json()
    assert done[0].text == done[1].text  # temperature 0
    assert [c.completion_tokens for c in done] == [len(tokenized["tokens"]) + 1] * 2


def test_more_samples_than_server_slots_fall_back_to_separate_requests(embedded_server):
    backend = backend_for(embedded_server.base_url)  # the server has 6 slots: n=7 is refused
    done = backend.complete_n(NUMBERS, Sampling(temperature=1.0, max_tokens=2), 7)
    assert len(done) == 7 and [c.completion_tokens for c in done] == [2] * 7
    assert not backend.n_supported and backend.engine_counts().requests == 7


def test_an_endpoint_that_ignores_n_gets_the_rest_as_separate_requests(embedded_server):
    """A loopback proxy that drops `n` before forwarding, as endpoints without `n` do."""
    seen: list[int] = []
    upstream = embedded_server.base_url

    class IgnoresN(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append(body.pop("n", 1))
            reply = httpx.post(upstream + self.path.removeprefix("/v1"), json=body,
                               headers={"Authorization": self.headers["Authorization"]}, timeout=60)
            self.send_response(reply.status_code)
            self.send_header("Content-Type", reply.headers["Content-Type"])
            self.send_header("Content-Length", str(len(reply.content)))
            self.end_headers()
            self.wfile.write(reply.content)

        def log_message(self, *args):
            pass

    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), IgnoresN)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        backend = backend_for(f"http://127.0.0.1:{proxy.server_address[1]}/v1")
        first = backend.complete_n(NUMBERS, HOT, 3)
        supported_after_first = backend.n_supported
        second = backend.complete_n(NUMBERS, HOT, 2)
    finally:
        proxy.shutdown()
    assert sorted(seen) == [1, 1, 1, 1, 3]  # one request with n=3, then only single requests
    assert not supported_after_first
    assert [c.completion_tokens for c in first + second] == [10] * 5
    assert all(c.prompt_tokens > 20 for c in first + second)  # each request evaluated its prompt


# a request the endpoint refuses (no model needed: a loopback stub answers) -----------------

CONTEXT_OVERFLOW = {"error": {"code": 400, "type": "exceed_context_size_error", "n_prompt_tokens": 9000,
                              "n_ctx": 2048, "message": "the request exceeds the available context size, "
                                                        "try increasing it"}}


@pytest.mark.parametrize("status, body, expected", [
    (400, CONTEXT_OVERFLOW, "RequestError"),
    (413, {"error": {"message": "payload too large"}}, "RequestError"),
    (422, {"error": {"message": "max_tokens must be positive"}}, "RequestError"),
    (500, {"error": {"message": "the request exceeds the available context size"}}, "RequestError"),
    (500, {"error": {"message": "model crashed"}}, "EndpointError"),
])
def test_a_refused_request_is_the_requests_fault_not_the_endpoints(status, body, expected):
    """A prompt longer than the context window is the improver's failure (RequestError); an
    endpoint that keeps failing is infrastructure (EndpointError)."""
    from selftaught.errors import RequestError

    class Refusing(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    stub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{stub.server_address[1]}/v1"
    try:
        for call in (lambda b: b.complete(CHAT, SHORT), lambda b: b.complete_n(CHAT, SHORT, 2)):
            with pytest.raises((RequestError, EndpointError)) as info:
                call(backend_for(url, max_retries=0))
            assert type(info.value).__name__ == expected
            assert isinstance(info.value, RequestError) != isinstance(info.value, EndpointError)
    finally:
        stub.shutdown()
    if expected == "RequestError":
        assert f"refused this request ({status})" in info.value.problem and "shorter prompt" in info.value.fix


def test_a_cancelled_request_stops_and_the_server_stops_generating(embedded_server):
    import time

    from selftaught.errors import Cancelled

    cancelled = threading.Event()
    long = Sampling(temperature=0.7, max_tokens=1500)
    chat = [{"role": "user", "content": "Write a very long Python module with many functions."}]
    timer = threading.Timer(3.0, cancelled.set)
    timer.start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        backend_for(embedded_server.base_url, key="test-key").complete_n(chat, long, 2, cancelled=cancelled)
    assert time.monotonic() - started < 8  # 2 x 1500 tokens would take minutes on 2 cores

    def busy() -> bool:
        slots = httpx.get(embedded_server.base_url.removesuffix("/v1") + "/slots",
                          headers={"Authorization": "Bearer test-key"}, timeout=10).json()
        return any(slot["is_processing"] for slot in slots)

    deadline = time.monotonic() + 5
    while busy() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not busy()  # the closed connection ended the generation on the server
