"""The word-by-word check of the hash hits of :func:`.scan.scan`, compiled (numba).

A hit says: the ``length`` words of a record text from word ``pos`` hash as the benchmark
words from word ``bench_word``. The check reads the text's words again (:func:`.scan.text_bounds`:
the same words the scan hashed) and compares them byte by byte, ASCII case folded, with the
benchmark's normalised words, so a hash collision never counts as contamination.

    same_words(data, offsets, normalised, hits, bench_word, length, bench) -> ok per hit
"""

from __future__ import annotations

import numba
import numpy as np

from .fold import fold_table
from .scan import Scratch, flags, loads_of, padded, text_bounds


@numba.njit(cache=True, nogil=True, inline="always")
def _lower(b):
    return b | 0x20 if 0x41 <= b <= 0x5A else b


@numba.njit(cache=True, nogil=True)
def _same_words(data, loads, offsets, normalised, fold, folded, f_loads, bounds, text, pos,
                bench_word, length, b_data, b_starts, b_ends):
    """``ok[k]``: hit ``k``'s words are the benchmark's (hits sorted by text)."""
    ok = np.zeros(text.shape[0], np.bool_)
    current, count, in_folded = -1, 0, False
    for k in range(text.shape[0]):
        t = text[k]
        if t != current:
            current = t
            count, in_folded = text_bounds(data, loads, offsets[t], offsets[t + 1],
                                           normalised[t], fold, folded, f_loads, bounds)
        buf = folded if in_folded else data
        if pos[k] + length[k] > count:
            continue
        same = True
        for w in range(length[k]):
            start, end = bounds[2 * (pos[k] + w)], bounds[2 * (pos[k] + w) + 1]
            b_start, b_end = b_starts[bench_word[k] + w], b_ends[bench_word[k] + w]
            if end - start != b_end - b_start:
                same = False
                break
            for x in range(end - start):
                if _lower(buf[start + x]) != _lower(b_data[b_start + x]):
                    same = False
                    break
            if not same:
                break
        ok[k] = same
    return ok


def same_words(data: np.ndarray, offsets: np.ndarray, normalised, text: np.ndarray,
               pos: np.ndarray, bench_word: np.ndarray, length: np.ndarray, bench) -> np.ndarray:
    """Whether each hit (record text ``text[k]`` of the buffer, word ``pos[k]``) has the
    ``length[k]`` benchmark words from ``bench_word[k]`` of ``bench`` (a :class:`.words.Words`)."""
    if text.shape[0] == 0:
        return np.zeros(0, bool)
    order = np.argsort(text, kind="stable")
    offsets, data = offsets.astype(np.int64), padded(data)
    ok = _same_words(data, loads_of(data), offsets, flags(normalised, offsets.shape[0] - 1),
                     fold_table(), *Scratch(offsets).args(), text[order].astype(np.int64),
                     pos[order].astype(np.int64), bench_word[order].astype(np.int64),
                     length[order].astype(np.int64), bench.data, bench.starts.astype(np.int64),
                     bench.ends.astype(np.int64))
    out = np.empty_like(ok)
    out[order] = ok
    return out
