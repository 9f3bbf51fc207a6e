"""Token counts with a local tokenizer: a tokenizer.json (texts joined), a folder with a chat
template (the rendered conversation), preference records (both conversations)."""

from __future__ import annotations

import polars as pl
import pytest

from curate.errors import CurateError
from curate.mix.tokens import count_tokens, tokenizer_path
from curate.records import records_to_frame


def word_tokenizer(path):
    """A whitespace word-level tokenizer.json: one token per word."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.save(str(path))
    return path


def sft(i, user, reply):
    return {"id": f"r{i}", "kind": "sft", "source": "t", "meta": {},
            "messages": [{"role": "user", "content": user},
                         {"role": "assistant", "content": reply}]}


def test_tokenizer_json_counts_the_texts_of_the_turns(tmp_path):
    path = tokenizer_path(str(word_tokenizer(tmp_path / "tokenizer.json")))
    df = records_to_frame([sft(0, "one two three", "four five"), sft(1, "a", "b"),
                           {"id": "p", "kind": "preference", "source": "t", "meta": {},
                            "prompt": [{"role": "user", "content": "why not"}],
                            "chosen": [{"role": "assistant", "content": "because yes"}],
                            "rejected": [{"role": "assistant", "content": "no"}]}])
    # the preference record: prompt + chosen (4) and prompt + rejected (3)
    assert count_tokens(df, path) == [5, 2, 7]


def test_a_folder_with_a_chat_template_counts_the_rendered_conversation(tmp_path):
    from curate.export.templates import local_tokenizer

    local_tokenizer("chatml").save_pretrained(tmp_path / "tok")
    path = tokenizer_path(str(tmp_path / "tok"))
    df = records_to_frame([sft(0, "one two three", "four five")])
    # rendered: "<|im_start|>user\none two three<|im_end|>\n<|im_start|>assistant\nfour
    # five<|im_end|>\n": the words, <|im_start|>user, <|im_start|>assistant and two
    # <|im_end|> (an added token, split from the word before it): 5 + 4
    assert count_tokens(df, path) == [9]


def test_a_path_that_is_no_tokenizer_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    for bad in (tmp_path / "empty", tmp_path / "missing.json"):
        with pytest.raises(CurateError, match="not a tokenizer folder .with tokenizer.json. or "
                                              "a tokenizer.json file; nothing is downloaded"):
            tokenizer_path(str(bad))


def test_empty_frame_counts_nothing(tmp_path):
    path = tokenizer_path(str(word_tokenizer(tmp_path / "tokenizer.json")))
    assert count_tokens(records_to_frame([]), path) == []


def test_the_column_wise_texts_count_as_the_rendered_turns(tmp_path):
    """Without a template the texts are built column-wise; the same counts as joining each
    conversation's turns (SFT, multi-turn, system turns and preference records of the demo)."""
    from curate.convert import convert
    from curate.mix.tokens import _turns, conversations, load

    from ..conftest import REPO

    df = convert(REPO / "pipelines" / "data" / "demo", on_error="skip").frame
    path = tokenizer_path(str(word_tokenizer(tmp_path / "tokenizer.json")))
    tok = load(path)
    one_by_one = [sum(tok.lengths([tok.render(_turns(c))])[0] for c in conversations(rec))
                  for rec in df.iter_rows(named=True)]
    assert set(df["kind"]) == {"sft", "preference"}
    assert count_tokens(df, path) == one_by_one
