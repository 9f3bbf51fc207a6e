"""The record frame built from record dicts column by column (for
:func:`curate.records.records_to_frame`).

polars builds a list-of-struct column from Python dicts about ten times slower than from flat
columns (one value a turn) grouped by record: at 40,000 records the dicts took a third of
converting a file. :func:`build_frame` takes the flat way when every value has
the plain type of its column (text, a number, a list of turn dicts whose fields are text, tool
calls of text fields); given anything else it returns None and the caller lets polars read the
dicts, so what polars makes of an odd value (a number as a role, an id of 7) and the errors it
raises stay polars' own. Both ways give the same frame (tests/test_records_frame.py).
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from .record_schema import MESSAGES, RECORD_COLUMNS, RECORD_SCHEMA, TOOL_CALL, empty_frame

_TEXT = frozenset((str, type(None)))
_CALL_KEYS = frozenset(("id", "type", "function"))
_FUNCTION_KEYS = frozenset(("name", "arguments"))
_LARGEST_EXACT = 2 ** 53  # every int up to this is one float, whichever way it is converted


def meta_json(meta: Any) -> str:
    """A record's ``meta`` as the JSON text of the frame's ``meta`` column."""
    return json.dumps(meta or {}, ensure_ascii=False, default=str)


def _meta_encoder():
    """:func:`meta_json` for one frame's records: json.dumps builds its encoder on every call,
    which was three quarters of the time of encoding a record's small ``meta``."""
    if json.encoder.c_make_encoder is None:  # a Python without the _json module
        return meta_json
    markers: dict = {}
    encode = json.encoder.c_make_encoder(markers, str, json.encoder.encode_basestring, None,
                                         ": ", ", ", False, False, True)

    def meta(value: Any) -> str:
        try:
            return "".join(encode(value or {}, 0))
        except Exception:  # as json.dumps raises it (a circular meta, a key of a tuple)
            markers.clear()
            return meta_json(value)

    return meta


def frame_of(records: list[dict]) -> pl.DataFrame:
    """The frame of ``records``: :func:`build_frame`, else as polars reads the dicts."""
    if not records:
        return empty_frame()
    frame = build_frame(records)
    if frame is not None:
        return frame
    rows = []
    for r in records:
        row = {c: r.get(c) for c in RECORD_COLUMNS}
        row["meta"] = meta_json(r.get("meta"))
        rows.append(row)
    return pl.DataFrame(rows, schema=RECORD_SCHEMA, orient="row")


def build_frame(records: list[dict]) -> pl.DataFrame | None:
    """The frame in RECORD_SCHEMA (``meta`` as JSON text) of ``records`` (at least one), or
    None when a value is not of its column's plain type."""
    columns: dict[str, pl.Series] = {}
    for name, dtype in RECORD_SCHEMA.items():
        if name == "meta":
            meta = _meta_encoder()
            series = pl.Series(name, [meta(r.get("meta")) for r in records], pl.String)
        elif dtype == MESSAGES:
            series = _turns_column(name, [r.get(name) for r in records])
        elif dtype == pl.String:
            series = _text_column(name, [r.get(name) for r in records])
        else:
            series = _number_column(name, [r.get(name) for r in records])
        if series is None:
            return None
        columns[name] = series
    return pl.DataFrame([columns[c] for c in RECORD_COLUMNS])


def _text_column(name: str, values: list) -> pl.Series | None:
    if not {type(v) for v in values} <= _TEXT:
        return None
    return pl.Series(name, values, pl.String)


def _number_column(name: str, values: list) -> pl.Series | None:
    types = {type(v) for v in values}
    if not types <= {float, int, type(None)}:
        return None
    if int in types:
        if any(type(v) is int and abs(v) > _LARGEST_EXACT for v in values):
            return None
        values = [float(v) if type(v) is int else v for v in values]
    return pl.Series(name, values, pl.Float64)


