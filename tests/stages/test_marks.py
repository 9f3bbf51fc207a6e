"""Decide on compact data, apply in a streaming pass: marks and take."""

from __future__ import annotations

import numpy as np
import polars as pl

from curate.engines.local import LocalEngine
from curate.io.parts import write_parts
from curate.stages.base import DROP_REASON, StageContext, StageData
from curate.stages.marks import apply_marks, finish_marks, take


def _data(tmp_path, n=10, rows=3, **extra) -> StageData:
    df = pl.DataFrame({"id": [f"r{i}" for i in range(n)], "t": [f"text {i}" for i in range(n)],
                       **extra})
    return StageData(write_parts(df, tmp_path / "in", rows=rows), tmp_path / "kept",
                     tmp_path / "rejected", tmp_path / "scratch")


def test_marks_drop_and_annotate_rows_across_parts(tmp_path):
    data = _data(tmp_path)
    marks = pl.DataFrame({"__row": [8, 1, 4, 0], DROP_REASON: ["dup", "dup", None, None],
                          "kept_id": ["r0", "r0", None, None],
                          "dup_cluster": ["r0", "r0", "r4", "r0"]})
    total = apply_marks(data, marks, StageContext(name="m"), LocalEngine(),
                        columns={"kept_id": pl.String, "dup_cluster": pl.String})
    out = finish_marks(data, total, {"x": 1})
    assert (out.rows_in, out.rows_out, out.dropped(), out.stats) == (10, 8, {"dup": 2}, {"x": 1})
    kept, rejected = out.kept.read(), out.rejected.read()
    assert kept["id"].to_list() == ["r0", "r2", "r3", "r4", "r5", "r6", "r7", "r9"]
    assert kept["dup_cluster"].to_list() == ["r0", None, None, "r4", None, None, None, None]
    assert rejected.select("id", "kept_id", DROP_REASON).rows() == [
        ("r1", "r0", "dup"), ("r8", "r0", "dup")]
    assert len(out.kept.files) == 4  # piece i of the input is part i of each output


def test_an_existing_marked_column_keeps_its_values(tmp_path):
    data = _data(tmp_path, n=3, dup_cluster=["old", None, None])
    marks = pl.DataFrame({"__row": [0, 1], DROP_REASON: [None, None],
                          "dup_cluster": ["new", "new"]})
    out = finish_marks(data, apply_marks(data, marks, StageContext(), LocalEngine(),
                                         columns={"dup_cluster": pl.String}), {})
    assert out.kept.read()["dup_cluster"].to_list() == ["old", "new", None]


def test_take_reads_only_the_rows_asked_for(tmp_path):
    data = _data(tmp_path, n=10, rows=3)
    got = take(LocalEngine(), data.source, np.array([9, 2, 2, 5]),
               {"id": pl.col("id"), "len": pl.col("t").str.len_chars()})
    assert got.rows() == [(2, "r2", 6), (5, "r5", 6), (9, "r9", 6)]
    none = take(LocalEngine(), data.source, np.array([], np.int64), ["id"])
    assert none.height == 0 and none.columns == ["__row", "id"]
