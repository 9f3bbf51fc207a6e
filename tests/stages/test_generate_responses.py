"""generate.responses against a real local HTTP chat server (tests/llm/chat_server.py)."""

from __future__ import annotations

import json

import pytest

from curate.convert import convert
from curate.records import clean_turns
from curate.stages.base import StageContext
from curate.stages.generate_responses import GenerateResponses

from ..llm.chat_server import ChatServer


@pytest.fixture
def server():
    s = ChatServer()
    yield s
    s.close()


def prompts(tmp_path, *texts):
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps({"prompt": t}) + "\n" for t in texts))
    return convert(path, format="prompts").frame


def stage(server, **options):
    return GenerateResponses({"llm": "openai", "model": "m", "base_url": server.url,
                              **options})


def test_prompt_rows_get_their_reply(tmp_path, server):
    res = stage(server).apply(prompts(tmp_path, "Name a river.", "EMPTY please"),
                              StageContext(name="r", on_error="skip"))
    [row] = res.kept.to_dicts()
    assert row["kind"] == "sft" and row["prompt"] is None
    assert clean_turns(row["messages"])[0] == {"role": "user", "content": "Name a river."}
    assert row["messages"][1]["content"].startswith("Reply ")
    assert "candidates" not in res.kept.columns
    assert res.rejected["drop_reason"].to_list() == ["empty_generation"]
    assert json.loads(row["meta"])["generation"]["seed"] == 0


def test_n_candidates_with_distinct_seeds(tmp_path, server):
    (tmp_path / "s.jsonl").write_text(json.dumps({"instruction": "Hi", "output": "Hello"}) + "\n")
    df = convert(tmp_path / "s.jsonl").frame
    res = stage(server, n=3).apply(df, StageContext(name="r", seed=7))
    [row] = res.kept.to_dicts()
    assert len(row["candidates"]) == 3 and row["messages"][-1]["content"] == "Hello"
    assert sorted(r["seed"] for r in server.requests) == [7, 8, 9]
    assert {r["temperature"] for r in server.requests} == {0.8}


def test_budget_stops_cleanly_and_a_rerun_continues(tmp_path, server):
    df = prompts(tmp_path, *[f"Tell me about topic number {i}." for i in range(6)])
    ctx = StageContext(name="r", cache_dir=tmp_path / "cache")
    first = stage(server, max_tokens_total=30, concurrency=1).apply(df, ctx)
    assert 0 < first.kept.height < 6
    assert set(first.rejected["drop_reason"]) == {"budget_exhausted"}
    sent = len(server.requests)
    second = stage(server, max_tokens_total=1000).apply(df, ctx)
    assert second.kept.height == 6
    assert second.stats["cache_hits"] == sent and len(server.requests) == 6
