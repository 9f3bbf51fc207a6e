"""Parts held as frames: the same pieces, rows and schemas as the same data in storage."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from curate.io.frame_parts import FrameParts, FramePiece, FrameStore, FrameWriter
from curate.io.parts import PartWriter, write_parts


def _frame(n: int) -> pl.DataFrame:
    return pl.DataFrame({"id": [f"r{i}" for i in range(n)], "x": list(range(n)),
                         "t": [None if i % 3 else f"t{i}" for i in range(n)]})


@pytest.mark.parametrize("n", [0, 1, 10])
def test_the_pieces_of_a_frame_are_those_of_its_parts_in_storage(tmp_path, n):
    stored = write_parts(_frame(n), tmp_path / "d", rows=4)
    held = FrameParts.of(_frame(n), rows=4)
    assert held.counts() == stored.counts() and held.height == stored.height == n
    assert held.schema == stored.schema and held.columns == ["id", "x", "t"]
    for rows in (1, 3, 100):
        mine, theirs = held.pieces(rows), stored.pieces(rows)
        assert all(isinstance(p, FramePiece) for p in mine)
        assert [(p.index, p.start, p.length, p.offset) for p in mine] == [
            (p.index, p.start, p.length, p.offset) for p in theirs]
        for a, b in zip(mine, theirs):
            assert_frame_equal(a.read(positions=True), b.read(positions=True))
            assert_frame_equal(a.read(["t"]), b.read(["t"]))
            assert a.schema() == b.schema()
    assert_frame_equal(held.read(), stored.read())
    assert_frame_equal(held.scan().filter(pl.col("x") > 2).collect(),
                       stored.scan().filter(pl.col("x") > 2).collect())


def test_frames_are_not_files():
    with pytest.raises(TypeError, match="frames in memory, not files"):
        FrameParts.of(_frame(3)).files


def _parts() -> list[pl.DataFrame]:
    # part 0: t all null (type Null), no y; part 1: t a string, y added; part 2: x wider
    return [pl.DataFrame({"x": [1, 2], "t": [None, None]}),
            pl.DataFrame({"x": [3], "t": ["a"], "y": [True]}),
            pl.DataFrame({"x": [4.5], "t": ["b"], "y": [None]}, schema_overrides={"y": pl.Boolean})]


def test_a_writer_in_memory_finishes_as_one_in_storage(tmp_path):
    stored, held = PartWriter(tmp_path / "out"), FrameWriter(tmp_path / "out")
    for i, df in reversed(list(enumerate(_parts()))):  # pieces may finish in any order
        stored.write(i, df)
        held.write(i, df)
    assert_frame_equal(held.read(1), stored.read(1))
    a, b = held.finish(), stored.finish()
    assert a.counts() == b.counts() == [2, 1, 1]
    assert [f.schema for f in a.frames] == [pl.scan_parquet(f).collect_schema() for f in b.files]
    assert_frame_equal(a.read(), b.read())
    assert a.read().schema == pl.Schema({"x": pl.Float64, "t": pl.String, "y": pl.Boolean})


def test_nothing_written_is_one_empty_part_with_the_schema(tmp_path):
    schema = {"id": pl.String, "n": pl.Int64}
    a = FrameWriter(tmp_path / "a").finish(schema)
    b = PartWriter(tmp_path / "b").finish(schema)
    assert a.counts() == b.counts() == [0]
    assert_frame_equal(a.read(), b.read())
    assert [p.length for p in a.pieces()] == [0]


def test_a_store_keeps_one_writer_per_folder(tmp_path):
    store = FrameStore()
    store.writer(tmp_path / "kept").write(0, _frame(2))
    assert store.writer(str(tmp_path / "kept")).read(0).height == 2
    assert store.writer(tmp_path / "rejected").frames == {}
    assert not (tmp_path / "kept").exists()  # nothing written to storage


def test_parts_not_finished_read_as_one_table_like_files(tmp_path):
    typed, nulls = pl.DataFrame({"x": [1], "t": ["a"]}), pl.DataFrame({"x": [2], "t": [None]})
    held = FrameWriter(tmp_path / "a")
    stored = PartWriter(tmp_path / "b")
    for i, df in enumerate([typed, nulls]):
        held.write(i, df)
        stored.write(i, df)
    assert_frame_equal(held.parts().read(), stored.parts().read())
    assert_frame_equal(held.parts().scan().collect(), stored.parts().scan().collect())
