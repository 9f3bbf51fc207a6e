"""The tasks of a split decided over data in storage (:mod:`curate.export.split_plan`): each
reads one piece's compact keys (``<scratch>/keys/part-N.parquet``, written by the export's check
pass) or a range of the link files, and returns only what the driver asks for: counts, and the
positions of the rows whose groups the driver joins (rows in a shared ``dup_cluster`` or
``label_group``, and the rows that share a prompt with one of them).

Files in the scratch folder:

- ``links/`` (one per piece): the values a row may share with another (its prompt key hash
  where the key is its prompt, its ``dup_cluster`` and ``label_group`` hashes) with a column
  code, the row's position in the piece and its stratum hash, sorted by value;
- ``units/`` (one per range of link values): the groups of rows that share a prompt and
  nothing else, as the split sees a group (bucket, order, label, stratum, rows), sorted by
  bucket; ``members/``: their rows (position, the group's stratum), sorted by position;
- ``singles/`` (one per piece): the rows that share nothing (groups of one): bucket (the top
  bits of their order), order, position in the piece and stratum, sorted by bucket.
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
NO_UNIT = np.iinfo(np.int64).max  # the smallest unit of a cell that holds none


def _keys_file(scratch: str, index: int) -> Path:
    return Path(scratch) / "keys" / part_name(index)


def write_links(scratch: str, index: int, keys: pl.DataFrame) -> None:
    """The values each row of ``keys`` may share, sorted by value (``v``), with the column's
    code (``c``), the row's position (``p``) in the piece and its stratum hash (``st``)."""
    frames = []
    for code, (column, where) in enumerate(LINK_COLUMNS):
        if column not in keys.columns:
            continue
        use = keys[where] if where else keys[column].is_not_null()
        f = keys.select(pl.col(column).alias("v"), pl.lit(code, pl.UInt8).alias("c"),
                        pl.int_range(pl.len(), dtype=pl.UInt32).alias("p"), "st")
        frames.append(f.filter(use.fill_null(False)))
    links = (pl.concat(frames) if frames else
             pl.DataFrame(schema={"v": pl.UInt64, "c": pl.UInt8, "p": pl.UInt32,
                                  "st": pl.UInt64})).sort("v")
    PartWriter(Path(scratch) / "links").write(index, links, row_group_size=ROW_GROUP)


def _links_in(scratch: str, indexes: list[int], starts: list[int], lo: int, hi: int | None,
              codes: tuple[int, ...]) -> pl.DataFrame:
    """The links with a value in ``[lo, hi)`` (``hi`` None: no upper end) and a column code in
    ``codes``, of every piece, positions in export order."""
    v = pl.col("v")
    where = (v >= pl.lit(lo, pl.UInt64)) & pl.col("c").is_in(list(codes))
    if hi is not None:
        where = where & (v < pl.lit(hi, pl.UInt64))
    found = [pl.scan_parquet(Path(scratch) / "links" / part_name(i)).filter(where)
             .with_columns(pl.col("p").cast(pl.Int64) + start).collect()
             for i, start in zip(indexes, starts)]  # one file at a time: a lazy concat holds more
    return pl.concat(found)


def _same_value(values: np.ndarray):
    """:func:`~curate.export.split_groups._shared` on every value."""
    return _shared(pl.Series(values), pl.Series(np.ones(len(values), dtype=bool)))


def cluster_rows(item: tuple[str, list[int], list[int], int, int | None]) -> np.ndarray:
    """The positions of the rows whose ``dup_cluster`` or ``label_group`` (a value in
    ``[lo, hi)``) another row shares; ``item``: (scratch, piece indexes, their first
    positions, lo, hi)."""
    links = _links_in(*item, codes=(1, 2))
    c, p = links["c"].to_numpy(), links["p"].to_numpy()
    found = []
    for code in (1, 2):
        mine = np.flatnonzero(c == code)
        same = _same_value(links["v"].to_numpy()[mine])
        if same is not None:
            found.append(p[mine[same[0]]])
    return np.unique(np.concatenate(found)) if found else np.array([], dtype=np.int64)


