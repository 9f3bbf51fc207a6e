"""generate.questions against a real local HTTP chat server (tests/llm/chat_server.py)."""

from __future__ import annotations

import json

import polars as pl
import pytest

from curate.convert import convert
from curate.stages.base import StageContext
from curate.stages.generate_questions import GenerateQuestions

from ..llm.chat_server import ChatServer

DOC = """The Rhine
=========

The Rhine begins in the Swiss Alps, flows along the German-French border and reaches the
North Sea in the Netherlands. It is about 1,230 kilometres long and has carried barges since
Roman times, when it marked the northern edge of the empire.

Bridges
-------

NO QUESTIONS can be asked about this paragraph, says the test server, which replies to it with
a sentence instead of a question, so the passage is rejected with the reply as its error.
"""


@pytest.fixture
def server():
    s = ChatServer()
    yield s
    s.close()


def passages(tmp_path) -> pl.DataFrame:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "rhine.rst").write_text(DOC)
    return convert(tmp_path / "docs", format="passages").frame


def stage(server, **options):
    return GenerateQuestions({"llm": "openai", "model": "m", "base_url": server.url,
                              **options})


def test_passages_become_grounded_sft_records_with_provenance(tmp_path, server):
    df = passages(tmp_path)
    assert df["kind"].to_list() == ["passage", "passage"]
    ctx = StageContext(name="q", cache_dir=tmp_path / "cache", on_error="skip")
    res = stage(server, n=2).apply(df, ctx)
    assert res.kept.height == 1 and res.rejected.height == 1
    row = res.kept.row(0, named=True)
    assert row["kind"] == "sft" and row["prompt"] is None
    roles = [m["role"] for m in row["messages"]]
    assert roles == ["user", "assistant", "user", "assistant"]
    assert row["messages"][0]["content"].startswith("What does passage")
    meta = json.loads(row["meta"])
    text = DOC
    assert text[meta["start"]:meta["end"]] == meta["passage"]
    assert meta["file"] == "rhine.rst" and meta["section"] == ["The Rhine"]
    assert meta["generation"] == {"task": "questions", "model": "m", "backend": "openai",
                                  "template_version": "questions-v1"}
    bad = res.rejected.row(0, named=True)
    assert bad["drop_reason"] == "unparseable" and "many things" in bad["generation_error"]
    assert bad["kind"] == "passage"  # the rejected row is the input row, untouched
    s = res.stats
    # 2 question requests + 2 answers of the passage that had questions
    assert (s["requests"], s["cache_hits"], s["failures"]) == (4, 0, 0)
    assert s["prompt_tokens"] > 0 and s["template_version"] == "questions-v1"
    assert server.requests[0]["response_format"]["type"] == "json_schema"

    again = stage(server, n=2).apply(df, ctx)
    assert again.kept.equals(res.kept)
    assert (again.stats["requests"], again.stats["cache_hits"]) == (0, 4)
    assert len(server.requests) == 4


def test_failed_requests_are_rejected_with_the_error_or_stop_the_run(tmp_path, server):
    from curate.errors import StageError

    df = passages(tmp_path)
    server.faults = ["500"] * 20
    res = stage(server, max_retries=1).apply(df, StageContext(name="q", on_error="skip"))
    assert res.kept.height == 0
    assert res.rejected["drop_reason"].to_list() == ["generation_failed"] * 2
    assert "HTTP 500" in res.rejected["generation_error"][0]
    assert res.stats["failures"] == 2 and res.stats["retries"] == 2
    server.faults = ["500"] * 20
    with pytest.raises(StageError, match="generation failed .* HTTP 500"):
        stage(server, max_retries=0).apply(df, StageContext(name="q", on_error="raise"))


def test_other_kinds_pass_through(tmp_path, server):
    (tmp_path / "a.jsonl").write_text(json.dumps({"instruction": "Hi", "output": "Hello"}) + "\n")
    sft = convert(tmp_path / "a.jsonl").frame
    df = pl.concat([sft, passages(tmp_path)])
    res = stage(server).apply(df, StageContext(name="q", on_error="skip"))
    assert res.kept.row(0, named=True)["messages"] == sft.row(0, named=True)["messages"]
    assert res.stats["passed_through"] == 1 and res.stats["rows_generated"] == 1
