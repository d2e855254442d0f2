import pytest

from selftaught.errors import CacheMiss, ConfigError
from selftaught.lm.cache import CacheMode, ResponseCache, request_key
from selftaught.lm.protocol import Completion, Sampling

CHAT = [{"role": "user", "content": "hi"}]
SAMPLING = Sampling(temperature=0.7, max_tokens=16)


def test_key_depends_on_model_messages_and_every_sampling_parameter():
    base = request_key("m", CHAT, SAMPLING)
    assert base == request_key("m", [dict(CHAT[0])], Sampling(0.7, 16))
    assert base != request_key("other", CHAT, SAMPLING)
    assert base != request_key("m", [{"role": "user", "content": "hi!"}], SAMPLING)
    assert base != request_key("m", CHAT, Sampling(0.8, 16))
    assert base != request_key("m", CHAT, Sampling(0.7, 17))
    assert base != request_key("m", CHAT, Sampling(0.7, 16, top_p=0.9))


def test_a_claim_says_what_is_recorded_what_to_draw_and_what_another_caller_draws(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite", CacheMode.READWRITE)
    cache.put("k", 0, {}, Completion("zero", 1, 2, "m", 0.5))
    recorded, mine, others = cache.claim("k", [0, 1, 2], "req")
    assert recorded[0].text == "zero"
    assert (mine, others) == ([1, 2], {})
    recorded, mine, others = cache.claim("k", [1, 3], "req")  # a second caller, while 1 is drawn
    assert (recorded, mine, sorted(others)) == ({}, [3], [1])
    cache.fulfil("k", 1, {}, Completion("one", 1, 2, "m", 0.5))
    assert others[1].result(timeout=1).text == "one" and cache.get("k", 1, "req").text == "one"
    cache.fail("k", [2, 3], RuntimeError("engine down"))
    assert cache.claim("k", [2], "req") == ({}, [2], {})  # a failed draw is drawn again later


def test_without_a_store_every_caller_draws_everything():
    cache = ResponseCache(None, CacheMode.OFF)
    assert cache.claim("k", [0, 1], "req") == ({}, [0, 1], {})
    assert cache.claim("k", [0, 1], "req") == ({}, [0, 1], {})


def test_samples_survive_reopening(tmp_path):
    path = tmp_path / "c.sqlite"
    cache = ResponseCache(path, CacheMode.READWRITE)
    cache.put("k", 0, {"x": 1}, Completion("first", 1, 2, "m", 0.5))
    cache.close()
    again = ResponseCache(path, CacheMode.REPLAY)
    assert again.get("k", 0, "req").text == "first"
    again.close()


def test_replay_miss_names_the_request(tmp_path):
    path = tmp_path / "c.sqlite"
    ResponseCache(path, CacheMode.READWRITE).close()
    cache = ResponseCache(path, CacheMode.REPLAY)
    with pytest.raises(CacheMiss, match=r"no sample #0 for request abcdef.*user message 'hello'"):
        cache.get("abcdef0123456789", 0, "user message 'hello'")


def test_replay_of_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        ResponseCache(tmp_path / "nope.sqlite", CacheMode.REPLAY)


def test_unknown_mode_lists_the_choices():
    with pytest.raises(ConfigError) as info:
        CacheMode.parse("sometimes")
    assert "off, readwrite, replay" in info.value.fix
