"""records_to_frame builds the record frame column by column; the frame is the one polars
makes from the record dicts, for valid records, tool use and near misses alike."""

from __future__ import annotations

import datetime
import json
import math

import polars as pl
import pytest

from curate import records_frame
from curate.record_schema import RECORD_SCHEMA, empty_frame
from curate.records import records_to_frame

from .test_records import CALL, CALLS, RESULT, A, U, _records

NOT_PLAIN = [  # values the flat build leaves to polars (each one in one record)
    {"kind": "sft", "id": 7, "source": "s", "messages": [U, A]},
    {"kind": "sft", "id": "i", "source": "s", "messages": [{"role": 1, "content": "q"}, A]},
    {"kind": "sft", "id": "i", "source": "s", "messages": [{"role": "user", "content": 5}, A]},
    {"kind": "sft", "id": "i", "source": "s", "messages": ({"role": "user", "content": "q"},)},
    {"kind": "sft", "id": "i", "source": "s", "messages": "user: q"},
    {"kind": "sft", "id": "i", "source": "s", "messages": [U, {**A, "tool_call_id": 3}]},
    {"kind": "sft", "id": "i", "source": "s", "messages": [U, {**A, "tool_calls": "f()"}]},
    {"kind": "sft", "id": "i", "source": "s",
     "messages": [U, {**A, "tool_calls": [{**CALL, "id": 1}]}]},
    {"kind": "sft", "id": "i", "source": "s",
     "messages": [U, {**A, "tool_calls": [{**CALL, "index": 0}]}]},
    {"kind": "sft", "id": "i", "source": "s", "messages": [U, {**A, "tool_calls": [
        {**CALL, "function": {"name": "f", "arguments": {"city": "Oslo"}}}]}]},
    {"kind": "preference", "id": "p", "source": "s", "prompt": [U], "chosen": [A],
     "rejected": [A], "chosen_score": True},
    {"kind": "preference", "id": "p", "source": "s", "prompt": [U], "chosen": [A],
     "rejected": [A], "rejected_score": 2 ** 60},
]
TOOL_USE = [  # records with tool fields of plain types, as convert makes them and odder
    {"kind": "sft", "id": "t1", "source": "s", "meta": {"file": "a.jsonl", "line": 1},
     "messages": [U, CALLS, RESULT, A]},
    {"kind": "sft", "id": "t2", "source": "s", "messages": [U, {**A, "tool_calls": [
        {"id": None, "type": "function", "function": {"name": "f", "arguments": "{}"}},
        {"function": {"name": "g"}}, {"id": "x", "function": None}]}, A]},
    {"kind": "sft", "id": "t3", "source": "s", "messages": [U, {**A, "tool_calls": []}]},
    {"kind": "preference", "id": "t4", "source": "s", "prompt": [U, CALLS, RESULT, U],
     "chosen": [CALLS, RESULT, A], "rejected": [A], "chosen_score": 2, "rejected_score": 0.5},
    {"kind": "sft", "id": "t5", "source": "s",
     "messages": [{**U, "tool_calls": None, "tool_call_id": None, "name": "x"}, A]},
    {"kind": "sft", "id": "t6", "source": "s",  # tool fields in turns of one or two keys
     "messages": [U, {"role": "assistant", "tool_calls": [CALL]}, {"tool_calls": [CALL]},
                  {"content": "r", "tool_call_id": "c"}, {"tool_call_id": "c"}, A]},
]
ODD_META = [None, {}, [], "text", {"naïve": "日本", "at": datetime.date(2026, 12, 7)},
            {"n": [1, 2.5, None, True], "d": {"x": {"y": "z"}}}, {"f": math.inf}, {1: "a"}]


def polars_reads(records: list[dict]) -> pl.DataFrame:
    """The frame as polars reads it from the record dicts (the build before the flat one)."""
    rows = [{**{c: r.get(c) for c in RECORD_SCHEMA},
             "meta": json.dumps(r.get("meta") or {}, ensure_ascii=False, default=str)}
            for r in records]
    return pl.DataFrame(rows, schema=RECORD_SCHEMA, orient="row")


def _same(records: list[dict]) -> None:
    got = records_to_frame(records)
    assert got.schema == polars_reads(records).schema
    assert got.equals(polars_reads(records)), records


def test_one_record_at_a_time_as_polars_reads_it():
    readable = []
    for record in _records() + NOT_PLAIN + TOOL_USE:
        try:
            polars_reads([record])
        except (pl.exceptions.PolarsError, TypeError, ValueError) as exc:  # a score of "high"
            with pytest.raises(type(exc)):
                records_to_frame([record])
            continue
        _same([record])
        readable.append(record)
    _same(readable)  # and all of them in one frame (rows without turns among rows with)
    assert len(readable) > 200


def test_plain_records_take_the_flat_build_and_give_the_same_frame():
    plain = [r for r in _records() + TOOL_USE
             if records_frame.build_frame([r]) is not None]
    assert len(plain) > 150 and all(r in plain for r in TOOL_USE)
    assert any(r.get("messages") == [] for r in plain)
    assert records_frame.build_frame(plain) is not None
    _same(plain)
    for record in NOT_PLAIN:
        assert records_frame.build_frame(plain + [record]) is None, record
    # kinds mixed in every order, so that null, empty and full turn lists meet
    _same(plain[::-1])
    _same(plain[1::2] + plain[::2])


def test_columns_with_no_turns_at_all():
    _same([{"kind": "sft", "id": "a", "source": "s", "messages": [], "meta": {}}])
    _same([{"kind": "sft", "id": "a", "source": "s"}, {"kind": "sft", "id": "b", "source": "s",
                                                         "messages": []}])
    assert records_to_frame([]).equals(empty_frame())


@pytest.mark.parametrize("meta", ODD_META)
def test_meta_json_is_json_dumps(meta):
    encode = records_frame._meta_encoder()
    assert encode(meta) == json.dumps(meta or {}, ensure_ascii=False, default=str)
    _same([{"kind": "sft", "id": "a", "source": "s", "messages": [U, A], "meta": meta}])


def test_meta_that_json_cannot_write_raises_as_json_dumps_does():
    circular: dict = {}
    circular["self"] = circular
    encode = records_frame._meta_encoder()
    with pytest.raises(ValueError, match="Circular reference"):
        encode(circular)
    with pytest.raises(TypeError, match="keys must be"):
        encode({("a", "b"): 1})
    shared = {"x": 1}
    assert encode({"a": shared, "b": shared}) == '{"a": {"x": 1}, "b": {"x": 1}}'
