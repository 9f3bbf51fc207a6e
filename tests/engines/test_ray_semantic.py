"""``dedup.semantic`` on Ray keeps exactly what the local engine keeps (a local Ray with 2 CPUs,
the real all-MiniLM-L6-v2), in both search modes, and reuses the run's embedding cache; the
services on their own: the search tasks and the embedding actors read and write the run's
vector file."""

from __future__ import annotations

import random

import numpy as np
import polars as pl
import pytest

from curate.dedup.cosine import clustered_cosine_pairs, cosine_pairs
from curate.embed import DEFAULT_MODEL, encode_texts
from curate.embed_store import TEXT, embed_source
from curate.engines import get_engine, ray_cosine, ray_embed
from curate.engines.local import LocalEngine
from curate.io.parts import write_parts
from curate.records import records_to_frame
from curate.stages.base import KEPT_ID, StageContext
from curate.stages.dedup_semantic import SemanticDedup
from curate.vectors import Vectors

from ..conftest import FAQ_SAMPLE
from ..stages.test_dedup_semantic import faq_paragraphs, reorder, reword

# The figures below are those of the float32 path; the thresholds are ones that no pair's cosine
# comes within 0.004 of (on either path: bf16 moves a cosine by up to 0.003 here), so that
# they hold on any CPU. The driver is pinned to fp32 while Ray's workers keep the
# environment's path: the actors must take the driver's path to give the local vectors.
pytestmark = pytest.mark.usefixtures("fp32_embeddings")

PARAGRAPHS = 30  # every paragraph of the vendored FAQ sample
EXACT = {"on": "response", "threshold": 0.804}
KMEANS = {"on": "response", "threshold": 0.7716, "keep": "longest", "exact_max": 0,
          "clusters": 3}
# k-means search, keep longest: each survivor and the records removed as its copies (the
# topics of the exact search below, each kept as its longest text)
KMEANS_CLUSTERS = """
    p3: r3 w3 | p4: p7 r4 r7 w4 w7 | p5: r5 w5 | p8: p6 r6 r8 w6 w8 | p10: r10 w10
    p12: p14 r12 r14 w12 w14 | p15: r15 w15 | p16: r16 w16 | p17: r17 w17 | p18: r18 w18
    p19: r19 w19 | p21: r21 w21 | p23: r23 w23 | p24: r24 w24 | p29: r29 w29
    w0: p0 p20 r0 r20 w20 | w1: p1 r1 | w2: p2 r2 | w9: p9 r9 | w11: p11 r11 | w13: p13 r13
    w22: p22 r22 | w25: p25 r25 | w26: p26 r26 | w28: p27 p28 r27 r28 w27"""
# exact search at 0.804 (the replies embedded as their text alone): paragraphs (first, second)
# on one topic, the second kept as a copy of the first (stable releases; a first language;
# .pyd files)
ONE_TOPIC = [(6, 8), (12, 14), (27, 28)]


@pytest.fixture(scope="module")
def corpus():
    """Python FAQ paragraphs (p, the vendored sample), each with a reordered (r) and a reworded
    (w) copy, and a preference record answering with p0's text (another kind: never its
    duplicate)."""
    rng = random.Random(0)

    def sft(id_, text):
        return {"kind": "sft", "id": id_, "source": "faq", "messages": [
            {"role": "user", "content": "Explain."}, {"role": "assistant", "content": text}]}

    paragraphs = faq_paragraphs(FAQ_SAMPLE)
    assert len(paragraphs) == PARAGRAPHS
    records = [sft(f"p{i}", text) for i, text in enumerate(paragraphs)]
    for i, text in enumerate(paragraphs):
        records += [sft(f"r{i}", reorder(text, rng)), sft(f"w{i}", reword(text, rng))]
    records += [{
        "kind": "preference", "id": "q0", "source": "faq",
        "prompt": [{"role": "user", "content": "Explain."}],
        "chosen": [{"role": "assistant", "content": paragraphs[0]}],
        "rejected": [{"role": "assistant", "content": "No idea."}]}]
    return records_to_frame(records)


@pytest.fixture(scope="module")
def runs(fp32_embeddings, corpus, ray_local, tmp_path_factory):
    """Both search modes on both engines; the Ray runs share an embedding cache."""
    local_cache, ray_cache = tmp_path_factory.mktemp("local"), tmp_path_factory.mktemp("ray")
    out = {}
    for mode, options in (("exact", EXACT), ("kmeans", KMEANS)):
        for name, cache in (("local", local_cache), ("ray", ray_cache)):
            ctx = StageContext(name="dedup.semantic", cache_dir=cache, seed=0)
            out[mode, name] = get_engine(name).apply(SemanticDedup(options), corpus, ctx)
    return out, ray_cache


def same(a, b):
    assert b.kept.equals(a.kept)
    assert b.rejected.equals(a.rejected)
    assert {k: v for k, v in b.stats.items() if k != "engine"} == a.stats


def test_exact_search_same_as_local(runs):
    out, _ = runs
    local, ray = out["exact", "local"], out["exact", "ray"]
    same(local, ray)
    assert "embedding actor pool" in ray.stats["engine"]
    assert "blocked search tasks" in ray.stats["engine"]
    expected = {f"{t}{i}": f"p{i}" for t in "rw" for i in range(PARAGRAPHS)}
    expected |= {f"{t}{second}": f"p{first}" for first, second in ONE_TOPIC for t in "prw"}
    assert dict(zip(ray.rejected["id"], ray.rejected[KEPT_ID])) == expected
    assert "q0" in ray.kept["id"] and ray.kept.height == 3 * PARAGRAPHS + 1 - 63
    assert ray.stats["search"] == "exact" and ray.stats["pairs"] == 107
    assert ray.stats["cluster_sizes"] == {"3": 24, "6": 3}


