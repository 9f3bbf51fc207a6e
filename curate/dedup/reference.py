"""Reference datasets (an earlier release, a public set) that new records are deduplicated
against: their index, built once and cached by the reference's content.

A dedup stage with ``against: {v1: PATH}`` compares every new record with the records of
``PATH`` (any dataset curate reads; never changed or exported). What it compares them by is
the stage's own key, computed on the reference's records by the stage's own ``sign``
function, so a reference copy is found exactly as a copy among the new records would be:

    keys/p0000.parquet ...   the keyed rows of the reference (``__ref`` = its row, and the
                             key columns: a 128-bit hash for exact dedup, a (band, bucket)
                             per MinHash band for near dedup), partitioned by a key column
                             modulo P (a power of two), sorted, at most ``limit`` rows a key
    records.parquet/         one row per reference record, in order: ``id`` and what the
                             stage needs to confirm a match (the compared text for near
                             dedup's Jaccard check)
    vectors.npy              (semantic dedup) the embeddings, a :class:`~curate.vectors.Vectors`
    meta.json                name, path, content digest, parameters, rows, P; written last

The index lives in the user's cache (:func:`cache_root`) under the reference's content digest
and the parameters it depends on, so a second run against the same release (from any run
folder) reads it instead of building it, and a changed release gets a new one.

**Content digest.** The sha256 of every file the reference covers (the files
:func:`curate.io.input_files` lists; a run folder's ``data.parquet`` parts), read in full and
streamed, with their names relative to the reference. Sizes and modification times are not
content (a copy has new times; an edit may keep the size), and parquet footers are not either
(a changed text keeps its column's statistics and, often, its compressed size); hashing the
bytes costs about 1 s per GB on one core, which is small next to embedding or MinHashing
the new records, and it is the only key under which a cached index is never stale.

New records meet the reference's keys partition by partition: the stage spills its keyed rows
(:func:`spill`) by the same key column modulo the largest P, and :func:`match_partition` joins
partition ``p`` with partition ``p mod P_k`` of reference ``k``. Memory is one partition of
keys, whatever the sizes.
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

import polars as pl

from ..io.parts import PART_ROWS, ROW, PartWriter, Parts, Piece

REFERENCE_REASON = "duplicate_of_reference"
DUPLICATE_OF = "duplicate_of"
REF_ROW, REF_INDEX = "__ref", "__refidx"
INDEX_VERSION = 1
PARTITION_ROWS = 2_000_000  # keyed rows per partition of a reference's keys, about
_META = "meta.json"


def cache_root() -> Path:
    """Where reference indexes live: ``$CURATE_HOME/references``, else
    ``$XDG_CACHE_HOME/curate/references``, else ``~/.cache/curate/references`` (as the model
    and run caches of curate choose theirs)."""
    if os.environ.get("CURATE_HOME"):
        return Path(os.environ["CURATE_HOME"]) / "references"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "curate" / "references"


def content_digest(path: str | Path) -> str:
    """The sha256 of the files a dataset argument covers (see the module docs); hashed once
    per process for the same files, sizes and modification times."""
    from ..io import input_files

    entries = [Path(str(e)) for e in input_files(path)]
    stamp = tuple((str(e), *_stamp(e)) for e in entries)
    return _digest(str(path), stamp)


def _stamp(entry: Path) -> tuple:
    files = [entry] if entry.is_file() else sorted(p for p in entry.rglob("*") if p.is_file())
    return tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files)


@lru_cache(maxsize=64)
def _digest(root: str, stamp: tuple) -> str:
    from ..manifest import path_sha256

    base = Path(root)
    digest = hashlib.sha256()
    for entry, *_ in stamp:
        p = Path(entry)
        name = p.relative_to(base) if p != base and base in p.parents else Path(p.name)
        digest.update(str(name).encode() + b"\0" + path_sha256(p)[0].encode() + b"\n")
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

    def keys_file(self, p: int) -> Path:
        return self.folder / "keys" / f"p{p % self.parts:04d}.parquet"

    def records(self) -> Parts:
        return Parts(self.folder / "records.parquet")

    def stats(self) -> dict[str, Any]:
        return {"path": self.meta["path"], "sha256": self.meta["sha256"], "rows": self.rows,
                "built": self.built, "index": str(self.folder)}


def open_index(name: str, folder: Path) -> ReferenceIndex | None:
    """The index in ``folder`` if it was finished (its meta.json is written last)."""
    meta = folder / _META
    if not meta.is_file():
        return None
    return ReferenceIndex(name, folder, json.loads(meta.read_text()))


def partition_count(rows: int) -> int:
    """P for ``rows`` keyed rows: a power of two, so that P of any two indexes divide."""
    return 1 << max(0, math.ceil(math.log2(max(1, math.ceil(rows / PARTITION_ROWS)))))


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
                extra: dict[str, pl.Expr], key: Sequence[str], hash_column: str, limit: int,
                keys_per_row: int, desc: str, rows: int = PART_ROWS) -> dict[str, Any]:
    """The keys and records of the reference ``source`` written into ``tmp`` (see the module
    docs); ``sign(batch)``: the stage's keyed rows of a batch with ``__row``; ``extra``: the
    records' columns beside ``id``; at most ``limit`` reference rows per key (the first).
    Returns the meta fields it decided (``rows``, ``parts``, ``keyed``)."""
    parts = partition_count(source.height * keys_per_row)
    pieces = source.pieces(rows)
    if columns is not None:  # what sign reads, the ids and what the extra columns read
        wanted = {"id", *columns, *(c for e in extra.values() for c in e.meta.root_names())}
        columns = [c for c in source.schema if c in wanted]
    task = partial(_sign_piece, sign=sign, columns=columns, extra=extra,
                   folder=str(tmp), parts=parts, hash_column=hash_column)
    counts = engine.map(task, pieces, desc=f"{desc}: sign", sizes=[p.length for p in pieces])
    PartWriter(tmp / "records.parquet").finish()
    items = [(str(tmp / "spill" / f"p{p:04d}"), str(tmp / "keys" / f"p{p:04d}.parquet"))
             for p in range(parts)]
    (tmp / "keys").mkdir(exist_ok=True)
    kept = engine.map(partial(_key_partition, key=list(key), limit=limit), items,
                      desc=f"{desc}: keys")
    shutil.rmtree(tmp / "spill", ignore_errors=True)
    return {"rows": source.height, "parts": parts, "keyed": int(sum(sum(c) for c in counts)),
            "keys": int(sum(kept))}


def _sign_piece(piece: Piece, *, sign: Callable, columns: list[str] | None,
                extra: dict[str, pl.Expr], folder: str, parts: int,
                hash_column: str) -> list[int]:
    batch = piece.read(columns, positions=True)
    records = batch.select(pl.col("id").cast(pl.String), *[e.alias(n) for n, e in extra.items()])
    PartWriter(Path(folder) / "records.parquet").write(piece.index, records)
    keyed = sign(batch).rename({ROW: REF_ROW})
    return spill(keyed, Path(folder) / "spill", parts, hash_column, f"{piece.index:05d}")


def spill(keyed: pl.DataFrame, folder: str | Path, parts: int, hash_column: str,
          name: str) -> list[int]:
    """``keyed`` written by ``hash_column`` modulo ``parts`` as ``folder/pNNNN/<name>.parquet``;
    the rows per partition."""
    counts = [0] * parts
    if keyed.height == 0:
        return counts
    part = (pl.col(hash_column).cast(pl.UInt64) % parts).cast(pl.Int64).alias("__part")
    for (p,), rows in keyed.with_columns(part).partition_by(
            "__part", as_dict=True, maintain_order=True).items():
        target = Path(folder) / f"p{p:04d}"
        target.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()  # see curate.stages.keyed.sign_piece: a buffer is faster here
        rows.drop("__part").write_parquet(buffer, compression="lz4", statistics=False)
        (target / f"{name}.parquet").write_bytes(buffer.getbuffer())
        counts[p] = rows.height
    return counts


def _key_partition(item: tuple[str, str], *, key: list[str], limit: int) -> int:
    spilled, out = Path(item[0]), item[1]
    files = sorted(str(f) for f in spilled.glob("*.parquet")) if spilled.is_dir() else []
    if files:
        keys = (pl.scan_parquet(files).sort([*key, REF_ROW])
                .filter(pl.int_range(pl.len()).over(key) < limit).collect())
    else:
        keys = pl.DataFrame(schema={REF_ROW: pl.Int64})
    keys.write_parquet(out, compression="lz4")
    return keys.height


def match_partition(files: list[str], *, indexes: list[tuple[str, int]],
                    key: list[str]) -> pl.DataFrame:
    """The new keyed rows of one partition (``files``) joined with the keys of each
    reference (``indexes``: its keys folder and P): ``__row``, ``__refidx`` (which
    reference) and ``__ref`` (its row)."""
    out = [pl.DataFrame(schema={ROW: pl.Int64, REF_INDEX: pl.Int32, REF_ROW: pl.Int64})]
    if not files:
        return out[0]
    new = pl.read_parquet(files)
    p = _partition_of(files[0])
    for k, (keys, parts) in enumerate(indexes):
        file = Path(keys) / f"p{p % parts:04d}.parquet"
        ref = pl.scan_parquet(file)
        if not set(key) <= set(ref.collect_schema()):
            continue  # a reference without a keyed row (no comparable record)
        hit = ref.join(new.lazy(), on=key, how="inner").select(
            pl.col(ROW), pl.lit(k, pl.Int32).alias(REF_INDEX), pl.col(REF_ROW)).collect()
        out.append(hit)
    return pl.concat(out).unique().sort(ROW, REF_INDEX, REF_ROW)


def _partition_of(file: str) -> int:
    return int(Path(file).parent.name[1:])


def spilled_partitions(folder: Path) -> list[list[str]]:
    """The spilled files of each partition under ``folder``, in name order."""
    if not folder.is_dir():
        return []
    return [sorted(str(f) for f in d.glob("*.parquet"))
            for d in sorted(folder.iterdir()) if d.is_dir()]


def first_matches(candidates: pl.DataFrame) -> pl.DataFrame:
    """Per new row, its match in the first reference (in ``against`` order) at the lowest
    reference row: what ``duplicate_of`` names."""
    return (candidates.sort(ROW, REF_INDEX, REF_ROW)
            .unique(ROW, keep="first", maintain_order=True))
