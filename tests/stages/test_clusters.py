"""cluster_output (streaming) gives the frame-era cluster_result's records and stats."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from curate.engines.local import LocalEngine
from curate.errors import CurateError
from curate.io.parts import write_parts
from curate.stages.base import Stage, StageContext, StageData, StageOptions
from curate.stages.clusters import LENGTH, cluster_output
from curate.stages.dedup_near import cluster_result


class Opts(StageOptions):
    keep: str = "first"


class FixedPairs(Stage):
    """A dedup stage whose duplicate pairs are given (no id: not registered)."""

    Options = Opts
    reason = "duplicate_test"

    def __init__(self, options=None, pairs=None, lengths=None):
        super().__init__(options)
        self.pairs, self.lengths = pairs, lengths

    def run(self, data, ctx, engine):
        return cluster_output(self, data, self.pairs, ctx, engine, lengths=self.lengths,
                              stats={"on": "x"})


def frame(n: int, seed: int, *, earlier: bool = False) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.integers(0, 5, n).astype(float)
    score[rng.random(n) < 0.2] = np.nan
    df = pl.DataFrame({"id": [f"r{i}" for i in range(n)], "text": [f"t{i}" for i in range(n)],
                       "score": pl.Series(score).fill_nan(None)})
    if earlier:  # a dup_cluster from an earlier dedup stage, on some rows
        df = df.with_columns(pl.when(pl.int_range(n) % 5 == 0).then(pl.lit("old"))
                             .alias("dup_cluster"))
    return df


def run_streaming(stage, df, tmp_path, rows):
    data = StageData(write_parts(df, tmp_path / "in", rows=rows), tmp_path / "kept",
                     tmp_path / "rejected", tmp_path / "scratch")
    return stage.run(data, StageContext(name="t"), LocalEngine()).result()


@pytest.mark.parametrize("keep", ["first", "longest", "score"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_records_and_stats_as_the_frame_result(tmp_path, keep, seed):
    rng = np.random.default_rng(seed)
    n = 60
    df = frame(n, seed, earlier=seed == 2)
    pairs = rng.integers(0, n, (25, 2))  # repeats, self pairs and chains included
    lengths = rng.integers(1, 4, n)
    stage = FixedPairs({"keep": keep}, pairs,
                       pl.DataFrame({"__row": np.arange(n), LENGTH: lengths}))
    expected = cluster_result(stage, df, pairs, pl.Series(lengths), {"on": "x"})
    for rows in (n, 7):  # one piece, several pieces
        got = run_streaming(stage, df, tmp_path / str(rows), rows)
        assert got.kept.equals(expected.kept)
        assert got.rejected.equals(expected.rejected)
        assert got.stats == expected.stats
    assert expected.rejected.height > 0


def test_no_pairs_keeps_every_row_with_an_empty_cluster(tmp_path):
    df = frame(10, 3)
    got = run_streaming(FixedPairs(pairs=np.zeros((0, 2), np.int64)), df, tmp_path, 4)
    assert got.kept.equals(df.with_columns(pl.lit(None, pl.String).alias("dup_cluster")))
    assert got.rejected.height == 0
    assert got.stats == {"on": "x", "pairs": 0, "dup_clusters": 0, "duplicates": 0,
                         "cluster_sizes": {}}


def test_bad_keep_column_is_a_curate_error(tmp_path):
    df = frame(10, 4)
    with pytest.raises(CurateError, match="no column 'nosuch'"):
        run_streaming(FixedPairs({"keep": "nosuch"}, np.array([[0, 1]])), df, tmp_path, 4)
    with pytest.raises(CurateError, match="column 'text' is String, expected a number"):
        run_streaming(FixedPairs({"keep": "text"}, np.array([[0, 1]])), df, tmp_path / "b", 4)
