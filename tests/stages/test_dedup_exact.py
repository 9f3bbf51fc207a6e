from __future__ import annotations

import polars as pl
import pytest

from curate.stages.base import DROP_REASON, KEPT_ID, StageContext
from curate.stages.dedup_exact import ExactDedup, dedup_exact
from curate.stages.registry import stage_class


def _ids(df: pl.DataFrame) -> list[str]:
    return df["id"].to_list()


def _check_accounting(df, result):
    assert result.kept.height + result.rejected.height == df.height
    assert sorted(_ids(result.kept) + _ids(result.rejected)) == sorted(_ids(df))
    # input columns are unchanged: same values, same dtypes, in input order
    kept_in = df.filter(pl.col("id").is_in(_ids(result.kept)))
    assert result.kept.select(df.columns).equals(kept_in)
    rej_in = df.filter(pl.col("id").is_in(_ids(result.rejected)))
    assert result.rejected.select(df.columns).equals(rej_in)
    assert result.kept.columns == df.columns + ["dup_cluster"]
    assert result.kept.schema["dup_cluster"] == pl.String
    assert set(result.rejected.columns) == set(df.columns) | {"dup_cluster", DROP_REASON, KEPT_ID}


def test_registered():
    assert stage_class("dedup.exact") is ExactDedup


def test_conversation_normalisation_variants_collapse(rec):
    df = rec.frame(
        rec.qa("Ｈｅｌｌｏ  World", "Hi there!", id="a"),
        rec.qa("hello world", "hi   THERE!", id="b"),
        rec.qa("  HELLO\tworld\n", "Hi there! ", id="c"),
        rec.qa("hello world", "Hi there?", id="d"),          # different reply
        rec.qa("Straße", "ok", id="e"),
        rec.qa("STRASSE", "OK", id="f"),                     # full case folding
        rec.qa("unique", "answer", id="g"),
    )
    result = dedup_exact(df)
    _check_accounting(df, result)
    assert _ids(result.kept) == ["a", "d", "e", "g"]
    assert _ids(result.rejected) == ["b", "c", "f"]
    assert result.rejected[DROP_REASON].to_list() == ["duplicate_exact"] * 3
    assert result.rejected[KEPT_ID].to_list() == ["a", "a", "e"]
    assert result.kept["dup_cluster"].to_list() == ["a", None, "e", None]
    assert result.rejected["dup_cluster"].to_list() == ["a", "a", "e"]
    assert result.stats == {"on": "conversation", "groups": 2, "duplicates": 3}
    assert result.dropped() == {"duplicate_exact": 3}


def test_roles_count_in_the_key(rec):
    df = rec.frame(
        rec.sft(("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello"), id="a"),
        rec.sft(("user", "Be brief."), ("user", "Hi"), ("assistant", "Hello"), id="b"),
        rec.sft(("system", "be BRIEF."), ("user", "hi"), ("assistant", "hello"), id="c"),
    )
    result = dedup_exact(df)
    assert _ids(result.kept) == ["a", "b"]
    assert result.rejected[KEPT_ID].to_list() == ["a"]


def test_turn_boundaries_count_in_the_key(rec):
    df = rec.frame(
        rec.sft(("user", "a b"), ("assistant", "c"), id="x"),
        rec.sft(("user", "a"), ("assistant", "b c"), id="y"),
    )
    assert dedup_exact(df).rejected.height == 0


def _mixed(rec):
    return rec.frame(
        rec.qa("What is 2+2?", "4", id="s1"),
        rec.pair("what is 2+2?", "4", "5", id="p1"),          # same conversation as s1
        rec.pair("What is 2+2?", "Four.", "5", id="p2"),      # same prompt only
        rec.qa("Name a colour.", "4", id="s2"),               # same response as s1
        rec.pair("What is 2+2?", "Four.", "Five", id="p3"),   # conversation == p2, pair differs
        rec.pair("WHAT IS 2+2?", "four.", "five", id="p4"),   # pair == p3
    )


@pytest.mark.parametrize("on, kept, rejected, kept_id, groups", [
    # SFT rows and pairs never match each other (the kind is part of the key)
    ("prompt", ["s1", "p1", "s2"], ["p2", "p3", "p4"], ["p1", "p1", "p1"], 1),
    ("response", ["s1", "p1", "p2"], ["s2", "p3", "p4"], ["s1", "p2", "p2"], 2),
    ("conversation", ["s1", "p1", "p2", "s2"], ["p3", "p4"], ["p2", "p2"], 1),
    ("pair", ["s1", "p1", "p2", "s2", "p3"], ["p4"], ["p3"], 1),
])
def test_each_part(rec, on, kept, rejected, kept_id, groups):
    df = _mixed(rec)
    result = ExactDedup({"on": on}).apply(df, StageContext(name="dedup.exact"))
    _check_accounting(df, result)
    assert _ids(result.kept) == kept
    assert _ids(result.rejected) == rejected
    assert result.rejected[KEPT_ID].to_list() == kept_id
    clusters = dict(zip(_ids(result.kept), result.kept["dup_cluster"].to_list()))
    for k in kept:
        assert clusters[k] == (k if k in kept_id else None)
    assert result.stats == {"on": on, "groups": groups, "duplicates": len(rejected)}


