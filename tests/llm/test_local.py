"""The packaged SmolLM2-135M in process: converted once, batched with left padding."""

from __future__ import annotations

import pytest

from curate.llm.local import LocalBackend
from curate.llm.models import converted_packaged
from curate.llm.requests import Request, Sampling

from .packaged import need_packaged_model


@pytest.fixture(scope="module")
def backend():
    need_packaged_model()
    return LocalBackend(batch_size=4, device="cpu")


def test_answers_a_few_prompts_in_one_batch(backend):
    questions = ["What is the capital of France?", "Say hello to me in a long friendly way.",
                 "Name a fruit."]
    requests = [Request.chat([{"role": "user", "content": q}], Sampling(max_tokens=12), "t")
                for q in questions]
    out = dict(backend.complete(requests, lambda: True))
    assert "Paris" in out[0].text  # a 135M model: right on this one, not on every capital
    assert all(r.ok and r.text and 0 < r.completion_tokens <= 12 and r.prompt_tokens > 10
               for r in out.values())
    assert out[1].finish_reason == "length" and out[1].completion_tokens == 12
    # greedy: the same answer alone as in the padded batch
    [(_, alone)] = list(backend.complete(requests[:1], lambda: True))
    assert alone.text == out[0].text


def test_a_sampled_reply_does_not_depend_on_its_batch(backend):
    def ask(q, seed):
        return Request.chat([{"role": "user", "content": q}],
                            Sampling(max_tokens=16, temperature=0.8, seed=seed), "t")
    questions = ["Name a fruit.", "Tell me a long story about a ship at sea.", "Say hi."]
    together = dict(backend.complete([ask(q, 0) for q in questions], lambda: True))
    [(_, alone)] = list(backend.complete([ask(questions[0], 0)], lambda: True))
    assert alone.text == together[0].text  # the draws belong to the request, not the batch
    others = {dict(backend.complete([ask(questions[0], s)], lambda: True))[0].text
              for s in (1, 2, 3)}
    assert len(others | {alone.text}) > 1  # and other seeds sample other replies


def test_the_conversion_is_cached(backend):
    first = converted_packaged()
    assert (first / "config.json").exists() and converted_packaged() == first
    assert '"architectures"' in (first / "config.json").read_text()
