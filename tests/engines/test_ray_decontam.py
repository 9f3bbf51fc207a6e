"""The decontamination stages keep and drop the same records on Ray as locally (a local Ray
with 2 CPUs), the n-gram index built once on the driver and shipped with the stage."""

from __future__ import annotations

import gzip
import json
import pickle

import polars as pl
import pytest

from curate.convert import convert
from curate.engines import get_engine
from curate.stages.base import StageContext
from curate.stages.decontam_ngram import NgramDecontam
from curate.stages.decontam_semantic import SemanticDecontam

from ..conftest import FAQ_SAMPLE, OUTPUTS_FILES, write_alpaca_eval


def corpus(tmp_path):
    """AlpacaEval-format files made here; records: the FAQ sample, every item verbatim (half
    of them in a pair's rejected reply), and paraphrases."""
    folder = write_alpaca_eval(tmp_path / "ae").path
    path = folder / OUTPUTS_FILES[0]
    items = [r["instruction"] for r in json.loads(gzip.decompress(path.read_bytes()))]
    from curate.records import assign_ids, records_to_frame

    planted = [{"kind": "sft", "source": "t", "messages": [
        {"role": "user", "content": t.upper()}, {"role": "assistant", "content": "ok"}]}
        for t in items[::2]]
    planted += [{"kind": "preference", "source": "t",
                 "prompt": [{"role": "user", "content": "Say something."}],
                 "chosen": [{"role": "assistant", "content": "Something."}],
                 "rejected": [{"role": "assistant", "content": f"Well: {t}"}]}
                for t in items[1::2]]
    planted += [{"kind": "sft", "source": "t", "messages": [
        {"role": "user", "content": "In two sentences, explain Python decorators to a beginner."},
        {"role": "assistant", "content": "ok"}]}]
    faq = convert(FAQ_SAMPLE, format="docs").frame
    return str(path), pl.concat([faq, records_to_frame(assign_ids(planted))],
                                how="vertical_relaxed")


@pytest.mark.parametrize("stage_cls,options,how", [
    (NgramDecontam, {"fields": ["instruction"]}, "ray: tasks (1 node)"),
    (SemanticDecontam, {}, "ray: embedding actor pool, tasks (1 node); the rest on the driver")],
    ids=["ngram", "semantic"])
def test_both_stages_same_on_ray(ray_local, tmp_path, fp32_embeddings, stage_cls, options,
                                 how):
    path, df = corpus(tmp_path)
    options = {"benchmarks": {"alpaca_eval": path}, **options}
    ctx = StageContext(name=stage_cls.id)
    local = get_engine("local").apply(stage_cls(options), df, ctx)
    ray = get_engine("ray").apply(stage_cls(options), df, ctx)
    # the same rows and decisions; the similarity a query block's product gives may differ in
    # its last bits between a task's block and the local one (BLAS picks kernels by shape)
    sim = "contaminated_similarity"
    for side in ("kept", "rejected"):
        mine, theirs = getattr(ray, side), getattr(local, side)
        assert mine.drop(sim, strict=False).equals(theirs.drop(sim, strict=False)), side
        if sim in theirs.columns:
            assert (mine[sim] - theirs[sim]).abs().max() < 1e-5
    assert {k: v for k, v in ray.stats.items() if k != "engine"} == local.stats
    assert ray.stats["engine"] == how
    # the n-gram stage finds every item, the semantic one the prompts and the paraphrase
    assert local.rejected.height == (24 if stage_cls is NgramDecontam else 13)
    assert set(local.rejected["source"]) == {"t"}  # no FAQ record


def test_the_index_built_on_the_driver_travels_with_the_stage(tmp_path):
    path, df = corpus(tmp_path)
    stage = NgramDecontam({"benchmarks": {"alpaca_eval": path}})
    stage.check_input(df, StageContext())
    copy = type(stage)(stage.options)  # what an engine ships to its workers
    assert copy._index is stage._index
    shipped = pickle.loads(pickle.dumps(copy))
    assert shipped._index is not None and shipped._index.nbytes() == stage._index.nbytes()
    ctx = StageContext()
    assert shipped.score(df, ctx).equals(stage.score(df, ctx))
