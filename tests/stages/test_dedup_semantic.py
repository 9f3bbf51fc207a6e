from __future__ import annotations

import random
import re

import polars as pl
import pytest

from curate.stages.base import KEPT_ID, StageContext
from curate.stages.dedup_semantic import SemanticDedup, dedup_semantic
from curate.stages.registry import stage_class

# the copies caught and the keep decisions below are those of the float32 path
pytestmark = pytest.mark.usefixtures("fp32_embeddings")

SYNONYMS = {"use": "utilize", "function": "routine", "module": "package", "program": "application",
            "file": "document", "can": "may", "value": "result", "object": "instance",
            "list": "sequence", "string": "text", "you": "one", "make": "create",
            "large": "big", "small": "little", "fast": "quick", "simple": "easy",
            "example": "sample", "also": "too", "many": "numerous", "often": "frequently"}


def faq_paragraphs(folder) -> list[str]:
    """Prose paragraphs (>= 200 characters, >= 3 sentences) of the Python FAQ files in folder."""
    out = []
    for path in sorted(folder.glob("*.rst.txt")):
        for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
            lines = block.strip().splitlines()
            if not lines or any(ln.startswith((" ", ".", "=", "-", "*", ">>>", ":")) for ln in lines):
                continue
            text = " ".join(ln.strip() for ln in lines)
            if len(text) >= 200 and len(re.split(r"(?<=[.!?])\s+", text)) >= 3:
                out.append(text)
    return out


def reorder(text: str, rng: random.Random) -> str:
    """The same sentences in another order."""
    sentences = re.split(r"(?<=[.!?])\s+", text)
    while len(sentences) > 1:
        shuffled = sentences[:]
        rng.shuffle(shuffled)
        if shuffled != sentences:
            return " ".join(shuffled)
    return text


