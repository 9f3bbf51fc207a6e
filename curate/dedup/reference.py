"""Reference datasets (an earlier release, a public set) that new records are deduplicated
against: their index, built once and cached by the reference's content.

A dedup stage with ``against: {v1: PATH}`` compares every new record with the records of
``PATH`` (any dataset curate reads; never changed or exported). What it compares them by is
the stage's own key, computed on the reference's records by the stage's own ``sign``
function, so a reference copy is found exactly as a copy among the new records would be:

    keys/p0000.<col>.npy ... the keyed rows of the reference, sorted by the key's first
                             column (a 64-bit hash: exact dedup's digest half, near dedup's
                             band bucket), in P range partitions of that hash (P a power of
                             two), one array per key column and ``rows`` (the reference row);
                             at most ``limit`` reference rows a key
    records.parquet/         one row per reference record, in order: ``id`` (and what else
                             the stage keeps per record)
    blobs/<name>/NNNNN.*     texts the stage reads back for the few rows that matter (near
                             dedup's compared text, for the Jaccard check), per piece: the
                             UTF-8 bytes one after another and their offsets, so that a
                             run reads the texts of its candidates, not the reference
    vectors.npy              (semantic dedup) the embeddings, a :class:`~curate.vectors.Vectors`
    meta.json                name, path, content digest, parameters, rows, P; written last

The index lives in the user's cache (:func:`cache_root`) under the reference's content digest
and the parameters it depends on, so a second run against the same release (from any run
folder) reads it instead of building it, and a changed release gets a new one.

**Content digest.** A 128-bit xxh3 hash of the bytes of every file the reference covers
(the files :func:`curate.io.input_files` lists; a run folder's ``data.parquet`` parts), read
in full and streamed, with their names relative to the reference. Sizes and modification times
are not content (a copy has new times; an edit may keep both), and parquet footers are not
either (a changed text keeps its column's statistics and, often, its compressed size). xxh3
reads about 3 GB/s on one core here (sha256: 0.4 GB/s), so hashing a 1M-record release costs
a fraction of a second per run; it is not a cryptographic hash, which a user's own cache does
not need (accidental collisions of 128 bits do not happen).

New records meet the reference's keys where the stage signs them (:func:`lookup`): each
keyed row's hash is searched (``np.searchsorted``) in its partition's sorted array, memory-
mapped, so a lookup reads the pages it touches and memory stays flat whatever the sizes; a
second run reads the index and the new records, nothing else.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import shutil
import uuid
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import polars as pl

from ..in_process import SIGN_THREADS
from ..io import input_files
from ..io.owned import export_files, folder_kind
from ..io.parts import PART_ROWS, ROW, PartWriter, Parts, Piece

REFERENCE_REASON = "duplicate_of_reference"
DUPLICATE_OF = "duplicate_of"
REF_ROW, REF_INDEX = "__ref", "__refidx"
INDEX_VERSION = 2
PARTITION_ROWS = 2_000_000  # keyed rows per partition of a reference's keys, about
PIECE_ROWS = PART_ROWS  # reference rows signed per piece of work
READ_BYTES = 8 << 20  # bytes hashed at a time
_META = "meta.json"


def cache_root() -> Path:
    """Where reference indexes live: ``$CURATE_HOME/references``, else
    ``$XDG_CACHE_HOME/curate/references``, else ``~/.cache/curate/references`` (as the model
    and run caches of curate choose theirs)."""
    if os.environ.get("CURATE_HOME"):
        return Path(os.environ["CURATE_HOME"]) / "references"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "curate" / "references"


def reference_files(path: str | Path) -> list[Path]:
    """What a reference reads: the split files of a curate export folder (its ``*.parquet``
    splits, which hold the same records as its ``*.jsonl``; not its ``rejected/``), else the
    dataset argument itself."""
    path = Path(path)
    if path.is_dir() and folder_kind(path) == "export":
        listed = [f for f in export_files(path) if "/" not in f]
        for suffix in (".parquet", ".jsonl"):
            splits = [path / f for f in sorted(listed) if f.endswith(suffix)]
            if splits:
                return splits
    return [path]


def content_digest(path: str | Path) -> str:
    """The hash of the bytes of the files a reference reads (see the module docs and
    :func:`reference_files`); computed once per process for the same files, sizes and
    modification times."""
    root = Path(path)
    files = []
    entries = [Path(str(e)) for f in reference_files(path) for e in input_files(f)]
    for entry in entries:
        files += [entry] if entry.is_file() else sorted(p for p in entry.rglob("*")
                                                        if p.is_file())
    stamp = tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns, f.stat().st_ctime_ns)
                  for f in files)
    return _digest(str(root), stamp)


@lru_cache(maxsize=64)
def _digest(root: str, stamp: tuple) -> str:
    import xxhash

    base = Path(root)
    digest = hashlib.sha256()
    for file, *_ in stamp:
        p = Path(file)
        name = p.relative_to(base) if base in p.parents else Path(p.name)
        h = xxhash.xxh3_128()
        with open(p, "rb") as f:
            while chunk := f.read(READ_BYTES):
                h.update(chunk)
        digest.update(f"{name}\0{h.hexdigest()}\n".encode())
    return digest.hexdigest()


def index_folder(digest: str, method: str, params: dict[str, Any]) -> Path:
    """The cache folder of the index of the reference with content ``digest`` for a stage's
    ``method`` and the ``params`` its keys depend on."""
    spec = json.dumps({"v": INDEX_VERSION, **params}, sort_keys=True, default=str)
    tag = hashlib.sha256(spec.encode()).hexdigest()[:16]
    return cache_root() / digest[:32] / f"{method}-{tag}"


@dataclass(frozen=True)
class ReferenceIndex:
    """A built reference index (see the module docs); ``built``: made by this run."""

    name: str
    folder: Path
    meta: dict
    built: bool = False

    @property
    def parts(self) -> int:
        return int(self.meta.get("parts", 1))

    @property
    def rows(self) -> int:
        return int(self.meta["rows"])

    def records(self) -> Parts:
        return Parts(self.folder / "records.parquet")

    def keys(self) -> tuple[str, int, tuple[int, ...]]:
        """What :func:`lookup` needs: the keys folder, P and the keys per partition."""
        return str(self.folder / "keys"), self.parts, tuple(self.meta.get("counts", ()))

    def stats(self) -> dict[str, Any]:
        return {"path": self.meta["path"], "digest": self.meta["digest"], "rows": self.rows,
                "built": self.built, "index": str(self.folder)}


def open_index(name: str, folder: Path) -> ReferenceIndex | None:
    """The index in ``folder`` if it was finished (its meta.json is written last)."""
    meta = folder / _META
    if not meta.is_file():
        return None
    return ReferenceIndex(name, folder, json.loads(meta.read_text()))


def partition_count(rows: int) -> int:
    """P for ``rows`` keyed rows: a power of two (partitions are ranges of the hash's top
    bits)."""
    return 1 << max(0, math.ceil(math.log2(max(1, math.ceil(rows / PARTITION_ROWS)))))


def partition_of(hashes: np.ndarray, parts: int) -> np.ndarray:
    """The range partition of each 64-bit hash: its top log2(P) bits."""
    if parts <= 1:
        return np.zeros(hashes.shape[0], np.int64)
    return (hashes.astype(np.uint64) >> np.uint64(64 - int(math.log2(parts)))).astype(np.int64)


def building(folder: Path) -> Path:
    """A fresh private folder beside ``folder`` to build its index in."""
    tmp = folder.parent / f".{folder.name}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.mkdir(parents=True)
    return tmp


def publish(name: str, tmp: Path, folder: Path, meta: dict) -> ReferenceIndex:
    """The index built in ``tmp`` moved into place (meta.json last, so a reader never sees a
    half index); when another run published one first, that one is used."""
    (tmp / _META).write_text(json.dumps(meta, indent=1, sort_keys=True))
    try:
        os.replace(tmp, folder)
    except OSError:  # the folder exists: another run built it meanwhile
        shutil.rmtree(tmp, ignore_errors=True)
        found = open_index(name, folder)
        if found is None:
            raise
        return found
    return ReferenceIndex(name, folder, meta, built=True)


def build_keyed(tmp: Path, source: Parts, engine, *, sign: Callable, columns: list[str] | None,
                extra: dict[str, pl.Expr], key: Sequence[str], limit: int, keys_per_row: int,
                desc: str, rows: int | None = None,
                blobs: dict[str, pl.Expr] | None = None) -> dict[str, Any]:
    """The keys and records of the reference ``source`` written into ``tmp`` (see the module
    docs); ``sign(batch)``: the stage's keyed rows of a batch with ``__row``; ``key``: its
    key columns, the first a uint64 hash; ``extra``: the records' columns beside ``id``; at
    most ``limit`` reference rows per key (the first); ``blobs``: texts kept for
    :func:`read_blob`. Returns the meta fields it decided."""
    blobs = dict(blobs or {})
    parts = partition_count(source.height * keys_per_row)
    pieces = source.pieces(rows or PIECE_ROWS)
    if columns is not None:  # what sign reads, the ids and what the extra columns read
        exprs = [*extra.values(), *blobs.values()]
        wanted = {"id", *columns, *(c for e in exprs for c in e.meta.root_names())}
        columns = [c for c in source.schema if c in wanted]
    task = partial(_sign_piece, sign=sign, columns=columns, extra=extra, blobs=blobs,
                   folder=str(tmp), parts=parts, hash_column=key[0])
    engine.map(task, pieces, desc=f"{desc}: sign", sizes=[p.length for p in pieces],
               threads=SIGN_THREADS)
    PartWriter(tmp / "records.parquet").finish()
    (tmp / "keys").mkdir(exist_ok=True)
    items = [(str(tmp / "spill" / f"p{p:04d}"), str(tmp / "keys" / f"p{p:04d}"))
             for p in range(parts)]
    counts = engine.map(partial(_sort_partition, key=list(key), limit=limit), items,
                        desc=f"{desc}: keys", sizes=[1] * len(items), threads=SIGN_THREADS)
    shutil.rmtree(tmp / "spill", ignore_errors=True)
    return {"rows": source.height, "parts": parts, "key": list(key),
            "counts": [int(c) for c in counts], "pieces": [p.offset for p in pieces]}


def _sign_piece(piece: Piece, *, sign: Callable, columns: list[str] | None,
                extra: dict[str, pl.Expr], blobs: dict[str, pl.Expr], folder: str, parts: int,
                hash_column: str) -> int:
    batch = piece.read(columns, positions=True)
    records = batch.select(pl.col("id").cast(pl.String), *[e.alias(n) for n, e in extra.items()])
    PartWriter(Path(folder) / "records.parquet").write(piece.index, records)
    for name, expr in blobs.items():
        write_blob(Path(folder) / "blobs" / name, piece.index,
                    batch.select(expr.fill_null("").alias("t"))["t"])
    keyed = sign(batch).rename({ROW: REF_ROW})
    if keyed.height == 0:
        return 0
    part = partition_of(keyed[hash_column].to_numpy(), parts)
    for (p,), rows in keyed.with_columns(pl.Series("__part", part)).partition_by(
            "__part", as_dict=True, maintain_order=True).items():
        target = Path(folder) / "spill" / f"p{p:04d}"
        target.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()  # see curate.stages.keyed.sign_piece: a buffer is faster here
        rows.drop("__part").write_parquet(buffer, compression="lz4", statistics=False)
        (target / f"{piece.index:05d}.parquet").write_bytes(buffer.getbuffer())
    return keyed.height


def _sort_partition(item: tuple[str, str], *, key: list[str], limit: int) -> int:
    """One partition's keyed rows sorted by key and reference row, at most ``limit`` rows a
    key, as one ``.npy`` array per key column and ``rows``; its row count."""
    spilled, out = Path(item[0]), item[1]
    files = sorted(str(f) for f in spilled.glob("*.parquet")) if spilled.is_dir() else []
    if not files:
        return 0
    keys = (pl.scan_parquet(files).sort([*key, REF_ROW])
            .filter(pl.int_range(pl.len()).over(key) < limit).collect())
    for column in key:
        np.save(f"{out}.{column}.npy", keys[column].to_numpy())
    np.save(f"{out}.rows.npy", keys[REF_ROW].to_numpy().astype(np.int64))
    return keys.height


def lookup(keyed: pl.DataFrame, keys: str, parts: int, counts: Sequence[int],
           key: Sequence[str]) -> pl.DataFrame:
    """The reference rows whose key equals a keyed row's (of ``keyed``: ``__row`` and the
    ``key`` columns): ``__row`` and ``__ref``, found by binary search in the sorted,
    memory-mapped arrays of the reference's partitions (see the module docs)."""
    empty = pl.DataFrame(schema={ROW: pl.Int64, REF_ROW: pl.Int64})
    if keyed.height == 0:
        return empty
    first = keyed[key[0]].to_numpy()
    part = partition_of(first, parts)
    out = [empty]
    for p in np.unique(part):
        if not counts[p]:
            continue
        sel = np.flatnonzero(part == p)
        base = f"{keys}/p{p:04d}"
        hashes = np.load(f"{base}.{key[0]}.npy", mmap_mode="r")
        lo = np.searchsorted(hashes, first[sel], "left")
        n = np.searchsorted(hashes, first[sel], "right") - lo
        if not n.any():
            continue
        at = np.repeat(lo - np.cumsum(n) + n, n) + np.arange(int(n.sum()))
        query = np.repeat(sel, n)
        ok = np.ones(at.shape[0], bool)
        for column in key[1:]:
            ok &= np.load(f"{base}.{column}.npy", mmap_mode="r")[at] == \
                keyed[column].to_numpy()[query]
        rows = np.load(f"{base}.rows.npy", mmap_mode="r")[at[ok]]
        out.append(pl.DataFrame({ROW: keyed[ROW].to_numpy()[query[ok]], REF_ROW: rows},
                                schema={ROW: pl.Int64, REF_ROW: pl.Int64}))
    return pl.concat(out)


