"""decontam.semantic: light paraphrases of AlpacaEval instructions are found, unrelated real
questions (the Python FAQ) are not (all-MiniLM-L6-v2, from its package)."""

from __future__ import annotations

import gzip
import json

import polars as pl
import pytest

from curate.convert import convert
from curate.stages.base import StageContext
from curate.stages.decontam_semantic import SemanticDecontam, decontam_semantic

from ..conftest import FAQ_SAMPLE, OUTPUTS_FILES, TOPICS

# which records cross the threshold is that of the float32 path
pytestmark = pytest.mark.usefixtures("fp32_embeddings")

# (index of the real AlpacaEval instruction, a light paraphrase written for the test); the
# measurement behind the default threshold (benchmarks/README.md) used these
REAL_PARAPHRASES = [
    (0, "Which well-known actors got their start on Broadway? Name a few."),
    (40, "In what year did the colonization of Canada happen?"),
    (120, "Which film was Chris Tucker's first movie?"),
    (160, "Why is YouTube more popular than the other video sharing sites?"),
    (360, "How do I begin learning the guitar and eventually master it?"),
    (400, "On Windows, how can I scan my system drive for errors?"),
    (800, "Write a YouTube video script about jazz: its history and its cultural significance."),
]


def test_paraphrases_of_made_items_found_and_the_faq_left(alpaca_eval_files, rec):
    path = alpaca_eval_files.path / OUTPUTS_FILES[0]
    items = [r["instruction"] for r in json.loads(gzip.decompress(path.read_bytes()))]
    if alpaca_eval_files.name == "made":
        pairs = [(TOPICS.index(t), f"In two sentences, explain Python {t} to a beginner.")
                 for t in ("decorators", "generators", "virtual environments")]
    else:
        pairs = REAL_PARAPHRASES
    faq = convert(FAQ_SAMPLE, format="docs").frame
    df = pl.concat([rec.frame(*(rec.qa(p, "An answer.", id=f"para{i}") for i, p in pairs)),
                    faq], how="vertical_relaxed")
    res = decontam_semantic(df, benchmarks={"alpaca_eval": str(path)})
    rejected = res.rejected.sort("id")
    assert rejected["id"].to_list() == sorted(f"para{i}" for i, _ in pairs)
    assert set(rejected["drop_reason"]) == {"contaminated"}
    want = dict((f"para{i}", items[i]) for i, _ in pairs)
    assert dict(zip(rejected["id"], rejected["contaminated_match"])) == want
    assert res.kept.height == faq.height
    assert res.kept["contaminated_similarity"].max() < 0.75 <= rejected[
        "contaminated_similarity"].min()
    assert res.stats["mode"] == "semantic" and res.stats["removed"] == len(pairs)
    assert res.stats["benchmarks"]["alpaca_eval"]["prompts"] == alpaca_eval_files.rows


def test_mark_and_the_embedding_cache(rec, tmp_path):
    bench = tmp_path / "b.jsonl"
    bench.write_text(json.dumps({"prompt": "How do I bake sourdough bread at home?"}) + "\n")
    df = rec.frame(rec.qa("What's the way to make sourdough bread in my own kitchen?", "x",
                          id="para"), rec.qa("List three prime numbers.", "2, 3, 5", id="other"))
    from curate.stages.base import StageContext

    ctx = StageContext(name="s", cache_dir=tmp_path / "cache")
    res = SemanticDecontam({"benchmarks": {"b": str(bench)}, "action": "mark"}).apply(df, ctx)
    assert res.rejected.height == 0
    assert res.kept["contaminated_by"].to_list() == [["b"], None]
    assert res.stats["marked"] == 1
    assert list((tmp_path / "cache" / "embeddings").glob("*.parquet"))  # the run's cache


def test_several_pieces_and_an_earlier_finding(tmp_path, monkeypatch):
    """Input in parts of 9 rows, embedded 4 at a time: the records of one piece; a
    ``contaminated_by`` found by an earlier stage stays as it was."""
    from ..engines.test_ray_decontam import corpus
    from .test_dedup_semantic import in_parts

    path, df = corpus(tmp_path)
    earlier = pl.Series("contaminated_by", [["ngram"] if i in (3, df.height - 1) else None
                                            for i in range(df.height)], pl.List(pl.String))
    df = df.with_columns(earlier)
    monkeypatch.setattr(SemanticDecontam, "piece_rows", 4)
    for action in ("drop", "mark"):
        stage = SemanticDecontam({"benchmarks": {"alpaca_eval": path}, "action": action})
        ctx = StageContext(name="decontam.semantic", cache_dir=tmp_path / "cache")
        one = stage.apply(df, ctx)
        many = in_parts(stage, df, ctx, tmp_path / action, rows=9)
        assert many.kept.equals(one.kept) and many.rejected.equals(one.rejected)
        assert many.stats == one.stats
        out = pl.concat([one.kept, one.rejected], how="diagonal").sort("id")
        hits = out.filter(pl.col("contaminated_match").is_not_null())
        assert hits.height == 13 and out["contaminated_similarity"].null_count() == 0
        by = dict(zip(out["id"], out["contaminated_by"].to_list()))
        assert by[df["id"][3]] == ["ngram"]  # an FAQ record: kept as it was
        # the paraphrase, a hit: the earlier finding stays (and is what the stats count)
        assert by[df["id"][df.height - 1]] == ["ngram"]
        assert one.stats["by_benchmark"] == {"alpaca_eval": 12, "ngram": 1}
        assert one.stats["removed" if action == "drop" else "marked"] == 13
        assert one.dropped() == ({"contaminated": 13} if action == "drop" else {})
        assert one.kept.columns == df.columns + ["contaminated_similarity",
                                                 "contaminated_match"]
