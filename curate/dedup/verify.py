"""The exact Jaccard check of near dedup's candidate pairs, as tasks: no text reaches the driver.

The driver holds the candidate pairs (two row positions each) and hands out work; workers
read and compare the texts:

1. :func:`stage_texts`: one task per piece of the data that holds a row of a pair reads the
   compared texts of those rows (normalised by :func:`curate.text.nfkc`) and writes them to a
   blob in the stage's scratch folder (UTF-8 bytes and offsets, as a reference's blobs, see
   :func:`curate.dedup.reference.read_blob`); it returns the texts' lengths where asked
   (``keep: longest``). Each piece is read once, however its rows pair up.
2. :func:`check_pairs`: the pairs, in blocks of ``batch``, one task each; a task reads the
   texts of its block's rows from the blobs (memory-mapped: the pages of those texts only),
   computes their Jaccard (:func:`curate.dedup.jaccard.pair_jaccard`) and returns one boolean
   per pair: whether it reaches the threshold.

What comes back to the driver is a keep-mask per block and a length per row: O(pairs)
integers. A task's memory is bounded by its block (at most ``2 * batch`` texts), and a pair's
similarity does not depend on the block it is in, so the result is the same for any ``batch``
and on any engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Sequence

import numpy as np
import polars as pl

from ..in_process import SIGN_THREADS
from ..io.parts import ROW, Parts, Piece
from ..text import nfkc
from .reference import read_blob, rows_of_pieces, write_blob
from .shingles import unique

MIN_BLOCK = 2_000  # pairs: fewer are checked in one task


@dataclass(frozen=True)
class Texts:
    """Texts stored as a blob that workers read (see :func:`curate.dedup.reference.read_blob`):
    ``starts`` the first position of each of its pieces; ``normalized``: already passed
    through :func:`curate.text.nfkc` (else a reader normalises them)."""

    folder: str
    starts: tuple[int, ...]
    normalized: bool = False

    def read(self, rows: np.ndarray) -> pl.Series:
        """The texts at positions ``rows``."""
        texts = pl.Series(read_blob(self.folder, self.starts, rows), dtype=pl.String)
        return texts if self.normalized else nfkc(texts)


def stage_texts(engine, source: Parts, rows: np.ndarray, text: pl.Expr, folder: Path, *,
                lengths: bool, desc: str) -> tuple[Texts, np.ndarray | None]:
    """The texts (``text``, an expression over a record, null as "") of ``source``'s rows at
    ``rows`` (sorted, unique) written to ``folder`` by one task per piece that holds some,
    as :class:`Texts` whose position ``k`` is the text of ``rows[k]``; with ``lengths``, the
    texts' lengths in characters (uint32, in ``rows`` order)."""
    items = rows_of_pieces(source.pieces(), rows)
    task = partial(_write_texts, text=text, folder=str(folder), lengths=lengths)
    out = engine.map(task, [(piece, r, k) for k, (piece, r) in enumerate(items)], desc=desc,
                     sizes=[len(r) for _, r in items], threads=SIGN_THREADS)
    texts = Texts(str(folder), block_starts([len(r) for _, r in items]), normalized=True)
    if not lengths:
        return texts, None
    return texts, np.concatenate([np.zeros(0, np.uint32), *out]).astype(np.uint32)


def _write_texts(item: tuple[Piece, np.ndarray, int], *, text: pl.Expr, folder: str,
                 lengths: bool) -> np.ndarray | None:
    piece, rows, k = item
    names = set(text.meta.root_names())
    schema = piece.schema()
    batch = piece.read([c for c in schema if c in names] or list(schema)[:1], positions=True)
    picked = batch.filter(pl.col(ROW).is_in(pl.Series(rows).implode()))
    if picked.height != len(rows):
        raise ValueError(f"{piece.file}: {len(rows) - picked.height} of the rows asked for "
                         "are not in the piece")
    texts = nfkc(picked.select(text.fill_null("").alias("t"))["t"])
    write_blob(Path(folder), k, texts)
    return texts.str.len_chars().to_numpy().astype(np.uint32) if lengths else None


def check_pairs(engine, left: Texts, a: np.ndarray, right: Texts, b: np.ndarray, *,
                ngram: int, threshold: float, batch: int, desc: str) -> np.ndarray:
    """Whether the Jaccard similarity of the word ``ngram`` shingles of ``left``'s text at
    ``a[p]`` and ``right``'s at ``b[p]`` reaches ``threshold``, for each pair ``p``; checked
    by one task per block of at most ``batch`` pairs."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    if a.shape[0] == 0:
        return np.zeros(0, bool)
    # at least a block per thread where there is enough work for it (the local engine)
    batch = max(1, min(batch, max(MIN_BLOCK, -(-a.shape[0] // SIGN_THREADS))))
    blocks = [(left, a[s:s + batch], right, b[s:s + batch])
              for s in range(0, a.shape[0], batch)]
    task = partial(_check_block, ngram=ngram, threshold=threshold)
    masks = engine.map(task, blocks, desc=desc, sizes=[len(x[1]) for x in blocks],
                       threads=SIGN_THREADS)
    return np.concatenate(masks)


def _check_block(item: tuple[Texts, np.ndarray, Texts, np.ndarray], *, ngram: int,
                 threshold: float) -> np.ndarray:
    from .jaccard import pair_jaccard  # startup

    left, a, right, b = item
    if left == right:
        docs, local = unique(np.stack([a, b], axis=1), return_inverse=True)
        texts = left.read(docs)
    else:
        da, la = unique(a, return_inverse=True)
        db, lb = unique(b, return_inverse=True)
        texts = pl.concat([left.read(da), right.read(db)])
        local = np.stack([la, da.shape[0] + lb], axis=1)
    return pair_jaccard(texts, local, ngram=ngram) >= threshold


def block_starts(sizes: Sequence[int]) -> tuple[int, ...]:
    """The first position of each of consecutive pieces of ``sizes`` rows."""
    return tuple(int(s) for s in np.cumsum([0, *sizes])[:-1])