def test_kmeans_search_same_as_local(runs):
    out, _ = runs
    local, ray = out["kmeans", "local"], out["kmeans", "ray"]
    same(local, ray)
    # the vectors are in the run's cache from the exact run: the actor pool is not used
    assert "search tasks by k-means cluster" in ray.stats["engine"]
    assert "embedding actor pool" not in ray.stats["engine"]
    assert (ray.stats["search"], ray.stats["clusters"], ray.stats["pairs"]) == ("kmeans", 3, 118)
    assert ray.stats["precision"] == "fp32"
    expected = {}
    for group in KMEANS_CLUSTERS.replace("\n", "|").split("|"):
        if group.strip():
            survivor, removed = group.split(":")
            expected |= {r: survivor.strip() for r in removed.split()}
    assert dict(zip(ray.rejected["id"], ray.rejected[KEPT_ID])) == expected
    assert len(expected) == ray.stats["duplicates"] == 65


def test_second_run_embeds_nothing(runs):
    out, cache = runs
    # the first Ray run encodes each distinct text once (q0 answers with p0's text); the
    # second finds every vector in the run's cache and never calls the actor pool
    assert [out[mode, "ray"].stats["embedded"] for mode in ("exact", "kmeans")] == [
        3 * PARAGRAPHS, 0]
    (path,) = (cache / "embeddings").glob("*.parquet")
    assert pl.read_parquet(path).height == 3 * PARAGRAPHS


def test_the_actors_take_the_drivers_precision_path(ray_local):
    """The driver is on fp32 (this module's pin); the workers' environment may say bf16."""
    texts = faq_paragraphs(FAQ_SAMPLE)[:8]
    on_ray = get_engine("ray").encoder(model=DEFAULT_MODEL)(texts)
    assert np.abs(on_ray - encode_texts(texts)).max() < 1e-5  # bf16 moves them by ~1e-3


def planted(n: int = 5000, dim: int = 32, copies: int = 300, seed: int = 0):
    """Random unit rows, ``copies`` of them with a moved copy (cosine about 0.96)."""
    rng = np.random.default_rng(seed)
    emb = rng.normal(size=(n, dim)).astype(np.float32)
    src = rng.choice(n - copies, copies, replace=False)
    emb[n - copies:] = emb[src] + 0.3 * rng.normal(size=(copies, dim)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return emb, {(int(s), n - copies + i) for i, s in enumerate(src)}


def test_search_over_several_blocks_same_as_local(ray_local, tmp_path):
    """More rows than one query block (BLOCK) and than one task; the tasks read the file."""
    engine = get_engine("ray")
    emb, copies = planted()
    vectors = Vectors.from_array(tmp_path / "emb.npy", emb)
    exact = cosine_pairs(emb, 0.85)
    assert {tuple(p) for p in exact.tolist()} == copies
    assert np.array_equal(ray_cosine.exact_pairs(engine, vectors, 0.85), exact)
    clustered = clustered_cosine_pairs(emb, 0.85, 16, seed=1)
    assert np.array_equal(clustered_cosine_pairs(vectors.array(), 0.85, 16, seed=1), clustered)
    assert np.array_equal(ray_cosine.clustered_pairs(engine, vectors, 0.85, 16, seed=1),
                          clustered)
    # k-means blocks miss a few of the 300 copies (which ones depends on the CPU's float path)
    found = {tuple(p) for p in clustered.tolist()}
    assert found <= copies and len(found) >= 285
    with pytest.raises(TypeError, match="Vectors file"):
        ray_cosine.exact_pairs(engine, emb, 0.85)


class RayEmbedding(LocalEngine):
    """The local engine whose pieces are embedded as the Ray engine embeds them (its
    ``embed_pieces``: the actor pool), so that the embedding store can be run here."""

    def __init__(self, ray_engine):
        self.ray = ray_engine

    def embed_pieces(self, fn, items, **options):
        return ray_embed.embed_pieces(self.ray, fn, items, **options)


def test_actors_write_the_file_and_the_cache(ray_local, tmp_path):
    """The actors embed their pieces into the run's vector file and cache on storage they
    share with the driver: the local engine's vectors, and a rerun finds them all."""
    texts = faq_paragraphs(FAQ_SAMPLE)[:12]
    df = pl.DataFrame({"text": texts + texts[:3]})
    source = write_parts(df, tmp_path / "in", rows=4)

    def embed(engine, name):
        return embed_source(engine, source, _as_text, tmp_path / f"{name}.npy",
                            columns=["text"], model=DEFAULT_MODEL, cache_dir=tmp_path / name,
                            work=tmp_path / f"{name}-work", rows=5)

    local = embed(LocalEngine(), "local")
    ray = embed(RayEmbedding(get_engine("ray")), "ray")
    assert (ray.embedded, ray.cached) == (local.embedded, local.cached) == (12, 0)
    assert np.abs(ray.vectors.array() - local.vectors.array()).max() < 1e-5
    assert np.array_equal(ray.vectors.array()[12:], ray.vectors.array()[:3])
    again = embed(RayEmbedding(get_engine("ray")), "ray")
    assert (again.embedded, again.cached) == (0, 12)


def _as_text(batch: pl.DataFrame) -> pl.DataFrame:
    return batch.select(pl.col("text").alias(TEXT))