def write_blob(folder: Path, index: int, texts: pl.Series) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    offsets = np.zeros(texts.len() + 1, np.int64)
    np.cumsum(texts.str.len_bytes().to_numpy(), out=offsets[1:])
    (folder / f"{index:05d}.bin").write_bytes(texts.str.join("").item().encode()
                                              if texts.len() else b"")
    np.save(folder / f"{index:05d}.off.npy", offsets)


def read_blob(folder: str | Path, starts: Sequence[int], rows: np.ndarray) -> list[str]:
    """The texts at reference positions ``rows`` of the blob ``folder`` (``starts``: the first
    position of each piece), read as byte slices of its memory-mapped files."""
    import mmap

    rows = np.asarray(rows, dtype=np.int64)
    piece = np.searchsorted(np.asarray(starts, dtype=np.int64), rows, "right") - 1
    out: list[str] = [""] * rows.shape[0]
    for p in np.unique(piece):
        at = np.flatnonzero(piece == p)
        offsets = np.load(Path(folder) / f"{p:05d}.off.npy", mmap_mode="r")
        local = rows[at] - int(starts[p])
        path = Path(folder) / f"{p:05d}.bin"
        if path.stat().st_size == 0:
            continue
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            for i, r in zip(at, local):
                out[i] = data[int(offsets[r]):int(offsets[r + 1])].decode()
    return out


def rows_of_pieces(pieces: list[Piece], rows: np.ndarray) -> list[tuple[Piece, np.ndarray]]:
    """The pieces that hold some of ``rows`` (sorted positions), each with those rows."""
    out = []
    for piece in pieces:
        lo, hi = np.searchsorted(rows, [piece.offset, piece.offset + piece.length])
        if hi > lo:
            out.append((piece, rows[lo:hi]))
    return out


def first_matches(candidates: pl.DataFrame) -> pl.DataFrame:
    """Per new row, its match in the first reference (in ``against`` order) at the lowest
    reference row: what ``duplicate_of`` names."""
    return (candidates.sort(ROW, REF_INDEX, REF_ROW)
            .unique(ROW, keep="first", maintain_order=True))
