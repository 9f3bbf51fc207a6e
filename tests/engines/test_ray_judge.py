"""judge.llm on both engines: the same kept, rejected and stats on a local Ray (an actor pool,
requests to the scripted judge server from each actor) as in process."""

from __future__ import annotations

import polars as pl

from curate.engines import get_engine
from curate.stages.base import StageContext
from curate.stages.judge_llm import JudgeLLM

from ..judge.judges import judge_server, pairs_frame


def test_judging_is_the_same_on_ray_and_local(ray_local, tmp_path):
    server = judge_server()
    try:
        # distinct texts only: a request repeated in one call is sent once, across calls it
        # is a cache hit, and batches differ between engines
        df = pl.concat([pairs_frame(6), pairs_frame(3, start=6).filter(
            pl.col("kind") == "sft")])
        for options in ({"judges": [f"openai:first@{server.url}",
                                    f"openai:longer@{server.url}",
                                    f"openai:garbage@{server.url}"]},
                        {"judges": [f"openai:rater@{server.url}"], "mode": "pointwise"}):
            results = {}
            for engine in ("local", "ray"):
                ctx = StageContext(name="judge.llm", cache_dir=tmp_path / engine,
                                   on_error="skip")
                results[engine] = get_engine(engine).apply(JudgeLLM(options), df, ctx)
            local, ray = results["local"], results["ray"]
            assert ray.kept.equals(local.kept) and ray.rejected.equals(local.rejected)
            assert {k: v for k, v in ray.stats.items() if k != "engine"} == local.stats
            assert ray.stats["engine"] == "ray: actor pool (1 node)"
            assert local.stats["requests"] > 0 and local.kept.height == df.height
        assert results["local"].stats["judges"][0]["requests"] == 20  # one per candidate
    finally:
        server.close()
