"""The shared parts of the stage contract: decisions, the score cache, fingerprints."""

from __future__ import annotations

import polars as pl

from curate.messages import response_messages
from curate.safety import scorers
from curate.stages.base import RowScorer, StageContext
from curate.stages.safety_toxicity import Toxicity


class ReplyLength(RowScorer):
    """Scores the reply's length, counting the rows it scores."""

    cache_scores = True
    score_columns = ("reply_len",)
    scored: list[str] = []

    def score(self, batch, ctx):
        type(self).scored += batch["id"].to_list()
        text = response_messages().list.eval(pl.element().struct.field("content")).list.join("")
        return batch.with_columns(text.str.len_chars().alias("reply_len"))

    def checks(self, columns):
        return [("long", pl.col("reply_len") > 5), ("odd", pl.col("reply_len") % 2 == 1)]


def test_first_failing_check_is_the_reason_and_every_failure_counts(rec):
    df = rec.frame(rec.qa("q", "abc", id="a"), rec.qa("q", "abcdefg", id="b"),
                   rec.qa("q", "ab", id="c"))
    res = ReplyLength().apply(df, StageContext())
    assert res.kept["id"].to_list() == ["c"]
    assert res.rejected.select("id", "drop_reason").rows() == [("a", "odd"), ("b", "long")]
    assert res.stats["failures"] == {"long": 1, "odd": 2}


def test_cache_rescoring_a_changed_text_under_the_same_id(rec, tmp_path):
    ctx = StageContext(name="len", cache_dir=tmp_path)
    first = rec.frame(rec.qa("q", "ab", id="a"), rec.qa("q", "abcd", id="b"))
    ReplyLength.scored = []
    ReplyLength().apply(first, ctx)
    assert ReplyLength.scored == ["a", "b"]
    ReplyLength.scored = []
    again = ReplyLength().apply(first, ctx)
    assert ReplyLength.scored == []  # both from the cache
    assert again.kept["reply_len"].to_list() == [2, 4]
    # the same ids, b's reply changed: b is scored again, a comes from the cache
    changed = rec.frame(rec.qa("q", "ab", id="a"), rec.qa("q", "abcdefgh", id="b"))
    res = ReplyLength().apply(changed, ctx)
    assert ReplyLength.scored == ["b"]
    assert res.kept["id"].to_list() == ["a"]
    assert res.rejected.select("id", "reply_len", "drop_reason").rows() == [("b", 8, "long")]


def test_fingerprint_follows_what_auto_resolved_to(monkeypatch):
    """`model: auto` is Detoxify on one machine and profanity-check on another: a checkpoint
    made with one is not reused with the other."""
    found = {"spec": scorers.ScorerSpec("detoxify", "original")}
    monkeypatch.setattr(scorers, "resolve_scorer", lambda *a: found["spec"])
    with_detoxify = Toxicity({"model": "auto"}).fingerprint()
    found["spec"] = scorers.ScorerSpec("profanity-check")
    assert Toxicity({"model": "auto"}).fingerprint() != with_detoxify
    found["spec"] = scorers.ScorerSpec("detoxify", "original")
    assert Toxicity({"model": "auto"}).fingerprint() == with_detoxify
