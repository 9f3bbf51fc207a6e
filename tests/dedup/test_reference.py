"""The reference index: where it lives, the content digest, and the key lookup (sorted,
range-partitioned, memory-mapped) against a plain join."""

from __future__ import annotations

import shutil

import numpy as np
import polars as pl
import pytest

from curate.dedup import reference
from curate.engines.local import LocalEngine
from curate.io.parts import ROW, write_parts


def test_cache_root(monkeypatch, tmp_path):
    monkeypatch.delenv("CURATE_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert reference.cache_root() == tmp_path / "xdg" / "curate" / "references"
    monkeypatch.setenv("CURATE_HOME", str(tmp_path / "home"))
    assert reference.cache_root() == tmp_path / "home" / "references"


def test_digest_is_of_content(tmp_path):
    a = tmp_path / "a" / "v1.jsonl"
    a.parent.mkdir()
    a.write_text('{"instruction": "q", "output": "r"}\n')
    b = tmp_path / "b" / "v1.jsonl"
    b.parent.mkdir()
    shutil.copy(a, b)  # the same bytes elsewhere, with another modification time
    assert reference.content_digest(a) == reference.content_digest(b)
    b.write_text('{"instruction": "q", "output": "s"}\n')  # same size
    assert reference.content_digest(a) != reference.content_digest(b)


def test_partition_count_is_a_power_of_two(monkeypatch):
    monkeypatch.setattr(reference, "PARTITION_ROWS", 100)
    assert [reference.partition_count(n) for n in (0, 100, 101, 300, 401)] == [1, 1, 2, 4, 8]


@pytest.mark.parametrize("partition_rows", [10**9, 64])
def test_lookup_equals_a_join(tmp_path, monkeypatch, partition_rows):
    """Keys (hash, band) of a reference with repeated keys, at most ``limit`` rows a key;
    every new keyed row finds exactly the reference rows a join finds (the first ``limit``
    of each key)."""
    monkeypatch.setattr(reference, "PARTITION_ROWS", partition_rows)
    monkeypatch.setattr(reference, "PIECE_ROWS", 37)
    rng = np.random.default_rng(0)
    pool = rng.integers(0, 2**64, 60, dtype=np.uint64)
    n = 400
    ref = pl.DataFrame({"id": [f"r{i}" for i in range(n)],
                        "h": rng.choice(pool, n), "b": rng.integers(0, 3, n).astype(np.int16)})
    parts = write_parts(ref, tmp_path / "ref.parquet", rows=50)

    def sign(batch):
        return batch.select(ROW, "h", "b")

    meta = reference.build_keyed(tmp_path / "index", parts, LocalEngine(), sign=sign,
                                 columns=["h", "b"], extra={}, key=("h", "b"), limit=3,
                                 keys_per_row=1, desc="test")
    assert meta["parts"] == (1 if partition_rows > n else 8)
    assert sum(meta["counts"]) == ref.with_row_index().filter(
        pl.col("index").rank("ordinal").over("h", "b") <= 3).height
    new = pl.DataFrame({ROW: np.arange(200, dtype=np.int64), "h": rng.choice(pool, 200),
                        "b": rng.integers(0, 3, 200).astype(np.int16)})
    found = reference.lookup(new, str(tmp_path / "index" / "keys"), meta["parts"],
                             meta["counts"], key=("h", "b")).sort(ROW, reference.REF_ROW)
    first3 = ref.with_row_index(reference.REF_ROW).with_columns(
        pl.col(reference.REF_ROW).cast(pl.Int64)).filter(
        pl.col(reference.REF_ROW).rank("ordinal").over("h", "b") <= 3)
    expected = new.join(first3, on=["h", "b"]).select(ROW, reference.REF_ROW) \
        .sort(ROW, reference.REF_ROW)
    assert expected.height > 100
    assert found.equals(expected)
    records = pl.read_parquet(tmp_path / "index" / "records.parquet")
    assert records["id"].to_list() == ref["id"].to_list()