def _turns_column(name: str, values: list) -> pl.Series | None:
    """A MESSAGES column from lists of turn dicts (None: a null row)."""
    n = len(values)
    roles, contents, rows, lengths = [], [], [], []
    calls: dict[int, list] = {}  # turn -> its tool_calls, where set
    answers: dict[int, str] = {}  # turn -> its tool_call_id, where set
    for i, turns in enumerate(values):
        if turns is None:
            lengths.append(None)
            continue
        if type(turns) is not list:
            return None
        lengths.append(len(turns))
        for t in turns:
            if type(t) is not dict:
                return None
            role, content = t.get("role"), t.get("content")
            if type(role) not in _TEXT or type(content) not in _TEXT:
                return None
            if (len(t) > 2 or "role" not in t or "content" not in t) and not _tool_fields(
                    t, len(roles), calls, answers):  # keys beyond role and content
                return None
            roles.append(role)
            contents.append(content)
        rows.extend([i] * len(turns))
    if not rows:
        if all(length is None for length in lengths):
            return pl.repeat(None, n, dtype=MESSAGES, eager=True).alias(name)
        return _spread(name, pl.Series(name, [], MESSAGES), pl.Series([], dtype=pl.Int64), lengths)
    flat = pl.DataFrame([pl.Series("role", roles, pl.String),
                         pl.Series("content", contents, pl.String),
                         _sparse("tool_calls", calls, len(rows), pl.List(TOOL_CALL)),
                         _sparse("tool_call_id", answers, len(rows), pl.String)]).to_struct(name)
    row = pl.Series("__i", rows, pl.Int64).set_sorted()  # rows are appended in order
    lists = (pl.DataFrame([row, flat]).group_by("__i", maintain_order=True).agg(pl.col(name)))
    if lists.height == n:  # every row has turns: the lists are in row order
        return lists[name].cast(MESSAGES)
    return _spread(name, lists[name], lists["__i"], lengths)


def _tool_fields(turn: dict, at: int, calls: dict, answers: dict) -> bool:
    """Note the tool fields of turn ``at`` where set; False when one is not of its plain type."""
    called, answered = turn.get("tool_calls"), turn.get("tool_call_id")
    if called is not None:
        if not _plain_calls(called):
            return False
        calls[at] = called
    if answered is not None:
        if type(answered) is not str:
            return False
        answers[at] = answered
    return True


def _sparse(name: str, values: dict[int, Any], n: int, dtype: pl.DataType) -> pl.Series:
    """A column of ``n`` nulls but for ``values`` (index -> value)."""
    if not values:
        return pl.repeat(None, n, dtype=dtype, eager=True).alias(name)
    full = [None] * n
    for i, value in values.items():
        full[i] = value
    return pl.Series(name, full, dtype)


def _spread(name: str, lists: pl.Series, at: pl.Series, lengths: list) -> pl.Series:
    """``lists`` (of the rows ``at``) in a column of ``len(lengths)`` rows: null where the
    length is None, empty where it is 0."""
    full = pl.DataFrame({"__i": pl.int_range(len(lengths), eager=True, dtype=pl.Int64),
                         "__n": pl.Series(lengths, dtype=pl.Int64)})
    found = pl.DataFrame([at.alias("__i"), lists.cast(MESSAGES).alias(name)])
    return (full.join(found, on="__i", how="left", maintain_order="left")
            .select(pl.when(pl.col("__n") == 0).then(pl.lit([], dtype=MESSAGES))
                    .otherwise(pl.col(name)).alias(name)).to_series())


def _plain_calls(calls: Any) -> bool:
    """A list of call dicts with text fields only (what the flat build takes as polars would)."""
    if type(calls) is not list:
        return False
    for call in calls:
        if type(call) is not dict or not call.keys() <= _CALL_KEYS:
            return False
        if type(call.get("id")) not in _TEXT or type(call.get("type")) not in _TEXT:
            return False
        fn = call.get("function")
        if fn is None:
            continue
        if type(fn) is not dict or not fn.keys() <= _FUNCTION_KEYS:
            return False
        if type(fn.get("name")) not in _TEXT or type(fn.get("arguments")) not in _TEXT:
            return False
    return True
