"""Assembling the choices of a streamed request with n, from chunks as the two kinds of endpoint
send them (the shapes llama-server b11434 and OpenAI write)."""

import pytest
from openai.types.chat import ChatCompletionChunk

from selftaught.lm.backends.choices import ChoiceCollector, apportion
from selftaught.lm.backends.engine_counts import EngineCounts


def chunk(choices=(), usage=None, **extra) -> ChatCompletionChunk:
    return ChatCompletionChunk.model_validate({
        "id": "c", "created": 0, "model": "m", "object": "chat.completion.chunk",
        "choices": [{"index": i, "delta": {"content": text} if text else {}, "finish_reason": finish}
                    for i, text, finish in choices],
        **({"usage": usage} if usage else {}), **extra,
    })


def usage(prompt: int, completion: int) -> dict:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def timings(prompt_n: int, predicted_n: int, draft_n: int = 0, accepted: int = 0) -> dict:
    t = {"prompt_n": prompt_n, "predicted_n": predicted_n, "cache_n": 0}
    return {**t, "draft_n": draft_n, "draft_n_accepted": accepted} if draft_n else t


def collect(chunks) -> tuple[list, EngineCounts]:
    collector = ChoiceCollector(0.0)
    for c in chunks:
        collector.add(c)
    return collector.completions("default")


def test_llama_server_sends_one_usage_per_choice_right_after_its_last_chunk():
    done, counts = collect([
        chunk([(1, "Hel", None)]), chunk([(0, "A", None)]), chunk([(1, "lo", None)]),
        chunk([(1, None, "stop")]), chunk(usage=usage(40, 3), timings=timings(40, 3, 4, 2)),
        chunk([(0, "BC", None)]), chunk([(0, None, "length")]),
        chunk(usage=usage(40, 7), timings=timings(40, 7, 6, 3)),
    ])
    assert [(c.text, c.prompt_tokens, c.completion_tokens, c.model) for c in done] == [
        ("ABC", 40, 7, "m"), ("Hello", 0, 3, "m")]
    # The prompt was evaluated once, although both choices report it.
    assert counts == EngineCounts(requests=1, prompt_evaluated=40, generated=10, drafted=10, accepted=5)


def test_openai_sends_one_usage_for_all_choices_which_is_split_by_length():
    done, counts = collect([
        chunk([(0, "abc", None), (1, "a", None)]), chunk([(0, None, "stop"), (1, None, "stop")]),
        chunk(usage=usage(12, 9)),
    ])
    assert [(c.text, c.prompt_tokens, c.completion_tokens) for c in done] == [("abc", 12, 7), ("a", 0, 2)]
    assert counts == EngineCounts()


def test_an_endpoint_without_usage_counts_nothing():
    done, _ = collect([chunk([(0, "x", "stop")]), chunk([(1, "y", "stop")])])
    assert [(c.text, c.prompt_tokens, c.completion_tokens) for c in done] == [("x", 0, 0), ("y", 0, 0)]


@pytest.mark.parametrize("total, weights, shares", [
    (10, [1, 1, 1], [4, 3, 3]),
    (9, [3, 0, 1], [7, 0, 2]),
    (5, [0, 0], [3, 2]),
    (0, [4, 2], [0, 0]),
    (7, [], []),
])
def test_apportion_sums_to_the_total(total, weights, shares):
    assert apportion(total, weights) == shares
