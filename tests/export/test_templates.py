"""The shipped chat templates, applied with transformers on a locally built tokenizer, and the
render/length checks an export runs before writing."""

from __future__ import annotations

import pytest

from curate.errors import CurateError
from curate.export import export
from functools import partial

from curate.export.templates import (CHAT_TEMPLATES, TemplateRefused, apply_template,
                                     check_conversation, local_tokenizer, render_check,
                                     shipped_renderer)

CONV = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": " Hello "}]


def test_templates_render_exactly():
    assert CHAT_TEMPLATES == ("chatml", "llama-3", "zephyr")
    render = {n: local_tokenizer(n).apply_chat_template(CONV, tokenize=False)
              for n in CHAT_TEMPLATES}
    assert render["chatml"] == ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n"
                                "Hi there<|im_end|>\n<|im_start|>assistant\n Hello <|im_end|>\n")
    assert render["llama-3"] == (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello<|eot_id|>")
    assert render["zephyr"] == ("<|system|>\nBe brief.</s>\n<|user|>\nHi there</s>\n"
                                "<|assistant|>\n Hello </s>\n")
    prompt = local_tokenizer("zephyr").apply_chat_template(CONV[:2], tokenize=False,
                                                           add_generation_prompt=True)
    assert prompt.endswith("<|user|>\nHi there</s>\n<|assistant|>\n")


@pytest.mark.parametrize("name, tool_ok", [("chatml", True), ("llama-3", True),
                                           ("zephyr", False)])
def test_tool_role_and_late_system(name, tool_ok):
    tok = shipped_renderer(name)
    tool = CONV[1:] + [{"role": "tool", "content": "42"}, {"role": "assistant", "content": "ok"}]
    assert check_conversation(tok, tool)[0] == (None if tool_ok else "template_error")
    late = CONV[1:] + [{"role": "system", "content": "late"}]
    assert check_conversation(tok, late) == ("template_error", "")
    assert check_conversation(tok, CONV[1:] + [{"role": "bot", "content": "x"}])[0] == (
        "template_error")


def test_a_template_that_drops_a_turn_is_caught():
    from transformers import PreTrainedTokenizerFast

    base = local_tokenizer("chatml")
    lossy = PreTrainedTokenizerFast(tokenizer_object=base.backend_tokenizer, unk_token="[UNK]",
                                    chat_template="{% for m in messages %}{% if m.role != "
                                                  "'system' %}{{ m.content }}\n{% endif %}"
                                                  "{% endfor %}")
    assert check_conversation(partial(apply_template, lossy), CONV) == (
        "lost_turn", "Hi there\n Hello \n")
    swapped = [CONV[2], CONV[1]]  # each text is there, but not in order
    rev = PreTrainedTokenizerFast(tokenizer_object=base.backend_tokenizer, unk_token="[UNK]",
                                  chat_template="{% for m in messages|reverse %}{{ m.content }}"
                                                "{% endfor %}")
    assert check_conversation(partial(apply_template, rev), swapped)[0] == "lost_turn"


def test_export_drops_rows_the_template_refuses(b, tmp_path):
    tool = {"kind": "sft", "source": "a", "meta": {}, "messages": b.turns(
        ("user", "w?"), ("assistant", "checking"), ("tool", "sun"), ("assistant", "Sunny"))}
    df = b.frame([b.sft(f"q{i}", f"a{i}") for i in range(6)] + [tool])
    res = export(df, tmp_path / "z", target="trl-sft", test_size=1, chat_template="zephyr")
    assert res.skipped == {"template_error": 1}
    assert res.rejected["drop_reason"].to_list() == ["template_error"]
    assert res.rejected.columns == df.columns + ["drop_reason"]
    res = export(df, tmp_path / "c", target="trl-sft", test_size=1, chat_template="chatml")
    assert res.skipped == {}


def test_max_tokens_with_a_tokenizer_folder(b, tmp_path):
    local_tokenizer("chatml").save_pretrained(tmp_path / "tok")
    conv = [{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello"}]
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tmp_path / "tok", local_files_only=True)
    text = tok.apply_chat_template(conv, tokenize=False)
    # word-level: "<|im_start|>user", "Hi", "there", "<|im_end|>", "<|im_start|>assistant", ...
    assert len(tok(text, add_special_tokens=False)["input_ids"]) == 7
    df = b.frame([b.sft("Hi there", "Hello"), b.sft("Hi there", "Hello " * 3)])
    kept, dropped = render_check(df, tokenizer=str(tmp_path / "tok"), max_tokens=7)
    assert kept["id"].to_list() == df["id"].to_list()[:1]
    assert dropped["drop_reason"].to_list() == ["too_long"]
    kept, dropped = render_check(df, tokenizer=str(tmp_path / "tok"), max_tokens=6)
    assert kept.height == 0 and dropped["drop_reason"].to_list() == ["too_long"] * 2


def test_max_tokens_errors(b, tmp_path):
    df = b.frame([b.sft("q", "a")])
    with pytest.raises(CurateError, match="max_tokens needs a tokenizer"):
        render_check(df, max_tokens=10)
    with pytest.raises(CurateError, match="tokenizer 'no-such/model-here' is not available "
                                          "offline"):
        render_check(df, max_tokens=10, tokenizer="no-such/model-here")
    with pytest.raises(CurateError, match="max_tokens must be a whole number >= 1, not 0"):
        render_check(df, max_tokens=0, tokenizer="x")
    with pytest.raises(CurateError, match="unknown chat template 'vicuna'; shipped templates: "
                                          "chatml, llama-3, zephyr"):
        render_check(df, chat_template="vicuna")


def test_a_broken_template_stops_with_a_clear_error():
    """A row the template refuses is a rejected row; a template that fails on every row is a
    bug in the template, and stops instead of rejecting everything."""
    from copy import deepcopy

    tok = deepcopy(local_tokenizer("chatml"))
    tok.chat_template = "{% for m in messages %}{{ m['content'] / 2 }}{% endfor %}"
    with pytest.raises(CurateError, match="the chat template is broken: TypeError: "):
        check_conversation(partial(apply_template, tok), CONV)
    tok.chat_template = "{{ messages[0]['content'] | no_such_filter }}"
    with pytest.raises(CurateError, match="the chat template is broken: TemplateAssertionError"):
        check_conversation(partial(apply_template, tok), CONV)


def _call(turn_id, name, args):
    return {"id": turn_id, "type": "function" if turn_id else None,
            "function": {"name": name, "arguments": args}}


# conversations as records hold them (every message key present, None where unset)
ROWS = [
    [{"role": "user", "content": "Hi", "tool_calls": None, "tool_call_id": None},
     {"role": "assistant", "content": " Hello ", "tool_calls": None, "tool_call_id": None}],
    [{"role": "system", "content": "Be brief.\n", "tool_calls": None, "tool_call_id": None},
     {"role": "user", "content": "Größe? <|im_end|> {{ x }}", "tool_calls": None,
      "tool_call_id": None},
     {"role": "assistant", "content": "", "tool_calls": [
         _call("c1", "size", '{"unit": "cm"}'), _call(None, "noop", "{}")],
      "tool_call_id": None},
     {"role": "tool", "content": "12", "tool_calls": None, "tool_call_id": "c1"},
     {"role": "assistant", "content": None, "tool_calls": [], "tool_call_id": None}],
    [{"role": "user", "content": "late", "tool_calls": None, "tool_call_id": None},
     {"role": "system", "content": "no", "tool_calls": None, "tool_call_id": None}],
    [{"role": "bot", "content": "x", "tool_calls": None, "tool_call_id": None}],
    [{"role": "assistant", "content": "first", "tool_calls": None, "tool_call_id": None}],
]


@pytest.mark.parametrize("name", CHAT_TEMPLATES)
@pytest.mark.parametrize("row", range(len(ROWS)))
def test_shipped_renderer_renders_as_apply_chat_template(name, row):
    """The export's fast path gives transformers' apply_chat_template text, or refuses the
    same conversations."""
    turns = ROWS[row]
    try:
        expected = local_tokenizer(name).apply_chat_template(turns, tokenize=False)
    except Exception as exc:  # the template's raise_exception
        with pytest.raises(TemplateRefused, match=str(exc)[:20]):
            shipped_renderer(name)(turns)
        return
    assert shipped_renderer(name)(turns) == expected
