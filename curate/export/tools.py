"""Tool calls in exports: the checks of the targets that cannot take them, and the turns written.

Where the calls go (see each target in targets.py and frameworks.py):

    trl-*           TRL's conversational form: an assistant turn keeps ``tool_calls``
                    (``[{"id", "type": "function", "function": {"name", "arguments"}}]``), a tool
                    turn its ``tool_call_id`` and the ``name`` of the function it answers
    openai (sft)    OpenAI's chat format: the same without ``name``; every call needs its ``id``
                    and every tool turn the ``tool_call_id`` it answers (``tool_call_id_missing``)
    llama-factory   sharegpt SFT: a turn that only calls tools is a ``function_call`` turn whose
                    value is ``{"name", "arguments"}`` (a list for several calls); a turn with
                    text and calls has no sharegpt form (``tool_calls_unsupported``)
    others          axolotl (the chatml, llama3 and zephyr templates its YAML names drop calls),
                    llama-factory alpaca and ranking data, openai DPO: ``tool_calls_unsupported``

``arguments`` stays the JSON text of the arguments object in every file (OpenAI's form; Arrow,
which parquet and ``datasets`` use, would give every call of a column the union of all tools'
argument keys as nulls); ``json.loads`` it where a chat template wants an object. An export
without any tool call writes plain ``{role, content}`` turns, as before tool calls were kept.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from ..record_schema import MESSAGE, TOOL_CALL

PLAIN_MESSAGE = pl.Struct({"role": pl.String, "content": pl.String})
TOOL_MESSAGE = pl.Struct({"role": pl.String, "content": pl.String,
                          "tool_calls": pl.List(TOOL_CALL), "tool_call_id": pl.String,
                          "name": pl.String})
WRITTEN_FIELDS = ("tool_calls", "tool_call_id", "name")  # left out of a JSON turn when null

_e = pl.element()
_CALLS = _e.struct.field("tool_calls")
_CALL_ID = _e.struct.field("tool_call_id")


def _any_turn(col: pl.Expr, cond: pl.Expr) -> pl.Expr:
    return col.list.eval(cond).list.any().fill_null(False)


def _calls(e: pl.Expr = _e) -> pl.Expr:
    return e.struct.field("tool_calls").list.len().fill_null(0) > 0


def uses_tools(*cols: pl.Expr) -> pl.Expr:
    """A turn of one of ``cols`` calls a tool or answers a call by id."""
    out = pl.lit(False)
    for col in cols:
        out = out | _any_turn(col, _calls() | _CALL_ID.is_not_null())
    return out


def missing_ids(col: pl.Expr) -> pl.Expr:
    """A call without its id, or a tool turn without the id of the call it answers."""
    call_without_id = _CALLS.list.eval(_e.struct.field("id").is_null()).list.any()
    return _any_turn(col, call_without_id.fill_null(False)
                     | ((_e.struct.field("role") == "tool") & _CALL_ID.is_null()))


def text_and_calls(col: pl.Expr) -> pl.Expr:
    """A turn with both text and tool calls."""
    content = _e.struct.field("content").fill_null("").str.strip_chars()
    return _any_turn(col, _calls() & (content != ""))


def output_dtype(dtype: pl.DataType, tools: bool) -> pl.DataType:
    """``dtype`` with the record's message struct replaced by the one an export writes:
    ``{role, content}``, or with ``tools`` the tool fields and ``name`` too."""
    if dtype == MESSAGE:
        return TOOL_MESSAGE if tools else PLAIN_MESSAGE
    if isinstance(dtype, pl.List):
        return pl.List(output_dtype(dtype.inner, tools))
    if isinstance(dtype, pl.Struct):
        return pl.Struct({f.name: output_dtype(f.dtype, tools) for f in dtype.fields})
    return dtype


def tool_dtype(dtype: pl.DataType) -> bool:
    """Whether ``dtype`` holds the tool-bearing message struct an export writes."""
    if dtype == TOOL_MESSAGE:
        return True
    if isinstance(dtype, pl.List):
        return tool_dtype(dtype.inner)
    if isinstance(dtype, pl.Struct):
        return any(tool_dtype(f.dtype) for f in dtype.fields)
    return False


def json_row(value: Any) -> Any:
    """A row for a JSON Lines file: turns without their null tool fields."""
    if isinstance(value, dict):
        if "role" in value:
            return {k: v for k, v in value.items() if v is not None or k not in WRITTEN_FIELDS}
        return {k: json_row(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_row(v) for v in value]
    return value


def named_turns(*parts: list[dict] | None) -> list[list[dict] | None]:
    """The parts of one record (e.g. prompt and reply) with each tool turn given the ``name`` of
    the function it answers: the call with its ``tool_call_id``, else the next call not yet
    answered (ShareGPT's observations follow their calls in order)."""
    by_id: dict[str, str] = {}
    for part in parts:
        for t in part or ():
            for call in t.get("tool_calls") or ():
                if call.get("id"):
                    by_id[call["id"]] = call["function"]["name"]
    pending: list[str] = []
    out = []
    for part in parts:
        if part is None:
            out.append(None)
            continue
        turns = []
        for t in part:
            calls = t.get("tool_calls") or ()
            if calls:
                pending = [c["function"]["name"] for c in calls]
            if t.get("role") == "tool":
                name = by_id.get(t.get("tool_call_id") or "") or (pending.pop(0) if pending
                                                                  else None)
                t = {**t, "name": name}
            turns.append(t)
        out.append(turns)
    return out


def sharegpt_call_value(turn: dict) -> str:
    """A ShareGPT ``function_call`` turn's value: the calls as LLaMA-Factory reads them."""
    calls = [{"name": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"])}
             for c in turn["tool_calls"]]
    return json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)
