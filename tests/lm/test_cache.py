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


def test_occurrences_are_numbered_per_key():
    cache = ResponseCache(None, CacheMode.OFF)
    assert list(cache.reserve("a", 3)) == [0, 1, 2]
    assert list(cache.reserve("b", 1)) == [0]
    assert list(cache.reserve("a", 2)) == [3, 4]


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
