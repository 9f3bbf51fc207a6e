"""The sequences an IFD score compares: the same reply tokens after the instruction, after
nothing, and after the passage and the instruction."""

from __future__ import annotations

import pytest

from curate.likelihood.texts import Tokens


@pytest.fixture(scope="module")
def tokenizer(tiny_lm):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_lm)


def words(tokenizer, ids) -> list[str]:
    return tokenizer.convert_ids_to_tokens(ids)


def test_contexts_follow_the_chat_template(tokenizer):
    t = Tokens(tokenizer, 64)
    turns = [{"role": "user", "content": "what do bees make"}]
    assert words(tokenizer, t.context(turns)) == [
        "<|im_start|>", "user", "what", "do", "bees", "make", "<|im_end|>", "<|im_start|>",
        "assistant"]
    # a reply to nothing: the generation prompt alone
    assert words(tokenizer, t.alone()) == ["<|im_start|>", "assistant"]
    grounded = t.grounded([{"role": "system", "content": "bees"}, *turns],
                          "bees visit flowers")
    assert words(tokenizer, grounded) == [
        "<|im_start|>", "system", "bees", "<|im_end|>", "<|im_start|>", "user", "bees",
        "visit", "flowers", "what", "do", "bees", "make", "<|im_end|>", "<|im_start|>",
        "assistant"]


def test_truncation_keeps_a_replys_start_and_a_contexts_end(tokenizer):
    t = Tokens(tokenizer, 3)
    assert words(tokenizer, t.reply("bees make honey from the nectar")) == ["bees", "make",
                                                                            "honey"]
    assert words(tokenizer, t.context([{"role": "user", "content": "what do bees make"}])) \
        == ["<|im_end|>", "<|im_start|>", "assistant"]
    assert t.reply("") == [] and t.reply(None) == []


def test_a_model_without_a_chat_template_gets_plain_text(tokenizer):
    tokenizer = type(tokenizer).from_pretrained(tokenizer.name_or_path)
    tokenizer.chat_template = None
    t = Tokens(tokenizer, 64)
    assert words(tokenizer, t.context([{"role": "user", "content": "what do bees make"}])) \
        == ["what", "do", "bees", "make"]
    assert words(tokenizer, t.alone()) == ["<|im_start|>"]  # the BOS token