def prompt_groups(item: tuple) -> dict:
    """The groups of rows that share a prompt (a value in ``[lo, hi)``). Those with a row of
    ``joined`` (sorted positions of the rows in a shared cluster) are returned as positions,
    for the driver to join; the others are written as units of range ``at`` (and their rows
    as members), and counted: rows and the smallest unit's rows per (stratum, bucket), flat,
    and groups."""
    scratch, indexes, starts, lo, hi, joined, strata, names, bits, at = item
    links = _links_in(scratch, indexes, starts, lo, hi, codes=(0,))
    v = links["v"].to_numpy()
    same = _same_value(v)
    empty = np.array([], dtype=np.int64)
    if same is None:
        rows, first, sizes = empty, empty, empty
    else:
        rows, first, sizes = same
    p = links["p"].to_numpy()[rows]
    group = np.repeat(np.arange(len(first)), sizes)
    with_joined = np.zeros(len(first), dtype=bool)
    with_joined[group[np.isin(p, joined)]] = True
    keep = ~with_joined[group]
    raw = _stratum_ranks(links[rows[keep].tolist()], strata, names)  # NO_STRATUM is the largest
    units = pl.DataFrame({"g": group[keep], "p": p[keep], "r": raw}).group_by(
        "g", maintain_order=True).agg(pl.col("p").min(), pl.col("r").min(), pl.len().alias("n"))
    r = units["r"].to_numpy().astype(np.int64)
    r[r == NO_STRATUM] = names.index("")
    order = v[rows[first]][units["g"].to_numpy()] if len(units) else np.array([], np.uint64)
    b = buckets_of(order, bits)
    n = units["n"].to_numpy().astype(np.int64)
    out = pl.DataFrame({"b": b, "ko": pl.Series(order, dtype=pl.UInt64), "p": units["p"],
                        "r": r, "n": n})
    PartWriter(Path(scratch) / "units").write(at, out.sort("b", "ko", "p"),
                                              row_group_size=ROW_GROUP)
    members = pl.DataFrame({"p": p[keep],  # the unit of each: units are in group order
                            "g": r[np.searchsorted(units["g"].to_numpy(), group[keep])]})
    PartWriter(Path(scratch) / "members").write(at, members.sort("p"), row_group_size=ROW_GROUP)
    cell = r * (1 << bits) + b
    least = np.full(len(names) << bits, NO_UNIT, dtype=np.int64)
    np.minimum.at(least, cell, n)
    return {"joined": np.unique(p[~keep]), "groups": len(out), "least": least,
            "counts": np.bincount(cell, weights=n,
                                  minlength=len(names) << bits).astype(np.uint32)}


def members_in(scratch: str, ranges: int, start: int, end: int) -> pl.DataFrame:
    """The rows in export positions ``[start, end)`` that are in a unit: position in the
    piece (``p``) and the unit's stratum (``g``)."""
    p = pl.col("p")
    found = [pl.scan_parquet(Path(scratch) / "members" / part_name(at))
             .filter((p >= start) & (p < end)).collect() for at in range(ranges)]
    return pl.concat(found).with_columns(p - start) if found else pl.DataFrame(
        schema={"p": pl.Int64, "g": pl.Int64})


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


def count_singles(item: tuple) -> np.ndarray:
    """The rows of a piece that share nothing (all but ``joined``, positions in the piece, and
    the members of units) written to ``singles/``; returns their number per (stratum, bucket),
    flat."""
    scratch, index, start, joined, strata, names, bits, ranges = item
    keys = pl.read_parquet(_keys_file(scratch, index), columns=["ko", "st"])
    alone = np.ones(keys.height, dtype=bool)
    alone[joined] = False
    alone[members_in(scratch, ranges, start, start + keys.height)["p"].to_numpy()] = False
    order = keys["ko"].to_numpy()[alone]
    rank = row_strata(keys, strata, names)[alone].astype(np.int64)
    bucket = buckets_of(order, bits)
    singles = pl.DataFrame({"b": bucket, "ko": order,
                            "p": np.flatnonzero(alone).astype(np.int64), "r": rank})
    PartWriter(Path(scratch) / "singles").write(index, singles.sort("b", "ko", "p"),
                                                row_group_size=ROW_GROUP)
    counts = np.bincount(rank * (1 << bits) + bucket, minlength=len(names) << bits)
    return counts.astype(np.uint32)  # a piece's rows fit


def units_in(item: tuple[str, str, int, int, list[int]]) -> pl.DataFrame:
    """The units of one file (``kind``: "singles", a piece's, positions from ``start``; or
    "units", a range's) in ``buckets``: bucket, order, label (export position), stratum, rows,
    and whether it is a group."""
    scratch, kind, index, start, buckets = item
    found = (pl.scan_parquet(Path(scratch) / kind / part_name(index))
             .filter(pl.col("b").is_in(buckets)).collect())
    if kind == "singles":
        return found.with_columns(pl.col("p") + start, pl.lit(1, pl.Int64).alias("n"),
                                  pl.lit(False).alias("group"))
    return found.with_columns(pl.lit(True).alias("group"))


def cell_runs(cells: np.ndarray, used: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Per stratum, the side of each (stratum, bucket) cell of ``cells`` as runs (first
    bucket, side): only the ``used`` cells count (the others hold no unit, or only units
    decided one by one); a run starts at a used cell and covers the unused ones after it."""
    runs = []
    for row, use in zip(cells, used):
        at = np.flatnonzero(use)
        if not len(at):
            runs.append((np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.uint8)))
            continue
        side = row[at]
        new = np.r_[True, side[1:] != side[:-1]]
        first = at[new]
        first[0] = 0
        runs.append((first, side[new]))
    return tuple(runs)


def side_by_runs(runs, stratum: np.ndarray, bucket: np.ndarray) -> np.ndarray:
    """The side of each (stratum, bucket) by the runs of :func:`cell_runs`."""
    out = np.zeros(len(stratum), dtype=np.uint8)
    for s in np.unique(stratum).tolist():
        mine = stratum == s
        first, side = runs[s]
        out[mine] = side[np.searchsorted(first, bucket[mine], side="right") - 1]
    return out

