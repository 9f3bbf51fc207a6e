"""quality.ifd on Ray (an actor pool, one model per actor, other batches than the local
engine's) keeps and rejects the same records with the same scores as the local engine."""

from __future__ import annotations

import numpy as np
import polars as pl

from curate.engines import get_engine
from curate.records import records_to_frame
from curate.stages.base import StageContext
from curate.stages.quality_ifd import SCORE_COLUMNS, InstructionFollowingDifficulty

from ..fixtures_lm import QA


def corpus() -> pl.DataFrame:
    n = len(QA)
    records = [{"id": f"t{i}", "kind": "sft", "source": "t",
                "messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
               for i, (q, a) in enumerate(QA)]
    records += [{"id": f"s{i}", "kind": "sft", "source": "t",
                 "messages": [{"role": "user", "content": QA[i][0]},
                              {"role": "assistant", "content": QA[(i + 1) % n][1]}]}
                for i in range(n)]
    records.append({"id": "pair", "kind": "preference", "source": "t",
                    "prompt": [{"role": "user", "content": QA[0][0]}],
                    "chosen": [{"role": "assistant", "content": QA[0][1]}],
                    "rejected": [{"role": "assistant", "content": QA[4][1]}]})
    return records_to_frame(records)


def test_ifd_same_on_both_engines(ray_local, tiny_lm):
    df = corpus()
    options = {"model": str(tiny_lm), "batch_size": 4}
    ctx = StageContext(name="quality.ifd")
    local = get_engine("local").apply(InstructionFollowingDifficulty(options), df, ctx)
    stage = InstructionFollowingDifficulty(options)
    ray = get_engine("ray").apply(stage, df, ctx)
    assert ray.stats["engine"] == "ray: actor pool (1 node)"
    for mine, theirs in ((ray.kept, local.kept), (ray.rejected, local.rejected)):
        assert mine["id"].to_list() == theirs["id"].to_list()
        assert mine.drop(SCORE_COLUMNS).equals(theirs.drop(SCORE_COLUMNS))
        for column in SCORE_COLUMNS:
            a, b = mine[column].to_numpy(), theirs[column].to_numpy()
            assert np.array_equal(np.isnan(a), np.isnan(b)), column
            np.testing.assert_allclose(a, b, rtol=1e-5, equal_nan=True)
    assert 0 < ray.rejected.height < df.height
    same = ("thresholds", "failures", "rows_scored", "rows_grounded", "model")
    assert {k: ray.stats[k] for k in same} == {k: local.stats[k] for k in same}
    assert abs(ray.stats["ifd_median"] - local.stats["ifd_median"]) < 1e-4
    # the actors' sequences reach the driver's stage (blocks cannot share identical ones)
    assert stage.sequences_scored == ray.stats["sequences_scored"] >= \
        local.stats["sequences_scored"] > 0
