"""The generate stages on both engines: the same kept, rejected and stats on a local Ray (an
actor pool of the stage, HTTP requests from each actor) as in process."""

from __future__ import annotations

import json

import polars as pl

from curate.convert import convert
from curate.engines import get_engine
from curate.stages.base import StageContext
from curate.stages.generate_questions import GenerateQuestions
from curate.stages.generate_responses import GenerateResponses

from ..llm.chat_server import ChatServer


def test_generation_is_the_same_on_ray_and_local(ray_local, tmp_path):
    server = ChatServer()
    try:
        rows = [{"prompt": f"Explain idea {i}."} for i in range(10)] + [{"prompt": "EMPTY"}]
        (tmp_path / "p.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        prompts = convert(tmp_path / "p.jsonl", format="prompts").frame
        (tmp_path / "d.txt").write_text("\n\n".join(
            f"Paragraph {i} tells a long story about rivers, bridges and the towns that grew "
            f"along their banks over many centuries of trade number {i}." for i in range(3)))
        docs = convert(tmp_path / "d.txt", format="passages").frame
        options = {"llm": "openai", "model": "m", "base_url": server.url}
        for stage, df in ((GenerateResponses({**options, "n": 2}), prompts),
                          (GenerateQuestions(options), docs)):
            results = {}
            for engine in ("local", "ray"):
                ctx = StageContext(name=stage.id, cache_dir=tmp_path / engine, on_error="skip")
                results[engine] = get_engine(engine).apply(type(stage)(stage.options), df, ctx)
            local, ray = results["local"], results["ray"]
            assert ray.kept.equals(local.kept) and ray.rejected.equals(local.rejected)
            assert {k: v for k, v in ray.stats.items() if k != "engine"} == local.stats
            assert ray.stats["engine"] == "ray: actor pool (1 node)"
            assert local.stats["requests"] > 0 and local.kept.height > 0
        assert pl.Series(results["local"].kept["kind"]).to_list() == ["sft"]
    finally:
        server.close()
