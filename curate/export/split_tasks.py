"""The tasks of a split decided over data in storage (:mod:`curate.export.split_plan`): each
reads one piece's compact keys (``<scratch>/keys/part-N.parquet``, written by the export's check
pass) or a range of the link files, and returns only what the driver asks for, so no task
result grows with the dataset's rows except the shared rows' positions.

Files in the scratch folder, one per piece:

- ``links/``: the values a row may share with another (its prompt key hash where the key is
  its prompt, its ``dup_cluster`` and ``label_group`` hashes) with a column code and the row's
  position in the piece, sorted by value;
- ``singles/``: the rows that share nothing (groups of one): bucket (the top bits of their
  order), order, position in the piece and stratum, sorted by bucket.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from ..io.parts import PartWriter, Piece, part_name
from .split import key_texts
from .split_groups import NO_STRATUM, _shared, _stratum_ranks

ROW = "__export_row"  # the row's position in its input piece (kept beside its keys)
LINK_COLUMNS = (("ko", "pk"), ("dc", None), ("lg", None))  # value column, where (None: not null)
ROW_GROUP = 1 << 16  # rows per row group of the link and single files (their reads skip groups)


def _keys_file(scratch: str, index: int) -> Path:
    return Path(scratch) / "keys" / part_name(index)


def write_links(scratch: str, index: int, keys: pl.DataFrame) -> None:
    """The values each row of ``keys`` may share, sorted by value (``v``), with the column's
    code (``c``) and the row's position (``p``) in the piece."""
    frames = []
    for code, (column, where) in enumerate(LINK_COLUMNS):
        if column not in keys.columns:
            continue
        use = keys[where] if where else keys[column].is_not_null()
        f = keys.select(pl.col(column).alias("v"), pl.lit(code, pl.UInt8).alias("c"),
                        pl.int_range(pl.len(), dtype=pl.UInt32).alias("p"))
        frames.append(f.filter(use.fill_null(False)))
    links = (pl.concat(frames) if frames else
             pl.DataFrame(schema={"v": pl.UInt64, "c": pl.UInt8, "p": pl.UInt32})).sort("v")
    PartWriter(Path(scratch) / "links").write(index, links, row_group_size=ROW_GROUP)


def shared_rows(item: tuple[str, list[int], list[int], int, int | None]) -> np.ndarray:
    """The positions (in export order) of the rows whose link value in ``[lo, hi)`` another
    row shares (``hi`` None: no upper end); ``item``: (scratch, piece indexes, their first
    positions, lo, hi)."""
    scratch, indexes, starts, lo, hi = item
    v = pl.col("v")
    where = v >= pl.lit(lo, pl.UInt64)
    if hi is not None:
        where = where & (v < pl.lit(hi, pl.UInt64))
    found = [pl.scan_parquet(Path(scratch) / "links" / part_name(i)).filter(where).collect()
             for i in indexes]  # one file at a time: a lazy concat of them all holds more
    v = np.concatenate([f["v"].to_numpy() for f in found])
    c = np.concatenate([f["c"].to_numpy() for f in found])
    p = np.concatenate([f["p"].to_numpy().astype(np.int64) + start
                        for f, start in zip(found, starts)])
    del found
    shared = []
    for code in range(len(LINK_COLUMNS)):
        mine = np.flatnonzero(c == code)
        same = _shared(pl.Series(v[mine]), pl.Series(np.ones(len(mine), dtype=bool)))
        if same is not None:
            shared.append(p[mine[same[0]]])
    return np.unique(np.concatenate(shared)) if shared else np.array([], dtype=np.int64)


def keys_at(item: tuple[str, int, np.ndarray]) -> pl.DataFrame:
    """The keys (without the row column) of the rows at positions ``rows`` of a piece."""
    scratch, index, rows = item
    return pl.read_parquet(_keys_file(scratch, index)).drop(ROW)[rows.tolist()]


def texts_at(item: tuple[str, Piece, np.ndarray]) -> list[str]:
    """The group key texts of the exported rows at positions ``rows`` of a piece."""
    scratch, piece, rows = item
    at = pl.read_parquet(_keys_file(scratch, piece.index), columns=[ROW])[ROW]
    return key_texts(piece.read()[at.gather(rows.tolist()).to_list()])


def row_strata(keys: pl.DataFrame, strata: dict[int, str], names: list[str]) -> np.ndarray:
    """Each row's stratum as a position in ``names`` ("" where it has none)."""
    ranks = np.array(_stratum_ranks(keys, strata, names))  # writable
    ranks[ranks == NO_STRATUM] = names.index("")
    return ranks


def buckets_of(order: np.ndarray, bits: int) -> np.ndarray:
    """The bucket of each order value: its top ``bits`` bits."""
    if bits == 0:
        return np.zeros(len(order), dtype=np.int64)
    return (order >> np.uint64(64 - bits)).astype(np.int64)


def count_singles(item: tuple[str, int, np.ndarray, dict, list[str], int]) -> np.ndarray:
    """The rows of a piece that share nothing (all but ``shared``, positions in the piece),
    written to ``singles/``; returns their number per (stratum, bucket), flat."""
    scratch, index, shared, strata, names, bits = item
    keys = pl.read_parquet(_keys_file(scratch, index), columns=["ko", "st"])
    alone = np.ones(keys.height, dtype=bool)
    alone[shared] = False
    order = keys["ko"].to_numpy()[alone]
    rank = row_strata(keys, strata, names)[alone].astype(np.int64)
    bucket = buckets_of(order, bits)
    singles = pl.DataFrame({"b": bucket, "ko": order,
                            "p": np.flatnonzero(alone).astype(np.int64), "r": rank})
    PartWriter(Path(scratch) / "singles").write(index, singles.sort("b", "ko", "p"),
                                                row_group_size=ROW_GROUP)
    counts = np.bincount(rank * (1 << bits) + bucket, minlength=len(names) << bits)
    return counts.astype(np.uint32)  # a piece's rows fit


def singles_in(item: tuple[str, int, int, list[int]]) -> pl.DataFrame:
    """The single rows of a piece in ``buckets``: bucket, order, position in export order
    (``start`` + in the piece), stratum."""
    scratch, index, start, buckets = item
    return (pl.scan_parquet(Path(scratch) / "singles" / part_name(index))
            .filter(pl.col("b").is_in(buckets)).with_columns(pl.col("p") + start).collect())
