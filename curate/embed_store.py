"""A dataset's embeddings in a vector file on disk, made piece by piece through the run's cache.

    embedded = embed_source(engine, source, texts, path, model=..., cache_dir=..., work=...)
    embedded.vectors     # Vectors: row i embeds row i of source (zeros: a row without text)
    embedded.facts       # Parts: __row, __key (null: no text), the compact columns of texts()

``texts(batch)`` gives, for one piece of the data, a frame with ``__text`` (the text to embed,
null for a row not to embed) and any compact columns the stage wants per row (a length, a
hash). Four passes, each through the engine, so that on Ray workers do them, reading and
writing the run folder on shared storage, and the driver gets counts and compact keys:

1. facts: each piece's texts and their content keys, written as its part of ``work/facts``;
2. the cache: the distinct keys (with the first row of each) are joined with every part of
   the run's embedding cache (:mod:`curate.embed_cache`), one part at a time, and each hit is
   written into the vector file at its row;
3. the model: the first rows of the keys the cache lacks are embedded piece by piece
   (``engine.embed_pieces``: one model per worker), written into the file and added to the
   cache as a new part;
4. copies: a row whose text repeats an earlier row's gets that row's vector.

A text is embedded once per run and model, a rerun embeds nothing, and memory is a piece, one
cache part and the keys, whatever the size of the data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import polars as pl

from . import embed_cache
from .embed import dimension, load_model
from .io.parts import PART_ROWS, ROW, PartWriter, Parts, Piece
from .vectors import Vectors

TEXT, KEY = "__text", "__key"
TextFn = Callable[[pl.DataFrame], pl.DataFrame]


@dataclass
class Embedded:
    """The outcome of :func:`embed_source`; ``texts``: rows with a text; ``embedded`` and
    ``cached``: distinct texts the model embedded and the cache held."""

    vectors: Vectors
    facts: Parts
    texts: int
    embedded: int
    cached: int


def read_columns(schema, *exprs: pl.Expr) -> list[str]:
    """The columns of ``schema`` that the expressions read (what a piece must read)."""
    wanted = {name for e in exprs for name in e.meta.root_names()}
    return [c for c in schema if c in wanted]


def embed_source(engine, source: Parts, texts: TextFn, path: Path, *, columns: Sequence[str],
                 model: str, batch_size: int = 64, cache_dir: Path | None, work: Path,
                 desc: str = "embed", rows: int = PART_ROWS) -> Embedded:
    """Every row of ``source`` embedded into the vector file ``path``; see the module docs.
    ``columns``: what ``texts`` reads; ``work``: a folder for the compact files."""
    pieces = source.pieces(rows)
    facts_dir = Path(work) / "facts"
    if facts_dir.exists():
        PartWriter(facts_dir).clear()
    counts = engine.map(partial(_facts, texts=texts, columns=list(columns),
                                folder=str(facts_dir)),
                        pieces, desc=f"{desc}: texts", sizes=[p.length for p in pieces])
    facts = PartWriter(facts_dir).finish()
    keyed = facts.scan().select(ROW, KEY).filter(pl.col(KEY).is_not_null())
    first = keyed.group_by(KEY).agg(pl.col(ROW).min()).sort(ROW).collect()
    folder = embed_cache.cache_folder(cache_dir, model) if cache_dir is not None else None
    files = embed_cache.cache_files(folder) if folder is not None else []
    dim = embed_cache.cached_dim(folder) if files else None
    if dim is None:
        dim = model_dim(model) if first.height else 1
    vectors = Vectors.create(path, source.height, dim)
    try:
        embedded, cached = _fill(engine, vectors, pieces, keyed, first, files, texts=texts,
                                 columns=list(columns), model=model, batch_size=batch_size,
                                 folder=folder, work=Path(work), desc=desc)
    except BaseException:
        vectors.remove()
        raise
    return Embedded(vectors, facts, int(sum(counts)), embedded, cached)


def _fill(engine, vectors: Vectors, pieces: list[Piece], keyed: pl.LazyFrame,
          first: pl.DataFrame, files: list[Path], *, texts: TextFn, columns: list[str],
          model: str, batch_size: int, folder: Path | None, work: Path,
          desc: str) -> tuple[int, int]:
    """Passes 2 to 4 (see the module docs): the distinct texts embedded and found cached."""
    found = np.zeros(0, np.int64)
    if files and first.height:
        first_path = work / "first.parquet"
        first.write_parquet(first_path)
        hits = engine.map(partial(_from_cache, first=str(first_path), vectors=vectors),
                          [str(f) for f in files], desc=f"{desc}: cache")
        found = np.unique(np.concatenate([np.zeros(0, np.int64), *hits]))
    todo = np.setdiff1d(first[ROW].to_numpy(), found, assume_unique=True)
    items = by_piece(pieces, todo)
    if items:
        task = partial(_embed, texts=texts, columns=columns, vectors=vectors,
                       cache=None if folder is None else str(folder))
        engine.embed_pieces(task, items, model=model, batch_size=batch_size, desc=desc,
                            sizes=[len(r) for _, r in items])
    copies = (keyed.join(first.lazy().rename({ROW: "__first"}), on=KEY)
              .filter(pl.col(ROW) != pl.col("__first")).select(ROW, "__first")
              .sort(ROW).collect())
    if copies.height:
        rows, firsts = copies[ROW].to_numpy(), copies["__first"].to_numpy()
        items = [(rows[lo:hi], firsts[lo:hi]) for lo, hi in _edges(pieces, rows) if hi > lo]
        engine.map(partial(_copy, vectors=vectors), items, desc=f"{desc}: copies",
                   sizes=[len(r) for r, _ in items])
    return int(len(todo)), int(len(found))


def vectors_path(ctx, data) -> Path:
    """Where a stage's vector file goes: the run's cache (``vectors/NN_<stage>-<tag>.npy``),
    or the stage's scratch folder when the run has none. The stage removes it when done."""
    if ctx.cache_dir is None:
        return Path(data.scratch) / "vectors.npy"
    name = f"{ctx.index:02d}_{ctx.name}-{uuid.uuid4().hex[:8]}.npy"
    return Path(ctx.cache_dir) / "vectors" / name


