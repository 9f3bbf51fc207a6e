"""The run's embedding cache: each text's vector, keyed by a hash of its content.

One folder per model, precision path and text form (:data:`curate.embed.TEXT_FORM`: how a
record's part becomes text), ``CACHE/embeddings/<model>-<slug>-<path>-<form>.parquet/``,
of part files with the columns ``key`` (sha1 of the text, hex) and ``vec`` (its float32
vector). Whoever embeds texts adds them as a new part (written whole or not at all, from any
worker), so the cache grows without ever being rewritten, and nothing reads it whole:

- :func:`lookup` (a list of texts, e.g. benchmark prompts) and
  :func:`curate.embed_store.embed_source` (a dataset, whose hits go into its vector file)
  join each part's keys with the keys asked for, one part at a time, and read vectors only
  from the row groups (:data:`ROW_GROUP` vectors each) that hold a hit.

A cache file of the earlier layout (one parquet file at the folder's name) is moved into the
folder as its first part.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import Iterator

import numpy as np
import polars as pl

from .embed_model import TEXT_FORM, precision, resolve_model

KEY, VEC = "key", "vec"
ROW_GROUP = 4096  # vectors per row group of a part (6 MB at 384 floats): what a lookup reads


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def cache_folder(cache_dir: Path, model: str) -> Path:
    """The cache of ``model`` on this process's precision path and the current text form
    under ``cache_dir`` (a cache of an earlier form is left alone, never read)."""
    slug = hashlib.sha1(resolve_model(model).encode()).hexdigest()[:10]
    return (Path(cache_dir) / "embeddings"
            / f"{Path(model).name}-{slug}-{precision()}-{TEXT_FORM}.parquet")


def cache_files(folder: Path) -> list[Path]:
    """The cache's part files (none when it does not exist yet)."""
    if folder.is_file():  # the earlier layout: one file; it becomes the folder's first part
        moved = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}")
        os.replace(folder, moved)
        folder.mkdir(exist_ok=True)
        os.replace(moved, folder / "part-legacy.parquet")
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.suffix == ".parquet" and not p.name.startswith("."))


def cached_dim(folder: Path) -> int | None:
    """The vectors' width in the cache, or None when it is empty."""
    for path in cache_files(folder):
        dtype = pl.scan_parquet(path).collect_schema()[VEC]
        if isinstance(dtype, pl.Array):
            return int(dtype.size)
        row = pl.read_parquet(path, columns=[VEC], n_rows=1)
        if row.height:
            return len(row[VEC][0])
    return None


def lookup(folder: Path, keys: list[str]) -> dict[str, np.ndarray]:
    """The cached vectors of ``keys`` (only those found), one part at a time: its keys are
    joined with ``keys`` and the vectors read only from its row groups with a hit."""
    found: dict[str, np.ndarray] = {}
    wanted = pl.DataFrame({KEY: keys}, schema={KEY: pl.String}).unique()
    for file in cache_files(folder) if keys else []:
        hit = (pl.scan_parquet(file).select(KEY).with_row_index("__at")
               .join(wanted.lazy(), on=KEY).unique(KEY, keep="first").sort("__at").collect())
        hit = hit.filter(~pl.col(KEY).is_in(pl.Series(list(found), dtype=pl.String).implode()))
        if hit.height:
            at, names = hit["__at"].to_numpy().astype(np.int64), hit[KEY].to_list()
            for lo, hi, X in read_rows(file, at):
                found.update(zip(names[lo:hi], X))
    return found


def vectors_of(frame: pl.DataFrame) -> np.ndarray:
    """The ``vec`` column as a float32 matrix."""
    col = frame[VEC]
    if not isinstance(col.dtype, pl.Array):
        col = col.cast(pl.Array(pl.Float32, len(col[0]) if len(col) else 1))
    return np.asarray(col.to_numpy(), dtype=np.float32).reshape(len(col), -1)


def read_rows(file: Path | str, positions: np.ndarray) -> Iterator[tuple[int, int, np.ndarray]]:
    """The vectors at ``positions`` (sorted) of the cache part ``file``, one row group at a
    time (only the groups that hold one of them are read): ``(lo, hi, X)``, ``X`` the
    vectors of ``positions[lo:hi]``."""
    import pyarrow.parquet as pq

    part = pq.ParquetFile(file)
    start = 0
    for group in range(part.metadata.num_row_groups):
        end = start + part.metadata.row_group(group).num_rows
        lo, hi = np.searchsorted(positions, [start, end]).tolist()
        if hi > lo:
            col = part.read_row_group(group, columns=[VEC]).column(VEC).combine_chunks()
            if hasattr(col.type, "list_size"):
                X = col.values.to_numpy(zero_copy_only=False).reshape(len(col), -1)
            else:  # a part written with variable-size lists
                X = vectors_of(pl.from_arrow(col).to_frame(VEC))
            yield lo, hi, np.asarray(X[positions[lo:hi] - start], dtype=np.float32)
        start = end


def write_rows(file: Path | str, positions: np.ndarray, rows: np.ndarray, vectors) -> None:
    """The vectors at ``positions`` (sorted) of the cache part ``file`` written as ``rows``
    of the :class:`~curate.vectors.Vectors` file ``vectors``, a row group at a time."""
    for lo, hi, X in read_rows(file, positions):
        vectors.write(rows[lo:hi], X)


def add(folder: Path, keys: list[str], vectors: np.ndarray) -> None:
    """``vectors`` of the texts ``keys`` as a new part of the cache."""
    if not keys:
        return
    folder.mkdir(parents=True, exist_ok=True)
    name = f"part-{uuid.uuid4().hex}.parquet"
    tmp = folder / f".{name}.tmp"
    pl.DataFrame({KEY: pl.Series(keys, dtype=pl.String),
                  VEC: np.ascontiguousarray(vectors, dtype=np.float32)}).write_parquet(
        tmp, compression="lz4", row_group_size=ROW_GROUP)
    os.replace(tmp, folder / name)
