"""sharegpt and openai rows."""

import pytest

from curate.convert import convert, openai, sharegpt
from curate.errors import RowError
from curate.io import write_jsonl
from curate.records import frame_to_records


def conv(*turns):
    return [{"from": f, "value": v} for f, v in turns]


def test_sharegpt_file(tmp_path):
    p = tmp_path / "sg.jsonl"
    write_jsonl([
        {"id": "x1", "conversations": conv(("human", "hi"), ("gpt", "hello"), ("human", "more"),
                                           ("chatgpt", "sure"))},
        {"conversations": conv(("system", "sys"), ("user", "call"),
                               ("function_call", '{"name": "answer", "arguments": {}}'),
                               ("observation", "42"), ("model", "it is 42")),
         "system": "top", "tools": "[]"},
    ], p)
    res = convert(p)
    assert res.formats == {str(p): "sharegpt"}
    first, second = frame_to_records(res.frame)
    assert first["id"] == "x1"
    assert [m["role"] for m in first["messages"]] == ["user", "assistant", "user", "assistant"]
    assert [(m["role"], m["content"]) for m in second["messages"]] == [
        ("system", "top"), ("system", "sys"), ("user", "call"), ("assistant", ""),
        ("tool", "42"), ("assistant", "it is 42")]
    assert second["messages"][3]["tool_calls"] == [
        {"id": None, "type": "function", "function": {"name": "answer", "arguments": "{}"}}]
    assert second["meta"] == {"tools": "[]", "file": "sg.jsonl", "line": 2, "format": "sharegpt"}


@pytest.mark.parametrize("turns,reason,field", [
    ([{"from": "human", "value": "q"}, {"from": "robot", "value": "a"}], "unknown_role",
     "conversations[1].from"),
    ([{"from": "human", "value": "q"}, {"value": "a"}], "missing_field", "conversations[1].from"),
    ([{"from": "human", "value": "q"}, {"from": "gpt"}], "missing_field", "conversations[1].value"),
    ([{"from": "human", "value": "q"}, {"from": "gpt", "value": 1}], "wrong_type",
     "conversations[1].value"),
    ([{"from": "human", "value": "q"}, {"from": "gpt", "value": "\u00a0 "}], "empty_turn",
     "conversations[1].value"),
    ([{"from": "human", "value": "q"}, "gpt: a"], "wrong_type", "conversations[1]"),
    ([{"from": "gpt", "value": "a"}, {"from": "human", "value": "q"}], "no_assistant_turn",
     "conversations"),
    ([{"from": "gpt", "value": "a"}], "no_user_turn", "conversations"),
    ("hi", "wrong_type", "conversations"),
])
def test_sharegpt_bad_rows(turns, reason, field):
    with pytest.raises(RowError) as exc:
        sharegpt.to_records({"conversations": turns})
    assert (exc.value.reason, exc.value.field) == (reason, field)


def test_openai_file_with_content_parts(tmp_path):
    p = tmp_path / "oa.jsonl"
    write_jsonl([{"messages": [
        {"role": "developer", "content": "be nice"},
        {"role": "user", "content": [{"type": "text", "text": "part one"},
                                     {"type": "text", "text": "part two"}]},
        {"role": "assistant", "content": "done", "weight": 1}], "tools": None}], p)
    res = convert(p)
    (rec,) = frame_to_records(res.frame)
    assert rec["messages"] == [{"role": "system", "content": "be nice"},
                               {"role": "user", "content": "part one\npart two"},
                               {"role": "assistant", "content": "done"}]
    assert rec["meta"] == {"tools": None, "file": "oa.jsonl", "line": 1, "format": "openai"}


@pytest.mark.parametrize("msgs,reason,field", [
    ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]},
      {"role": "assistant", "content": "a"}], "unsupported_content", "messages[0].content[0]"),
    ([{"role": "user", "content": "q"}, {"role": "assistant", "content": None,
                                         "tool_calls": [{"id": "1"}]}],
     "invalid_tool_call", "messages[1].tool_calls[0].function"),
    ([{"role": "user", "content": "q"}, {"role": "bot", "content": "a"}], "unknown_role",
     "messages[1].role"),
    ([{"role": "user", "content": "q"}, {"role": "assistant"}], "missing_field",
     "messages[1].content"),
    ([{"role": "user", "content": "q"}, {"role": "assistant", "content": None}], "empty_turn",
     "messages[1].content"),
    ([{"role": "user", "content": "q"}], "no_assistant_turn", "messages"),
])
def test_openai_bad_rows(msgs, reason, field):
    with pytest.raises(RowError) as exc:
        openai.to_records({"messages": msgs})
    assert (exc.value.reason, exc.value.field) == (reason, field)
