"""Exact Jaccard similarity of candidate pairs, on their shingle sets (numpy sorts, batched)."""

from __future__ import annotations

import numpy as np
import polars as pl

from .shingles import shingle_hashes, unique

PAIR_BATCH = 20_000
_LOW = np.uint64(40)  # a shingle keeps 40 bits of its hash; the top 24 bits name its owner


def _ragged(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated ranges ``starts[i] : starts[i] + counts[i]`` as one index array."""
    total = int(counts.sum())
    before = np.zeros(counts.shape[0], np.int64)
    np.cumsum(counts[:-1], out=before[1:])
    return np.repeat(starts - before, counts) + np.arange(total)


def _tagged(owner: np.ndarray, low: np.ndarray) -> np.ndarray:
    return (owner.astype(np.uint64) << _LOW) | low


def pair_jaccard(texts: pl.Series, pairs: np.ndarray, *, ngram: int = 5) -> np.ndarray:
    """Jaccard similarity of the word ``ngram`` shingle sets of ``texts[i]`` and ``texts[j]``
    for each ``(i, j)`` row of ``pairs`` (up to 2**24 texts per call).

    Shingles are cut to 40 bits and tagged with their text in the top 24 bits; one sort gives
    every text's distinct shingles. Then, per batch of pairs, both texts' shingles are tagged
    with the pair and sorted: a shingle the two share shows up as two equal neighbours. (Two
    different shingles of one pair agree on 40 bits with probability ~1e-7.)
    """
    if pairs.shape[0] == 0:
        return np.zeros(0, np.float64)
    hashes, offsets = shingle_hashes(texts, ngram)
    n = offsets.shape[0] - 1
    if n >= 1 << 24:
        raise ValueError("pair_jaccard: at most 2**24 texts per call")
    low_mask = np.uint64((1 << 40) - 1)
    doc = np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets))
    distinct = unique(_tagged(doc, hashes & low_mask))           # sorted by text, then shingle
    shingles = distinct & low_mask
    sizes = np.bincount((distinct >> _LOW).astype(np.int64), minlength=n)
    starts = np.zeros(n, np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    a, b = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    inter = np.zeros(pairs.shape[0], np.int64)
    for lo in range(0, pairs.shape[0], PAIR_BATCH):
        ba, bb = a[lo:lo + PAIR_BATCH], b[lo:lo + PAIR_BATCH]
        k = np.arange(ba.shape[0])
        both = np.concatenate([
            _tagged(np.repeat(k, sizes[ba]), shingles[_ragged(starts[ba], sizes[ba])]),
            _tagged(np.repeat(k, sizes[bb]), shingles[_ragged(starts[bb], sizes[bb])])])
        both.sort()
        same = both[1:][both[1:] == both[:-1]]
        inter[lo:lo + ba.shape[0]] = np.bincount((same >> _LOW).astype(np.int64),
                                                 minlength=ba.shape[0])
    union = sizes[a] + sizes[b] - inter
    return np.where(union > 0, inter / np.maximum(union, 1), 0.0)