def test_prompt_of_multi_turn_sft_excludes_the_reply(rec):
    df = rec.frame(
        rec.sft(("user", "a"), ("assistant", "b"), ("user", "c"), ("assistant", "d"), id="x"),
        rec.sft(("user", "A"), ("assistant", "B"), ("user", "C"), ("assistant", "other"), id="y"),
        rec.pair([("user", "a"), ("assistant", "b"), ("user", "c")], "z", "w", id="z"),
    )
    result = dedup_exact(df, on="prompt")
    assert _ids(result.kept) == ["x", "z"]          # z is a pair: another kind
    assert result.rejected[KEPT_ID].to_list() == ["x"]


def test_first_row_in_input_order_is_kept(rec):
    records = [rec.qa("same", "same", id=f"r{i}") for i in (5, 3, 9, 1)]
    df = rec.frame(*records)
    result = dedup_exact(df)
    assert _ids(result.kept) == ["r5"]
    assert _ids(result.rejected) == ["r3", "r9", "r1"]
    assert set(result.rejected[KEPT_ID]) == {"r5"}


def test_no_duplicates_and_empty_frame(rec):
    df = rec.frame(rec.qa("a", "b", id="1"), rec.qa("c", "d", id="2"))
    result = dedup_exact(df)
    assert _ids(result.kept) == ["1", "2"]
    assert result.kept["dup_cluster"].null_count() == 2
    assert result.rejected.height == 0
    assert result.stats == {"on": "conversation", "groups": 0, "duplicates": 0}
    empty = rec.frame()
    result = dedup_exact(empty)
    assert result.kept.height == 0 and result.rejected.height == 0
    assert "dup_cluster" in result.kept.columns


def test_extra_columns_pass_through_and_existing_cluster_kept(rec):
    df = rec.frame(rec.qa("q", "a", id="1"), rec.qa("Q", "A", id="2"), rec.qa("x", "y", id="3"))
    df = df.with_columns(pl.Series("dup_cluster", ["near-7", None, None]),
                         pl.Series("score", [0.1, 0.2, 0.3]))
    result = dedup_exact(df)
    assert result.kept.columns == df.columns
    assert result.kept["dup_cluster"].to_list() == ["near-7", None]
    assert result.kept["score"].to_list() == [0.1, 0.3]
    assert result.rejected["dup_cluster"].to_list() == ["1"]


def test_different_texts_with_equal_keys_only(rec):
    # Many near-identical rows: only exact (normalised) equality groups them.
    records = [rec.qa(f"question {i}", f"answer {i % 7}", id=f"id{i}") for i in range(500)]
    records += [rec.qa(f"QUESTION {i}", f"Answer {i % 7}", id=f"dup{i}") for i in range(0, 500, 5)]
    df = rec.frame(*records)
    result = dedup_exact(df)
    _check_accounting(df, result)
    assert result.rejected.height == 100
    assert result.rejected[KEPT_ID].to_list() == [f"id{i}" for i in range(0, 500, 5)]
    assert result.stats["groups"] == 100


def test_options_are_validated():
    with pytest.raises(Exception):
        ExactDedup({"on": "everything"})
    with pytest.raises(Exception):
        ExactDedup({"threshold": 0.5})


def _tool_conv(city: str, call_id: str, id: str) -> dict:
    return {"kind": "sft", "id": id, "source": "t", "messages": [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": call_id, "type": "function",
             "function": {"name": "weather", "arguments": f'{{"city": "{city}"}}'}}]},
        {"role": "tool", "content": "sun", "tool_call_id": call_id},
        {"role": "assistant", "content": "Sunny."}]}


def test_tool_calls_count_in_the_key_their_ids_do_not(rec):
    """Conversations that differ only in a call's arguments are different; a call id names a
    call (ids are made up per run), so conversations that differ only in ids are the same."""
    df = rec.frame(_tool_conv("Oslo", "call_a", "oslo"), _tool_conv("Rome", "call_b", "rome"),
                   _tool_conv("Oslo", "call_z", "oslo-again"))
    result = dedup_exact(df)
    _check_accounting(df, result)
    assert _ids(result.kept) == ["oslo", "rome"]
    assert result.rejected[KEPT_ID].to_list() == ["oslo"]
