"""keep: {prefer: [...], then: ...}: the copy from the most preferred input survives."""

from __future__ import annotations

import polars as pl
import pytest

from curate.errors import CurateError
from curate.records import records_to_frame
from curate.stages.base import StageContext
from curate.stages.registry import stage_class

REPLY = ("Python lists keep their items in order and can be changed in place, which makes "
         "them the everyday container for sequences of values in most programs.")


def _frame(rows: list[tuple[str, str | None, str, float]]) -> pl.DataFrame:
    """Records ``(id, dataset, reply, score)`` with one question."""
    frame = records_to_frame([
        {"id": rid, "kind": "sft", "source": "s", "meta": {},
         "messages": [{"role": "user", "content": "What is a list?"},
                      {"role": "assistant", "content": reply}]}
        for rid, _, reply, _ in rows])
    return frame.with_columns(pl.Series("dataset", [d for _, d, _, _ in rows], pl.String),
                              pl.Series("score", [s for *_, s in rows], pl.Float64))


ROWS = [("a", "ultrachat", REPLY, 0.9),
        ("b", None, REPLY, 0.99),
        ("c", "ours", REPLY.upper(), 0.1),
        ("d", "ours", REPLY + " ", 0.5),
        ("e", "other", REPLY, 1.0)]


@pytest.mark.parametrize("use, options", [("dedup.exact", {}),
                                          ("dedup.near", {"threshold": 0.8}),
                                          ("dedup.semantic", {"threshold": 0.9})])
@pytest.mark.parametrize("then, survivor", [("first", "c"), ("score", "d")])
def test_preferred_input_survives(use, options, then, survivor):
    keep = {"prefer": ["ours", "ultrachat"], "then": then}
    out = stage_class(use)({**options, "keep": keep}).apply(_frame(ROWS), StageContext())
    assert out.kept["id"].to_list() == [survivor]
    assert sorted(out.rejected["kept_id"].to_list()) == [survivor] * 4


@pytest.mark.parametrize("use", ["dedup.exact", "dedup.near"])
def test_unlisted_and_null_inputs_rank_last(use):
    rows = [("a", None, REPLY, 0.0), ("b", "other", REPLY, 0.0), ("c", "ultrachat", REPLY, 0.0)]
    out = stage_class(use)({"keep": {"prefer": ["ours", "ultrachat"]}}).apply(
        _frame(rows), StageContext())
    assert out.kept["id"].to_list() == ["c"]
    rows = [("a", None, REPLY, 0.0), ("b", "other", REPLY, 0.0)]  # neither listed: first
    out = stage_class(use)({"keep": {"prefer": ["ours"]}}).apply(_frame(rows), StageContext())
    assert out.kept["id"].to_list() == ["a"]


def test_plain_keep_values_still_valid():
    out = stage_class("dedup.near")({"keep": "score"}).apply(_frame(ROWS), StageContext())
    assert out.kept["id"].to_list() == ["e"]
    out = stage_class("dedup.exact")({"keep": "score"}).apply(_frame(ROWS), StageContext())
    assert out.kept["id"].to_list() == ["e"]
    assert stage_class("dedup.exact")().apply(_frame(ROWS), StageContext()).kept["id"] \
        .to_list() == ["a"]


def test_bad_keep_is_a_clear_error():
    no_dataset = _frame(ROWS).drop("dataset")
    with pytest.raises(CurateError, match=r"^keep\.prefer: the data has no 'dataset' column"):
        stage_class("dedup.near")({"keep": {"prefer": ["ours"]}}).apply(no_dataset,
                                                                       StageContext())
    with pytest.raises(CurateError, match=r"^keep\.then: no column 'nope' to rank duplicates"):
        stage_class("dedup.exact")({"keep": {"prefer": ["ours"], "then": "nope"}}).apply(
            _frame(ROWS), StageContext())
    with pytest.raises(CurateError, match=r"^keep: longest does not rank exact copies"):
        stage_class("dedup.exact")({"keep": "longest"}).apply(_frame(ROWS), StageContext())
    with pytest.raises(Exception, match="input 'ours' is listed twice"):
        stage_class("dedup.near")({"keep": {"prefer": ["ours", "ours"]}})
    with pytest.raises(Exception, match="prefer"):
        stage_class("dedup.near")({"keep": {"prefer": []}})
