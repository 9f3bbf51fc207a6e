"""generate.evolve against a real local HTTP chat server (tests/llm/chat_server.py)."""

from __future__ import annotations

import json

from curate.convert import convert
from curate.stages.base import StageContext
from curate.stages.generate_evolve import GenerateEvolve

from ..llm.chat_server import ChatServer


def test_evolved_prompts_keep_their_parent(tmp_path):
    server = ChatServer()
    try:
        (tmp_path / "s.jsonl").write_text("".join(
            json.dumps({"instruction": f"Write a poem about {t}.", "output": "A poem."}) + "\n"
            for t in ("the sea", "the moon", "a cat", "rain")))
        df = convert(tmp_path / "s.jsonl").frame
        stage = GenerateEvolve({"llm": "openai", "model": "m", "base_url": server.url,
                                "how": "mixed"})
        res = stage.apply(df, StageContext(name="e"))
    finally:
        server.close()
    assert res.kept.height == 4 and set(res.kept["kind"]) == {"prompt"}
    metas = [json.loads(m) for m in res.kept["meta"]]
    assert [m["parent"] for m in metas] == df["id"].to_list()
    assert set(res.kept["id"]).isdisjoint(df["id"])
    assert {m["evolution"] for m in metas} == {"deepen", "broaden"}
    asked = [r["messages"][-1]["content"] for r in server.requests]
    assert any("more complex" in a for a in asked) and any("different but related" in a
                                                            for a in asked)
    assert res.kept["messages"].null_count() == 4
