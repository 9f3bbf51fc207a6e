"""Tool calls of OpenAI and ShareGPT rows: kept in the record's shape, malformed ones rejected
with ``invalid_tool_call`` naming the field."""

from __future__ import annotations

import json

import pytest

from curate.convert import convert, openai, sharegpt
from curate.errors import RowError
from curate.records import frame_to_records, validate_record

USER = {"role": "user", "content": "Weather in Oslo and Rome?"}
DONE = {"role": "assistant", "content": "Cold in Oslo, warm in Rome."}


def _call(name, arguments, id=None):
    return {"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}


def test_openai_parallel_calls_legacy_call_and_arguments_as_object():
    msgs = [USER,
            {"role": "assistant", "content": "Let me check both.", "tool_calls": [
                {"id": "a", "type": "function",
                 "function": {"name": "weather", "arguments": {"city": "Oslo"}}},
                {"id": "b", "function": {"name": "weather", "arguments": '{"city":"Rome"}'}}]},
            {"role": "tool", "tool_call_id": "a", "content": "-3C"},
            {"role": "tool", "tool_call_id": "b", "name": "weather", "content": "21C"},
            {"role": "assistant", "function_call": {"name": "log", "arguments": ""}},
            {"role": "function", "name": "log", "content": "ok"},
            DONE]
    (rec,) = openai.to_records({"messages": msgs})
    assert rec["messages"] == [
        USER,
        {"role": "assistant", "content": "Let me check both.", "tool_calls": [
            _call("weather", '{"city": "Oslo"}', "a"), _call("weather", '{"city": "Rome"}', "b")]},
        {"role": "tool", "content": "-3C", "tool_call_id": "a"},
        {"role": "tool", "content": "21C", "tool_call_id": "b"},
        {"role": "assistant", "content": "", "tool_calls": [_call("log", "{}")]},
        {"role": "tool", "content": "ok"},
        DONE]
    validate_record({**rec, "id": "x", "source": "s"})


def test_an_empty_tool_calls_list_is_a_turn_without_calls():
    (rec,) = openai.to_records({"messages": [USER, {**DONE, "tool_calls": []}]})
    assert rec["messages"] == [USER, DONE]


@pytest.mark.parametrize("turn, field, detail", [
    ({"role": "assistant", "content": None, "tool_calls": [
        {"id": "1", "function": {"name": "f", "arguments": "{oops"}}]},
     "messages[1].tool_calls[0].function.arguments", "arguments are not valid JSON"),
    ({"role": "assistant", "content": None, "tool_calls": [
        {"id": "1", "function": {"name": "f", "arguments": "[1, 2]"}}]},
     "messages[1].tool_calls[0].function.arguments", "arguments must be a JSON object, got list"),
    ({"role": "assistant", "content": None, "tool_calls": [{"id": "1", "function": {}}]},
     "messages[1].tool_calls[0].function.name", "a tool call needs the function's name"),
    ({"role": "assistant", "content": None, "tool_calls": [
        {"type": "retrieval", "function": {"name": "f"}}]},
     "messages[1].tool_calls[0].type", "only function calls are supported, got 'retrieval'"),
    ({"role": "assistant", "content": None, "tool_calls": "f()"},
     "messages[1].tool_calls", "tool_calls must be a non-empty list of calls"),
    ({"role": "user", "content": "hi", "tool_calls": [{"function": {"name": "f"}}]},
     "messages[1].tool_calls", "only an assistant turn calls tools, not a user turn"),
    ({"role": "tool", "content": "42", "tool_call_id": "nope"},
     "messages[1].tool_call_id", "tool_call_id 'nope' answers no earlier tool call"),
])
def test_malformed_calls(turn, field, detail):
    with pytest.raises(RowError) as exc:
        openai.to_records({"messages": [USER, turn, DONE]})
    assert (exc.value.reason, exc.value.field, exc.value.message) == (
        "invalid_tool_call", field, detail)


def test_sharegpt_function_call_turns():
    calls = [{"name": "weather", "arguments": {"city": "Oslo"}},
             {"name": "weather", "arguments": {"city": "Rome"}}]
    (rec,) = sharegpt.to_records({"conversations": [
        {"from": "human", "value": USER["content"]},
        {"from": "function_call", "value": json.dumps(calls)},
        {"from": "observation", "value": "-3C"},
        {"from": "observation", "value": "21C"},
        {"from": "gpt", "value": DONE["content"]}]})
    assert rec["messages"][1] == {"role": "assistant", "content": "", "tool_calls": [
        _call("weather", '{"city": "Oslo"}'), _call("weather", '{"city": "Rome"}')]}
    with pytest.raises(RowError) as exc:
        sharegpt.to_records({"conversations": [
            {"from": "human", "value": "q"}, {"from": "function_call", "value": "weather(Oslo)"},
            {"from": "gpt", "value": "a"}]})
    assert (exc.value.reason, exc.value.field) == ("invalid_tool_call", "conversations[1].value")


def test_a_file_keeps_calls_and_rejects_bad_ones_with_their_reason(tmp_path):
    good = {"messages": [USER, {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c", "content": "sun"}, DONE]}
    bad = {"messages": [USER, {"role": "assistant", "content": "", "tool_calls": [
        {"id": "c", "function": {"name": "weather", "arguments": "not json"}}]}, DONE]}
    data = tmp_path / "chats.jsonl"
    data.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    res = convert(data, on_error="skip")
    (rec,) = frame_to_records(res.frame)
    assert rec["messages"][1]["tool_calls"] == [_call("weather", "{}", "c")]
    assert rec["messages"][2]["tool_call_id"] == "c"
    assert res.rejected.select("line", "field", "drop_reason", "detail").rows() == [
        (2, "messages[1].tool_calls[0].function.arguments", "invalid_tool_call",
         "arguments are not valid JSON")]


def test_records_written_before_the_tool_fields_still_read(tmp_path):
    """A records parquet whose turns are {role, content} structs (curate before tool calls)
    reads with the tool fields null, through convert and through a command."""
    import polars as pl
    from click.testing import CliRunner

    from curate.cli import cli
    from curate.record_schema import MESSAGES, RECORD_SCHEMA

    turns = pl.List(pl.Struct({"role": pl.String, "content": pl.String}))
    old_schema = {c: (turns if t == MESSAGES else t) for c, t in RECORD_SCHEMA.items()}
    rows = [{"id": f"r{i}", "kind": "sft", "source": "s", "meta": "{}", "messages": [
        {"role": "user", "content": f"Question {i}?"},
        {"role": "assistant", "content": f"Answer number {i}."}]} for i in range(3)]
    old = pl.DataFrame([{c: r.get(c) for c in RECORD_SCHEMA} for r in rows], schema=old_schema,
                       orient="row")
    (tmp_path / "old").mkdir()
    old.write_parquet(tmp_path / "old" / "data.parquet")
    frame = convert(tmp_path / "old").frame
    assert frame.schema["messages"] == MESSAGES
    assert [r["messages"] for r in frame_to_records(frame)] == old["messages"].to_list()
    r = CliRunner().invoke(cli, ["dedup", str(tmp_path / "old"), "-o", str(tmp_path / "new"),
                                 "--method", "near"])
    assert r.exit_code == 0, r.output
    assert pl.read_parquet(tmp_path / "new" / "data.parquet")["id"].to_list() == ["r0", "r1", "r2"]
