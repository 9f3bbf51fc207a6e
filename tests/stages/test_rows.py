"""Row stages piece by piece: the same records whatever the pieces, caches, refine and stats."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from pydantic import Field

from curate.engines.local import LocalEngine
from curate.io.parts import write_parts
from curate.stages.base import DROP_REASON, RowScorer, StageContext, StageData, StageOptions


class _LenOptions(StageOptions):
    max_len: int = Field(5)
    """Drop texts longer than this: reason ``too_long``."""
    quota: int | None = None
    """Keep at most this many of the surviving rows (a refine over all pieces)."""


class _Len(RowScorer):
    """Scores the length of ``t``; counts what it scored (test only)."""

    Options = _LenOptions
    cache_scores = True
    score_columns = ("n",)
    calls: list[int] = []

    def score(self, batch, ctx):
        type(self).calls.append(batch.height)
        return batch.with_columns(pl.col("t").str.len_chars().cast(pl.Int64).alias("n"))

    def checks(self, columns):
        return [("too_long", pl.col("n") > self.options.max_len)]

    def cache_text(self):
        return pl.col("t")

    def scoring_fingerprint(self):  # the length does not depend on the thresholds
        return "len"

    def refine(self, decided, ctx):
        if self.options.quota is None:
            return decided, {}
        alive = decided[DROP_REASON].is_null()
        over = alive & (alive.cum_sum() > self.options.quota)
        return decided.with_columns(pl.when(over).then(pl.lit("over_quota"))
                                    .otherwise(pl.col(DROP_REASON)).alias(DROP_REASON)), \
            {"over_quota": int(over.sum())}

    def stats(self, scored, kept, ctx):
        return {"seen": scored.height, "kept_ids": kept["id"].to_list(),
                "columns": sorted(scored.columns)}


TEXTS = ["a", "abcdefg", "abc", "abcdefghij", "ab", "abcd", "xxxxxxxx", "b", "cc"]


def _frame() -> pl.DataFrame:
    return pl.DataFrame({"id": [f"r{i}" for i in range(len(TEXTS))], "t": TEXTS})


def _run(tmp_path: Path, name: str, options: dict, rows: int, cache: Path | None = None):
    stage = _Len(options)
    stage.batch_size = rows
    root = tmp_path / name
    data = StageData(write_parts(_frame(), root / "in"), root / "kept", root / "rejected",
                     root / "scratch")
    ctx = StageContext(name="len", cache_dir=cache)
    return LocalEngine().run_stage(stage, data, ctx)


def test_pieces_give_the_records_of_one_piece(tmp_path):
    whole = _run(tmp_path, "whole", {}, rows=100)
    split = _run(tmp_path, "split", {}, rows=2)
    assert len(split.kept.files) == 5 and len(whole.kept.files) == 1
    assert split.kept.read().equals(whole.kept.read())
    assert split.rejected.read().equals(whole.rejected.read())
    assert (split.rows_in, split.rows_out, split.dropped()) == (9, 6, {"too_long": 3})
    assert split.stats["failures"] == {"too_long": 3}
    assert split.stats["seen"] == 9 and split.stats["kept_ids"] == whole.stats["kept_ids"]
    # stats see compact columns only: id, the decision and what the stage added
    assert split.stats["columns"] == ["drop_reason", "id", "n"]


def test_refine_sees_every_piece_and_keeps_the_first_failures(tmp_path):
    whole = _run(tmp_path, "whole", {"quota": 3}, rows=100)
    split = _run(tmp_path, "split", {"quota": 3}, rows=2)
    assert split.kept.read()["id"].to_list() == ["r0", "r2", "r4"]
    assert split.kept.read().equals(whole.kept.read())
    assert split.rejected.read().equals(whole.rejected.read())
    assert split.dropped() == {"over_quota": 3, "too_long": 3}
    assert split.stats["failures"] == {"too_long": 3, "over_quota": 3}


def test_cached_scores_are_reused_across_pieces_and_runs(tmp_path):
    cache = tmp_path / "cache"
    _Len.calls = []
    first = _run(tmp_path, "one", {}, rows=4, cache=cache)
    assert sum(_Len.calls) == 9
    folder = next((cache / "scores").iterdir())
    assert len(list(folder.glob("part-*.parquet"))) == 3  # one per scored piece
    _Len.calls = []
    again = _run(tmp_path, "two", {"max_len": 3}, rows=3, cache=cache)
    assert sum(_Len.calls) == 0  # every (id, text) came from the cache
    assert again.kept.read()["id"].to_list() == ["r0", "r2", "r4", "r7", "r8"]
    assert first.kept.read()["n"].to_list() == [1, 3, 2, 4, 1, 2]


def test_the_frame_api_is_the_same_run(tmp_path):
    result = _Len({}).apply(_frame())
    assert result.kept["id"].to_list() == ["r0", "r2", "r4", "r5", "r7", "r8"]
    assert result.rejected[DROP_REASON].to_list() == ["too_long"] * 3
