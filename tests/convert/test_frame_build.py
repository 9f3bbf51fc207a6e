"""convert gives the same records frame and rejected rows whether the frame is built column by
column (curate.records_frame) or by polars reading the record dicts."""

from __future__ import annotations

import json

import pytest

from curate import records_frame
from curate.convert import convert
from curate.errors import InputError

USER = {"role": "user", "content": "Weather in Oslo?"}
CALL = {"role": "assistant", "content": None, "tool_calls": [
    {"id": "a", "type": "function", "function": {"name": "weather", "arguments": {"city": "Oslo"}}},
    {"function": {"name": "time", "arguments": ""}}]}
ANSWER = {"role": "tool", "tool_call_id": "a", "content": "-3C"}
DONE = {"role": "assistant", "content": "Cold, ünd dark."}
ROWS = [
    {"messages": [USER, CALL, ANSWER, DONE]},
    {"messages": [{"role": "system", "content": "Be brief."}, USER, DONE], "id": "given"},
    {"messages": [USER, {**DONE, "tool_calls": []}]},
    {"messages": [USER, {"role": "assistant", "content": None, "tool_calls": [
        {"id": "1", "function": {"name": "f", "arguments": "{oops"}}]}]},  # bad arguments
    {"messages": [USER, {"role": "tool", "tool_call_id": "zz", "content": "x"}, DONE]},
    {"messages": [USER]},  # no reply
    {"messages": [USER, {"role": "assistant", "content": 3}]},
    {"prompt": [USER], "chosen": [CALL, ANSWER, DONE], "rejected": [DONE], "score_chosen": 8,
     "score_rejected": 2.5},
]


def _convert(folder, monkeypatch, flat: bool, **kwargs):
    with monkeypatch.context() as m:
        if not flat:
            m.setattr(records_frame, "build_frame", lambda records: None)
        return convert(folder, **kwargs)


def test_the_flat_build_and_polars_give_the_same_frame(tmp_path, monkeypatch):
    (tmp_path / "chat.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS[:7]))
    (tmp_path / "pairs.jsonl").write_text(json.dumps(ROWS[7]) + "\n")
    (tmp_path / "alpaca.jsonl").write_text(
        json.dumps({"instruction": "Say hi", "input": "", "output": "hi"}) + "\n"
        + json.dumps({"instruction": "Say hi", "output": 3}) + "\n")
    flat = _convert(tmp_path, monkeypatch, True, on_error="skip")
    dicts = _convert(tmp_path, monkeypatch, False, on_error="skip")
    assert flat.frame.schema == dicts.frame.schema
    assert flat.frame.equals(dicts.frame) and flat.rejected.equals(dicts.rejected)
    assert flat.frame.height == 5 and flat.frame["kind"].to_list().count("preference") == 1
    calls = flat.frame["messages"][1][1]["tool_calls"]  # alpaca.jsonl's row comes first
    assert calls == [
        {"id": "a", "type": "function",
         "function": {"name": "weather", "arguments": '{"city": "Oslo"}'}},
        {"id": None, "type": "function", "function": {"name": "time", "arguments": "{}"}}]
    rejected = flat.rejected.select("file", "line", "field", "drop_reason").rows()
    assert [(f.rsplit("/", 1)[-1], line, field, reason) for f, line, field, reason in rejected] == [
        ("alpaca.jsonl", 2, "output", "wrong_type"),
        ("chat.jsonl", 4, "messages[1].tool_calls[0].function.arguments", "invalid_tool_call"),
        ("chat.jsonl", 5, "messages[1].tool_call_id", "invalid_tool_call"),
        ("chat.jsonl", 6, "messages", "no_assistant_turn"),
        ("chat.jsonl", 7, "messages[1].content", "wrong_type"),
    ]


@pytest.mark.parametrize("flat", [True, False])
def test_a_bad_row_still_names_file_line_and_field(tmp_path, monkeypatch, flat):
    (tmp_path / "chat.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS[:4]))
    with pytest.raises(InputError) as err:
        _convert(tmp_path / "chat.jsonl", monkeypatch, flat)
    assert str(err.value) == (
        f"{tmp_path / 'chat.jsonl'}:4: field 'messages[1].tool_calls[0].function.arguments': "
        "arguments are not valid JSON (reading it as openai); --on-error skip (on_error: skip "
        "in a recipe) keeps such rows in rejected/ with their reason")
