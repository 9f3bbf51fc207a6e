"""``dedup.semantic`` on Ray keeps exactly what the local engine keeps (a local Ray with 2 CPUs,
the real all-MiniLM-L6-v2), in both search modes, and reuses the run's embedding cache."""

from __future__ import annotations

import random

import numpy as np
import polars as pl
import pytest

from curate.dedup.cosine import clustered_cosine_pairs, cosine_pairs
from curate.engines import get_engine, ray_cosine, ray_embed
from curate.records import records_to_frame
from curate.stages.base import KEPT_ID, StageContext
from curate.stages.dedup_semantic import SemanticDedup

from ..stages.test_dedup_semantic import faq_paragraphs, reorder, reword

PARAGRAPHS = 40
EXACT = {"on": "response", "threshold": 0.8}
KMEANS = {"on": "response", "threshold": 0.7, "keep": "longest", "exact_max": 0, "clusters": 3}
# k-means search at 0.7, keep longest: each survivor and the records removed as its copies
KMEANS_CLUSTERS = """
    p1: p0 r0 r1 w0 w1 | p3: r3 w3 | p4: r4 w4 | p5: r5 w5 | p6: r6 w6 | p7: p9 r7 r9 w7 w9
    p8: r8 w8 | p17: p18 r17 r18 w17 w18 | p19: r19 w19 | p20: r20 w20 | p21: r21 w21
    p22: r22 w22 | p23: r23 w23 | p27: r27 w27 | p31: r31 w31 | p32: p35 r32 r35 w32 w35
    p33: r33 w33 | w2: p2 r2 | w10: p10 p12 r10 r12 w12 | w11: p11 r11 | w13: p13 r13
    w14: p14 r14 | w15: p15 r15 | w16: p16 r16 | w24: p24 r24 | w25: p25 r25 | w26: p26 r26
    w28: p28 p34 p36 p38 r28 r34 r36 r38 w34 w36 w38 | w29: p29 r29 | w30: p30 r30
    w37: p37 r37 | w39: p39 r39"""


@pytest.fixture(scope="module")
def corpus(shared_data):
    """Python FAQ paragraphs (p), each with a reordered (r) and a reworded (w) copy, and a
    preference record answering with p0's text (another kind: never its duplicate)."""
    rng = random.Random(0)

    def sft(id_, text):
        return {"kind": "sft", "id": id_, "source": "faq", "messages": [
            {"role": "user", "content": "Explain."}, {"role": "assistant", "content": text}]}

    paragraphs = faq_paragraphs(shared_data)[:PARAGRAPHS]
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
def runs(corpus, ray_local, tmp_path_factory):
    """Both search modes on both engines; the Ray runs share an embedding cache and count the
    texts their actor pool encodes."""
    local_cache, ray_cache = tmp_path_factory.mktemp("local"), tmp_path_factory.mktemp("ray")
    encoded: list[list[int]] = []
    real = ray_embed.ray_encoder

    def counting(engine, **kw):
        encode, calls = real(engine, **kw), []
        encoded.append(calls)

        def wrapped(texts):
            calls.append(len(texts))
            return encode(texts)
        return wrapped

    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ray_embed, "ray_encoder", counting)
        for mode, options in (("exact", EXACT), ("kmeans", KMEANS)):
            for name, cache in (("local", local_cache), ("ray", ray_cache)):
                ctx = StageContext(name="dedup.semantic", cache_dir=cache, seed=0)
                out[mode, name] = get_engine(name).apply(SemanticDedup(options), corpus, ctx)
    return out, encoded, ray_cache


def same(a, b):
    assert b.kept.equals(a.kept)
    assert b.rejected.equals(a.rejected)
    assert {k: v for k, v in b.stats.items() if k != "engine"} == a.stats


def test_exact_search_same_as_local(runs):
    out, _, _ = runs
    local, ray = out["exact", "local"], out["exact", "ray"]
    same(local, ray)
    assert ray.stats["engine"] == "ray: embedding actor pool, blocked search tasks; the rest on the driver"
    expected = {f"{t}{i}": f"p{i}" for t in "rw" for i in range(PARAGRAPHS)}
    expected |= {"p36": "p34", "r36": "p34", "w36": "p34"}  # two paragraphs on one topic
    assert dict(zip(ray.rejected["id"], ray.rejected[KEPT_ID])) == expected
    assert "q0" in ray.kept["id"] and ray.kept.height == 3 * PARAGRAPHS + 1 - 81
    assert ray.stats["search"] == "exact" and ray.stats["pairs"] == 126
    assert ray.stats["cluster_sizes"] == {"3": 38, "6": 1}


def test_kmeans_search_same_as_local(runs):
    out, _, _ = runs
    local, ray = out["kmeans", "local"], out["kmeans", "ray"]
    same(local, ray)
    # the vectors are in the run's cache from the exact run: the actor pool is not used
    assert ray.stats["engine"] == "ray: shuffle by k-means cluster; the rest on the driver"
    assert (ray.stats["search"], ray.stats["clusters"], ray.stats["pairs"]) == ("kmeans", 3, 171)
    expected = {}
    for group in KMEANS_CLUSTERS.replace("\n", "|").split("|"):
        if group.strip():
            survivor, removed = group.split(":")
            expected |= {r: survivor.strip() for r in removed.split()}
    assert dict(zip(ray.rejected["id"], ray.rejected[KEPT_ID])) == expected
    assert len(expected) == ray.stats["duplicates"] == 88


def test_second_run_embeds_nothing(runs):
    _, encoded, cache = runs
    # the first Ray run encodes each distinct text once (q0 answers with p0's text); the
    # second finds every vector in the run's cache and never calls the actor pool
    assert encoded == [[3 * PARAGRAPHS], []]
    (path,) = (cache / "embeddings").glob("*.parquet")
    assert pl.read_parquet(path).height == 3 * PARAGRAPHS


def planted(n: int = 5000, dim: int = 32, copies: int = 300, seed: int = 0):
    """Random unit rows, ``copies`` of them with a moved copy (cosine about 0.96)."""
    rng = np.random.default_rng(seed)
    emb = rng.normal(size=(n, dim)).astype(np.float32)
    src = rng.choice(n - copies, copies, replace=False)
    emb[n - copies:] = emb[src] + 0.3 * rng.normal(size=(copies, dim)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return emb, {(int(s), n - copies + i) for i, s in enumerate(src)}


def test_search_over_several_blocks_same_as_local(ray_local):
    """More rows than one query block (BLOCK) and more than one Ray block per search."""
    engine = get_engine("ray")
    emb, copies = planted()
    exact = cosine_pairs(emb, 0.85)
    assert {tuple(p) for p in exact.tolist()} == copies
    assert np.array_equal(ray_cosine.exact_pairs(engine, emb, 0.85), exact)
    clustered = clustered_cosine_pairs(emb, 0.85, 16, seed=1)
    assert np.array_equal(ray_cosine.clustered_pairs(engine, emb, 0.85, 16, seed=1),
                          clustered)
    assert clustered.shape[0] == 296  # k-means blocks miss 4 of the 300 copies