def reword(text: str, rng: random.Random) -> str:
    """Synonyms for common words, and a few neighbouring words swapped."""
    words = [SYNONYMS.get(w, w) for w in text.split()]
    for _ in range(max(1, len(words) // 15)):
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


@pytest.fixture(scope="module")
def cached(tmp_path_factory):
    """Runs the stage with an embedding cache shared by this module's tests."""
    cache = tmp_path_factory.mktemp("embed-cache")

    def run(df, **options):
        return SemanticDedup(options).apply(df, StageContext(name="dedup.semantic", cache_dir=cache))
    return run


@pytest.fixture(scope="module")
def faq_frame(faq_corpus):
    """The vendored FAQ sample, then (../shared/data) the whole FAQ: each paragraph (p) with a
    reordered (r) and a reworded (w) copy."""
    paragraphs = faq_paragraphs(faq_corpus.path)
    rng = random.Random(0)
    records = [{"kind": "sft", "id": f"p{i}", "source": "faq", "meta": {},
                "messages": [{"role": "user", "content": "Explain."},
                             {"role": "assistant", "content": text}]}
               for i, text in enumerate(paragraphs)]
    for i, text in enumerate(paragraphs):
        for tag, change in (("r", reorder), ("w", reword)):
            records.append({**records[i], "id": f"{tag}{i}", "messages": [
                records[i]["messages"][0], {"role": "assistant", "content": change(text, rng)}]})
    from curate.records import records_to_frame

    return records_to_frame(records), len(paragraphs), faq_corpus.name


def test_registered():
    assert stage_class("dedup.semantic") is SemanticDedup


# paragraphs, copies caught, originals lost
EXPECTED = {"sample": (30, 59, 0), "shared": (118, 231, 0)}


def test_catches_reordered_and_reworded_faq_copies(faq_frame, cached):
    df, n, corpus = faq_frame
    paragraphs, caught, lost = EXPECTED[corpus]
    assert n == paragraphs
    result = cached(df, on="response")
    rejected = dict(zip(result.rejected["id"], result.rejected[KEPT_ID]))
    copies = [r for r in rejected if r[0] in "rw"]
    originals_lost = [r for r in rejected if r[0] == "p"]
    caught_own = sum(rejected.get(f"{t}{i}") == f"p{i}" for t in "rw" for i in range(n))
    assert len(copies) >= 0.95 * 2 * n          # recall on the planted copies
    assert caught_own == len(copies)            # each kept as a copy of its own original
    assert len(originals_lost) < 0.03 * n       # unrelated paragraphs kept
    assert (len(copies), len(originals_lost)) == (caught, lost)
    assert result.stats["search"] == "exact" and result.stats["duplicates"] == caught + lost


def test_kmeans_blocks_find_the_same_copies(faq_frame, cached):
    df, _, _ = faq_frame
    exact = cached(df, on="response")
    blocked = cached(df, on="response", exact_max=0, clusters=8)
    assert blocked.stats["search"] == "kmeans" and blocked.stats["clusters"] == 8
    assert sorted(blocked.rejected["id"]) == sorted(exact.rejected["id"])
    one = cached(df, on="response", exact_max=0, clusters=1)  # one cluster: the exact search
    assert (one.stats["search"], one.stats["clusters"]) == ("exact", 0)
    assert sorted(one.rejected["id"]) == sorted(exact.rejected["id"])


def test_kinds_and_keep_policy(rec):
    text = "Lists are mutable sequences; tuples cannot be changed after they are created."
    df = rec.frame(rec.qa("Q", text, id="s1"),
                   rec.qa("Q", text + " Use tuples for fixed records.", id="s2"),
                   rec.pair("Q", text, "No idea.", id="p1"),
                   rec.qa("Q", "Tuples are immutable.", id="t1"))
    result = dedup_semantic(df, on="response", threshold=0.85, keep="longest")
    assert result.kept["id"].to_list() == ["s2", "p1", "t1"]
    assert result.rejected.select("id", KEPT_ID, "dup_cluster").rows() == [("s1", "s2", "s2")]
    assert result.kept["dup_cluster"].to_list() == ["s2", None, None]
    assert pl.Series(result.kept.columns[-1:]).to_list() == ["dup_cluster"]


def in_parts(stage, df: pl.DataFrame, ctx: StageContext, folder, rows: int):
    """``stage`` on ``df`` stored as part files of ``rows`` rows (so every pass of the stage
    works piece by piece), its outputs read back."""
    from curate.engines.local import LocalEngine
    from curate.io.parts import write_parts
    from curate.stages.base import StageData

    data = StageData(write_parts(df, folder / "in", rows=rows), folder / "kept",
                     folder / "rejected", folder / "scratch")
    return LocalEngine().run_stage(stage, data, ctx).result()


@pytest.mark.parametrize("faq_corpus", ["sample"], indirect=True)
def test_several_pieces_give_the_one_piece_result(faq_frame, cached, tmp_path, monkeypatch):
    """Input in parts of 13 rows, embedded 5 rows at a time: the same records as one piece
    (whose vectors came in one batch list: a cosine moves by ~1e-7, and no pair of this
    corpus is that close to these thresholds)."""
    df, _, _ = faq_frame
    monkeypatch.setattr(SemanticDedup, "piece_rows", 5)
    cache = tmp_path / "cache"
    for i, options in enumerate([{"on": "response", "threshold": 0.8},
                                 {"on": "response", "threshold": 0.773, "keep": "longest",
                                  "exact_max": 0, "clusters": 3}]):
        one = cached(df, **options)
        ctx = StageContext(name="dedup.semantic", cache_dir=cache)
        many = in_parts(SemanticDedup(options), df, ctx, tmp_path / str(i), rows=13)
        assert many.kept.equals(one.kept) and many.rejected.equals(one.rejected)
        assert {k: v for k, v in many.stats.items() if k != "embedded"} == {
            k: v for k, v in one.stats.items() if k != "embedded"}
        assert many.stats["embedded"] == (df.height if i == 0 else 0)  # then the cache
        assert one.rejected.height > 50
    assert not list((cache / "vectors").iterdir())  # the vector files are removed
