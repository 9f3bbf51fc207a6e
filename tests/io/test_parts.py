"""A run's data as part folders: pieces, writers, one schema, and every reader sees one table."""

from __future__ import annotations

import datasets
import polars as pl
import pyarrow.parquet as pq
import pytest

from curate.io.parts import PartWriter, Parts, part_name, write_parts


def _frame(n: int, start: int = 0) -> pl.DataFrame:
    return pl.DataFrame({"id": [f"r{i}" for i in range(start, start + n)],
                         "x": list(range(start, start + n))})


def test_pieces_cover_every_row_in_order_with_their_positions(tmp_path):
    parts = write_parts(_frame(10), tmp_path / "d.parquet", rows=4)
    assert [f.name for f in parts.files] == [part_name(0), part_name(1), part_name(2)]
    assert parts.counts() == [4, 4, 2] and parts.height == 10
    pieces = parts.pieces(rows=3)
    assert [(p.index, p.start, p.length, p.offset) for p in pieces] == [
        (0, 0, 3, 0), (1, 3, 1, 3), (2, 0, 3, 4), (3, 3, 1, 7), (4, 0, 2, 8)]
    rows = pl.concat([p.read(positions=True) for p in pieces])
    assert rows["__row"].to_list() == list(range(10))
    assert rows["x"].to_list() == list(range(10))
    assert pieces[2].read(["id"]).columns == ["id"]


def test_a_single_file_is_a_dataset_too(tmp_path):
    path = tmp_path / "one.parquet"
    _frame(5).write_parquet(path)
    parts = Parts(path)
    assert parts.files == [path] and parts.height == 5
    assert parts.read().equals(_frame(5))
    assert [p.length for p in parts.pieces(rows=2)] == [2, 2, 1]


def test_no_rows_is_one_empty_piece_with_the_schema(tmp_path):
    parts = write_parts(_frame(0), tmp_path / "e.parquet")
    assert parts.height == 0 and parts.schema == _frame(0).schema
    (piece,) = parts.pieces()
    assert piece.read().schema == _frame(0).schema


def test_a_writer_without_parts_writes_one_empty_part_with_the_schema(tmp_path):
    parts = PartWriter(tmp_path / "w.parquet").finish({"id": pl.String})
    assert parts.height == 0 and dict(parts.schema) == {"id": pl.String}


def test_parts_are_unified_to_one_schema(tmp_path):
    writer = PartWriter(tmp_path / "u.parquet")
    writer.write(0, pl.DataFrame({"id": ["a"], "s": [None]}))          # s: Null
    writer.write(1, pl.DataFrame({"id": ["b"], "s": ["x"], "n": [1]}))  # n only here
    writer.write(2, pl.DataFrame({"id": ["c"], "s": ["y"], "n": [2.5]}))
    parts = writer.finish()
    schemas = {tuple(pq.read_schema(f).names) for f in parts.files}
    assert schemas == {("id", "s", "n")}
    df = parts.read()
    assert df.schema == pl.Schema({"id": pl.String, "s": pl.String, "n": pl.Float64})
    assert df.rows() == [("a", None, None), ("b", "x", 1.0), ("c", "y", 2.5)]


def test_every_reader_takes_a_part_folder_as_one_table(tmp_path):
    folder = tmp_path / "data.parquet"
    write_parts(_frame(7), folder, rows=3)
    expected = _frame(7)
    assert pl.read_parquet(folder).equals(expected)
    assert pl.scan_parquet(folder).collect().equals(expected)
    assert pq.read_table(folder).num_rows == 7
    loaded = datasets.load_dataset("parquet", data_files=str(folder / "*.parquet"),
                                   split="train", cache_dir=str(tmp_path / "hf"))
    assert loaded["x"] == list(range(7))


def test_a_write_is_whole_or_absent(tmp_path, monkeypatch):
    writer = PartWriter(tmp_path / "a.parquet")

    def full_disk(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", full_disk)
    with pytest.raises(OSError):
        writer.write(0, _frame(3))
    assert list((tmp_path / "a.parquet").iterdir()) == []


def test_a_missing_path_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        Parts(tmp_path / "nope.parquet")