def model_dim(model: str) -> int:
    return dimension(load_model(model))


def by_piece(pieces: list[Piece], rows: np.ndarray) -> list[tuple[Piece, np.ndarray]]:
    """``rows`` (sorted positions) cut by the pieces that hold them."""
    return [(p, rows[lo:hi]) for p, (lo, hi) in zip(pieces, _edges(pieces, rows)) if hi > lo]


def _edges(pieces: list[Piece], rows: np.ndarray) -> list[tuple[int, int]]:
    """For each piece, the range of ``rows`` (sorted positions) it holds."""
    if not pieces:
        return []
    starts = [p.offset for p in pieces] + [pieces[-1].offset + pieces[-1].length]
    edges = np.searchsorted(rows, starts).tolist()
    return list(zip(edges[:-1], edges[1:]))


def _facts(piece: Piece, *, texts: TextFn, columns: list[str], folder: str) -> int:
    batch = piece.read(columns, positions=True)
    made = texts(batch)
    text = made[TEXT]
    keys = pl.Series(KEY, [None if t is None else embed_cache.text_key(t)
                           for t in text.to_list()], pl.String)
    out = made.drop(TEXT).with_columns(batch[ROW], keys)
    PartWriter(folder).write(piece.index, out.select(ROW, KEY, pl.exclude(ROW, KEY)))
    return int(text.is_not_null().sum())


def _from_cache(file: str, *, first: str, vectors: Vectors) -> np.ndarray:
    """The rows of ``first`` (key, first row) whose key the cache part ``file`` holds, their
    vectors written; the rows. Only the part's keys are joined, and its vectors read a row
    group at a time where there are hits."""
    hit = (pl.scan_parquet(file).select(pl.col(embed_cache.KEY).alias(KEY))
           .with_row_index("__at").join(pl.scan_parquet(first), on=KEY)
           .unique(KEY, keep="first").sort("__at").collect())
    rows = hit[ROW].to_numpy().astype(np.int64)
    if len(rows):
        embed_cache.write_rows(file, hit["__at"].to_numpy().astype(np.int64), rows, vectors)
    return np.sort(rows)


def _embed(encode, item: tuple[Piece, np.ndarray], *, texts: TextFn, columns: list[str],
           vectors: Vectors, cache: str | None) -> int:
    """One piece's rows ``rows`` embedded by ``encode``, written to the file and the cache."""
    piece, rows = item
    batch = piece.read(columns, positions=True)
    batch = batch.filter(pl.col(ROW).is_in(pl.Series(rows).implode()))
    text = texts(batch)[TEXT].to_list()
    emb = encode(text)
    vectors.write(rows, emb)
    if cache is not None:
        embed_cache.add(Path(cache), [embed_cache.text_key(t) for t in text], emb)
    return len(rows)


def _copy(item: tuple[np.ndarray, np.ndarray], *, vectors: Vectors) -> int:
    rows, firsts = item
    vectors.write(rows, vectors.array()[firsts])
    return len(rows)
