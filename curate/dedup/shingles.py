"""Word n-gram shingles of many texts at once, as 64-bit hashes in one flat buffer.

Texts are split into words (``\\w+`` runs) by polars, each word is hashed once, and the n-gram
hashes are rolled up in numpy over the flat word-hash buffer, so no Python code runs per text.
A text with fewer than ``ngram`` words (but at least one) has one shingle: all of its words.
"""

from __future__ import annotations

import numpy as np
import polars as pl

WORD = r"\w+"
_P = np.uint64(0x100000001B3)  # odd multiplier of the rolling n-gram hash


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijective mix of uint64 values (vectorised)."""
    x = np.array(x, dtype=np.uint64, copy=True)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def unique(values: np.ndarray, *, return_inverse: bool = False):
    """Sorted distinct values (and where each input went), by one sort: numpy 2's
    ``np.unique`` hashes first, several times slower on large uint64 arrays."""
    flat = values.ravel()
    order = np.argsort(flat) if return_inverse else None
    ordered = flat[order] if return_inverse else np.sort(flat)
    first = np.ones(ordered.shape[0], bool)
    first[1:] = ordered[1:] != ordered[:-1]
    if not return_inverse:
        return ordered[first]
    inverse = np.empty(flat.shape[0], np.int64)
    inverse[order] = np.cumsum(first) - 1
    return ordered[first], inverse.reshape(values.shape)


def word_hashes(texts: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """The hash of every word of every text, flat, and the number of words of each text."""
    words = pl.DataFrame({"t": texts}).select(
        pl.col("t").fill_null("").str.extract_all(WORD).alias("w"))["w"]
    lens = words.list.len().to_numpy().astype(np.int64)
    flat = words.explode().drop_nulls()
    hashes = flat.hash(seed=0x5EED).to_numpy().astype(np.uint64, copy=False)
    return hashes, lens


def shingle_hashes(texts: pl.Series, ngram: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of each text and their row offsets.

    Returns ``(hashes, offsets)``: the shingles of text ``i`` are
    ``hashes[offsets[i]:offsets[i + 1]]`` (uint64, in text order, repeats kept: MinHash and
    the Jaccard check do not care). A text without words has no shingle.
    """
    if ngram < 1:
        raise ValueError("ngram must be >= 1")
    h, lens = word_hashes(texts)
    n, m = lens.shape[0], h.shape[0]
    tok_off = np.zeros(n + 1, np.int64)
    np.cumsum(lens, out=tok_off[1:])
    counts = np.where(lens >= ngram, lens - ngram + 1, np.minimum(lens, 1))
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    w = max(m - ngram + 1, 0)
    with np.errstate(over="ignore"):
        # Rolling hash of every window of ngram words of the flat buffer ...
        g = h[:w].copy()
        for k in range(1, ngram):
            g *= _P
            g += h[k:k + w]
        # ... kept where the window lies inside one text: the last ngram - 1 starts of each
        # text run into the next one (and short texts have no full window at all).
        ok = np.ones(w, bool)
        for k in range(1, ngram):
            last = tok_off[1:] - k
            ok[last[(last >= tok_off[:-1]) & (last < w)]] = False
        long_shingles = g[ok]
        short = np.flatnonzero((lens > 0) & (lens < ngram))
        if short.size == 0:
            return mix64(long_shingles), offsets
        # A text shorter than ngram words has one shingle: all its words.
        start, size = tok_off[short], lens[short]
        one = np.zeros(short.size, np.uint64)
        for k in range(ngram - 1):
            take = k < size
            one = np.where(take, one * _P + h[np.minimum(start + k, m - 1)], one)
    out = np.empty(int(offsets[-1]), np.uint64)
    is_short = np.zeros(out.shape[0], bool)
    is_short[offsets[short]] = True
    out[is_short] = one
    out[~is_short] = long_shingles
    return mix64(out), offsets
