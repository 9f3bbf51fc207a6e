"""The column contract of a run's frame: record kinds, the message struct and the columns every
record frame has (see :mod:`curate.records` for the record models)."""

from __future__ import annotations

import polars as pl

KINDS = ("sft", "preference", "prompt", "passage")

TOOL_CALL = pl.Struct({"id": pl.String, "type": pl.String,
                       "function": pl.Struct({"name": pl.String, "arguments": pl.String})})
MESSAGE = pl.Struct({"role": pl.String, "content": pl.String,
                     "tool_calls": pl.List(TOOL_CALL), "tool_call_id": pl.String})
MESSAGES = pl.List(MESSAGE)
MESSAGE_COLUMNS = ("messages", "prompt", "chosen", "rejected")
TOOL_FIELDS = ("tool_calls", "tool_call_id")
RECORD_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String,
    "kind": pl.String,
    "messages": MESSAGES,
    "prompt": MESSAGES,
    "chosen": MESSAGES,
    "rejected": MESSAGES,
    "chosen_score": pl.Float64,
    "rejected_score": pl.Float64,
    "source": pl.String,
    "meta": pl.String,
}
RECORD_COLUMNS = tuple(RECORD_SCHEMA)


def empty_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=RECORD_SCHEMA)
