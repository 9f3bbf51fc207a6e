"""The packaged SmolLM2-135M as the judge (local backend, real generation) on a handful of
pairs: the structure and the accounting, not the model's taste."""

from __future__ import annotations

import json

from curate.stages.base import StageContext
from curate.stages.judge_llm import JudgeLLM

from ..llm.packaged import need_packaged_model
from .judges import pairs_frame


def test_the_embedded_model_judges_pairs_in_both_orders(tmp_path):
    need_packaged_model()
    df = pairs_frame(2)
    stage = JudgeLLM({"max_tokens": 4, "batch_size": 4})
    result = stage.apply(df, StageContext(name="judge.llm", on_error="skip",
                                          cache_dir=tmp_path))
    s = result.stats
    judge = s["judges"][0]
    assert judge["name"] == "local:smollm2-135m-instruct" and judge["backend"] == "local"
    assert judge["requests"] == 6 and judge["failures"] == 0  # 3 pairs, both orders
    assert result.kept.height + result.rejected.height == df.height
    assert set(result.rejected["drop_reason"].to_list()) <= {"unparseable"}
    judged = result.kept.filter(result.kept["judge_candidates"].is_not_null())
    for row in judged.to_dicts():
        (c,) = row["judge_comparisons"]
        assert (c["a"], c["b"]) == (0, 1) and c["verdict"] in ("a", "b", "tie", None)
        assert row["position_inconsistent"] == (c["consistent"] is False)
        assert sorted(x for x in row["judge_score"] if x is not None) in ([], [0.0, 1.0],
                                                                          [0.5, 0.5])
        assert json.loads(row["meta"])["judge"]["template_version"] == "judge-v2"
    readable = 6 - judge["unparseable"]
    assert s["comparisons"] <= 3 and (judge["first_position_rate"] is None) == (readable == 0)
    if s["comparisons"]:
        assert s["position_bias_rate"] == s["inconsistent"] / s["comparisons"]
    # pointwise: one request per candidate, every vote an aspect score on 1..5 or null
    point = JudgeLLM({"mode": "pointwise", "scale": 5, "max_tokens": 24}).apply(
        df, StageContext(name="judge.llm", on_error="skip"))
    assert point.stats["judges"][0]["requests"] == 6
    for votes in point.kept["judge_votes"].drop_nulls().to_list():
        assert all(v["score"] is None or 1 <= v["score"] <= 5 for v in votes)
