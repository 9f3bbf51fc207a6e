"""The run's embedding cache: each text's vector, keyed by a hash of its content.

One folder per model and precision path, ``CACHE/embeddings/<model>-<slug>-<path>.parquet/``,
of part files with the columns ``key`` (sha1 of the text, hex) and ``vec`` (its float32
vector). Whoever embeds texts adds them as a new part (written whole or not at all, from any
worker), so the cache grows without ever being rewritten, and nothing reads it whole:

- :func:`lookup` (a list of texts, e.g. benchmark prompts) semi-joins the parts with the keys
  asked for;
- :func:`curate.embed_store.embed_source` (a dataset) streams the parts once, each joined with
  the dataset's keys, and writes the hits into the dataset's vector file.

A cache file of the earlier layout (one parquet file at the folder's name) is moved into the
folder as its first part.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import numpy as np
import polars as pl

KEY, VEC = "key", "vec"
ROW_GROUP = 4096  # vectors per row group of a part (6 MB at 384 floats): what a lookup reads


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def cache_folder(cache_dir: Path, model: str) -> Path:
    """The cache of ``model`` on this process's precision path under ``cache_dir``."""
    from .embed import precision, resolve_model

    slug = hashlib.sha1(resolve_model(model).encode()).hexdigest()[:10]
    return Path(cache_dir) / "embeddings" / f"{Path(model).name}-{slug}-{precision()}.parquet"


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
    """The cached vectors of ``keys`` (only those found)."""
    files = cache_files(folder)
    if not files or not keys:
        return {}
    wanted = pl.DataFrame({KEY: keys}, schema={KEY: pl.String}).unique().lazy()
    hit = (pl.scan_parquet([str(f) for f in files]).join(wanted, on=KEY, how="semi")
           .unique(KEY, keep="first", maintain_order=True).collect())
    return dict(zip(hit[KEY].to_list(), vectors_of(hit)))


def vectors_of(frame: pl.DataFrame) -> np.ndarray:
    """The ``vec`` column as a float32 matrix."""
    col = frame[VEC]
    if not isinstance(col.dtype, pl.Array):
        col = col.cast(pl.Array(pl.Float32, len(col[0]) if len(col) else 1))
    return np.asarray(col.to_numpy(), dtype=np.float32).reshape(len(col), -1)


def write_rows(file: Path | str, positions: np.ndarray, rows: np.ndarray, vectors) -> None:
    """The vectors at ``positions`` (sorted) of the cache part ``file`` written as ``rows``
    of the :class:`~curate.vectors.Vectors` file ``vectors``, one row group at a time (only
    the groups that hold one of them are read)."""
    import pyarrow.parquet as pq

    part = pq.ParquetFile(file)
    start = 0
    for group in range(part.metadata.num_row_groups):
        end = start + part.metadata.row_group(group).num_rows
        lo, hi = np.searchsorted(positions, [start, end])
        if hi > lo:
            col = part.read_row_group(group, columns=[VEC]).column(VEC).combine_chunks()
            if hasattr(col.type, "list_size"):
                X = col.values.to_numpy(zero_copy_only=False).reshape(len(col), -1)
            else:  # a part written with variable-size lists
                X = vectors_of(pl.from_arrow(col).to_frame(VEC))
            vectors.write(rows[lo:hi], X[positions[lo:hi] - start])
        start = end


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
