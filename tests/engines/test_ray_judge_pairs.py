"""Stage ``judge.pairs`` on the Ray engine (``map_batches``) keeps, rejects and counts exactly
what the local engine does, the judge's list and struct columns included (a local Ray with 2
CPUs)."""

from __future__ import annotations

import pytest

from curate.engines import get_engine
from curate.stages.base import StageContext
from curate.stages.judge_pairs import JudgePairs

from ..stages.judged import comparison, judged, judged_frame, pref, sft


def corpus(n: int):
    """Pointwise SFT rows with 3 candidates, pairwise preference rows (some reversed, some
    flipped with the order) and rows never judged."""
    rows = []
    for i in range(n):
        if i % 5 == 0:
            ab, ba = ("a", "b") if i % 3 == 0 else ("b", "b") if i % 2 else ("a", "a")
            rows.append(judged(pref(f"q{i}", f"good {i}", f"bad {i}"),
                               comparisons=[comparison(0, 1, ab, ba)]))
        elif i % 11 == 0:
            rows.append(sft(f"q{i}"))
        else:
            rows.append(judged(sft(f"q{i}", candidates=[f"a{i}", f"b{i}", f"c{i}"]),
                               scores=[(i % 7) / 2, (i % 4) / 2, 1.5]))
    return judged_frame(rows)


@pytest.mark.parametrize("pairs", ["best_worst", "all"])
def test_judge_pairs_same_on_ray_and_local(ray_local, pairs):
    df = corpus(400)
    ctx = StageContext(name="judge.pairs")
    options = {"min_margin": 0.5, "pairs": pairs}
    local = get_engine("local").apply(JudgePairs(options), df, ctx)
    stage = JudgePairs(options)
    stage.batch_size = 60  # several blocks
    ray = get_engine("ray").apply(stage, df, ctx)
    assert ray.kept.equals(local.kept) and ray.rejected.equals(local.rejected)
    assert ray.added == local.added and (local.added > 0) == (pairs == "all")
    assert {k: v for k, v in ray.stats.items() if k != "engine"} == local.stats
    assert ray.stats["engine"] == "ray: tasks (1 node)"
    assert set(local.rejected["drop_reason"]) == {"too_few_candidates", "position_inconsistent",
                                                  "tie", "below_margin"}
    assert local.stats["swapped"] > 0 and local.kept.height > 100
