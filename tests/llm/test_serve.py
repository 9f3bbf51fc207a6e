"""A real OpenAI-compatible server: ``transformers serve`` on the converted packaged model,
started by the test on 127.0.0.1, driven through ``generate.responses``."""

from __future__ import annotations

import json

import pytest

from curate.convert import convert
from curate.llm.models import converted_packaged
from curate.stages.base import StageContext
from curate.stages.generate_responses import GenerateResponses

from .packaged import need_packaged_model, start_serve


@pytest.fixture(scope="module")
def served():
    need_packaged_model()
    proc, url = start_serve(converted_packaged())
    yield url, str(converted_packaged())  # a pinned server takes its folder as model name
    proc.terminate()
    proc.wait(timeout=30)


def test_generate_responses_through_transformers_serve(served, tmp_path):
    (tmp_path / "p.jsonl").write_text(json.dumps({"prompt": "What is the capital of France?"})
                                      + "\n")
    df = convert(tmp_path / "p.jsonl", format="prompts").frame
    url, model = served
    stage = GenerateResponses({"llm": "openai", "base_url": url, "max_tokens": 12,
                               "model": model})
    res = stage.apply(df, StageContext(name="r", cache_dir=tmp_path / "c", on_error="raise"))
    [row] = res.kept.to_dicts()
    assert "Paris" in row["messages"][-1]["content"]
    assert res.stats["requests"] == 1 and res.stats["completion_tokens"] > 0
    assert res.stats["prompt_tokens"] > 10  # the server's usage counts
