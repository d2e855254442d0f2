"""The openai backend against the real embedded llama-server on loopback."""

import http.server
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
