"""Stage ``pii`` on the Ray engine (``map_batches``) keeps, rejects and counts exactly what the
local engine does, redacted texts included (a local Ray with 2 CPUs)."""

from __future__ import annotations

import polars as pl
import pytest

from curate.engines import get_engine
from curate.records import records_to_frame
from curate.stages.base import StageContext
from curate.stages.pii import Pii

VALUES = ["priya.okafor@proton.me", "(415) 867-2301", "52.14.201.3", "4532 0151 1283 0366",
          "DE44 5001 0517 5407 3249 31", "536-22-1234", "ghp_aB3dE5gH7jK9mN1pQ3rS5tU7vW9xY1zA3cE5"]
LOOKALIKES = ["127.0.0.1", "version 1.2.3.4", "user@example.com", "YOUR_API_KEY", "#ff5733"]


def corpus(n: int) -> pl.DataFrame:
    """SFT and preference records; every third holds a value (in the prompt, the reply, a code
    block or the rejected side), the others look-alikes or nothing."""
    rows = []
    for i in range(n):
        value = VALUES[i % len(VALUES)] if i % 3 == 0 else LOOKALIKES[i % len(LOOKALIKES)]
        reply = f"Sure.\n```python\nVALUE = \"{value}\"\n```" if i % 2 else f"It is {value}."
        if i % 5 == 0:
            rows.append({"id": f"p{i}", "kind": "preference", "source": "gen",
                         "prompt": [{"role": "user", "content": f"question {i}"}],
                         "chosen": [{"role": "assistant", "content": "No value here."}],
                         "rejected": [{"role": "assistant", "content": reply}]})
        else:
            rows.append({"id": f"s{i}", "kind": "sft", "source": "gen", "messages": [
                {"role": "user", "content": f"question {i}: {value}" if i % 4 == 0 else "q"},
                {"role": "assistant", "content": reply}]})
    return records_to_frame(rows)


@pytest.mark.parametrize("action", ["redact", "drop", "mark"])
def test_pii_same_on_ray_and_local(ray_local, action):
    df = corpus(600)
    ctx = StageContext(name="pii")
    local = get_engine("local").apply(Pii({"action": action}), df, ctx)
    stage = Pii({"action": action})
    stage.batch_size = 100  # several blocks
    ray = get_engine("ray").apply(stage, df, ctx)
    assert ray.kept.equals(local.kept) and ray.rejected.equals(local.rejected)
    assert {k: v for k, v in ray.stats.items() if k != "engine"} == local.stats
    assert ray.stats["engine"] == "ray: tasks (1 node)"
    assert local.stats["records_with_pii"] == 200
    if action == "redact":
        assert local.kept["messages"].to_list() != df["messages"].to_list()
