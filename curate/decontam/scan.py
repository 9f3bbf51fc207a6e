"""The byte-level search of many texts for benchmark n-grams, in one compiled pass (numba).

Each text of a UTF-8 buffer is read once: characters are folded by :func:`.fold.fold_table`
(ASCII by its first 128 entries), words are hashed as they are read (FNV-1a over the folded
code points, then mixed), and every n-word window's polynomial hash (the one of
:mod:`.grams`: ``sum(h[i + k] * P**(n - 1 - k))``) is rolled along and probed against the
index. A text with a character the table cannot fold (``COMPLEX``) is flagged and skipped;
the caller normalises it with the whole-text pipeline (:func:`.words.text_bytes`) and scans the
result again with ``normalised`` set, where every non-ASCII character is a word character as
it stands. Both routes give the same word hashes (tests/decontam/test_scan.py).

    word_hashes(data, offsets, normalised) -> (hashes, first, complex)
    scan(data, offsets, normalised, probe) -> (candidates, complex)

Compiled on first use and cached on disk (``cache=True``) next to this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from .fold import fold_table

_P = np.uint64(0x100000001B3)
_FNV = np.uint64(0x100000001B3)
_SEED = np.uint64(0xCBF29CE484222325)
_MIX = np.uint64(0x9E3779B97F4A7C15)


@numba.njit(cache=True, nogil=True, inline="always")
def _finish(h):
    h ^= h >> np.uint64(29)
    h *= _MIX
    h ^= h >> np.uint64(32)
    return h


@numba.njit(cache=True, nogil=True)
def _text_words(data, start, end, normalised, fold, out):
    """Hashes of the words of ``data[start:end]`` into ``out`` (room for ``(end - start + 1)
    // 2`` words), and their count; -1 for a text with a character the table cannot fold.
    (``out`` is never reallocated here: a growable array in this loop makes it ten times
    slower.)"""
    count = 0
    h = _SEED
    inword = False
    i = start
    while i < end:
        b = np.int64(data[i])
        if b < 0x80:
            f = fold[b]
            i += 1
        else:
            if b >= 0xF0:
                cp = ((b & 0x07) << 18) | ((np.int64(data[i + 1]) & 0x3F) << 12) \
                    | ((np.int64(data[i + 2]) & 0x3F) << 6) | (np.int64(data[i + 3]) & 0x3F)
                i += 4
            elif b >= 0xE0:
                cp = ((b & 0x0F) << 12) | ((np.int64(data[i + 1]) & 0x3F) << 6) \
                    | (np.int64(data[i + 2]) & 0x3F)
                i += 3
            else:
                cp = ((b & 0x1F) << 6) | (np.int64(data[i + 1]) & 0x3F)
                i += 2
            if normalised:
                f = cp
            elif cp < 0x10000:
                f = fold[cp]
                if f == -2:
                    return -1
            else:
                return -1
        if f >= 0:
            if not inword:
                h = _SEED
                inword = True
            h = (h ^ np.uint64(f)) * _FNV
        elif inword:
            out[count] = _finish(h)
            count += 1
            inword = False
    if inword:
        out[count] = _finish(h)
        count += 1
    return count


@numba.njit(cache=True, nogil=True)
def _word_hashes(data, offsets, normalised, fold):
    ntext = offsets.shape[0] - 1
    first = np.zeros(ntext + 1, np.int64)
    complex_ = np.zeros(ntext, np.bool_)
    hashes = np.empty(data.shape[0] // 2 + ntext + 1, np.uint64)
    total = 0
    for t in range(ntext):
        count = _text_words(data, offsets[t], offsets[t + 1], normalised[t], fold,
                            hashes[total:])
        if count < 0:
            complex_[t] = True
            count = 0
        total += count
        first[t + 1] = total
    return hashes[:total].copy(), first, complex_


@numba.njit(cache=True, nogil=True, inline="always")
def _poly(h, start, n):
    out = np.uint64(0)
    for k in range(n):
        out = out * _P + h[start + k]
    return out


@numba.njit(cache=True, nogil=True, inline="always")
def _rolled(g, h, i, n, top):
    """The window hash at word ``i`` from the one at ``i - 1`` (``g`` itself at 0)."""
    if i == 0:
        return g
    return (g - h[i - 1] * top) * _P + h[i + n - 1]


@numba.njit(cache=True, nogil=True, inline="always")
def _maybe(bits, g, shift):
    """Whether the filter has the bit of ``g``: False means surely not a key."""
    b = g >> shift
    return (bits[b >> np.uint64(6)] >> (b & np.uint64(63))) & np.uint64(1) != 0


@numba.njit(cache=True, nogil=True, inline="always")
def _record(cand, found, t, i, table, at):
    """One candidate more (kept while ``cand`` has room; counted anyway)."""
    if found < cand.shape[0]:
        cand[found, 0], cand[found, 1], cand[found, 2], cand[found, 3] = t, i, table, at
    return found + 1


@numba.njit(cache=True, nogil=True)
def _scan(data, offsets, normalised, fold, n, slots, shift, keys, m, s_slots, s_shift, s_keys,
          s_full, s_length, w_min, w_keys, cand):
    """Candidates (text, word, table, entry) of every text into ``cand`` (while it has room):
    table 0 an n-gram key, 1 a short item (its whole hash checked), 2 a whole-turn item; their
    count, and the texts flagged complex."""
    ntext = offsets.shape[0] - 1
    complex_ = np.zeros(ntext, np.bool_)
    found = 0
    longest = 0
    for t in range(ntext):
        longest = max(longest, offsets[t + 1] - offsets[t])
    scratch = np.empty(longest // 2 + 2, np.uint64)
    top_n = np.uint64(1)
    for _ in range(n - 1):
        top_n *= _P
    top_m = np.uint64(1)
    for _ in range(m - 1):
        top_m *= _P
    for t in range(ntext):
        nw = _text_words(data, offsets[t], offsets[t + 1], normalised[t], fold, scratch)
        if nw < 0:
            complex_[t] = True
            continue
        h = scratch
        lo = min(m, n)
        if nw >= lo:  # one pass over the windows of both lengths
            gn = _poly(h, 0, n) if nw >= n else np.uint64(0)
            gm = _poly(h, 0, m) if nw >= m else np.uint64(0)
            for i in range(nw - lo + 1):
                if i <= nw - n:
                    gn = _rolled(gn, h, i, n, top_n)
                    if keys.shape[0] and _maybe(slots, gn, shift):
                        at = np.searchsorted(keys, gn)
                        if at < keys.shape[0] and keys[at] == gn:
                            found = _record(cand, found, t, i, 0, at)
                if i <= nw - m:
                    gm = _rolled(gm, h, i, m, top_m)
                    if s_keys.shape[0] and _maybe(s_slots, gm, s_shift):
                        at = np.searchsorted(s_keys, gm)
                        while at < s_keys.shape[0] and s_keys[at] == gm:  # every item of it
                            length = s_length[at]
                            if i + length <= nw and _poly(h, i, length) == s_full[at]:
                                found = _record(cand, found, t, i, 1, at)
                            at += 1
        if w_min <= nw < m and w_keys.shape[0]:
            g = _poly(h, 0, nw)
            at = np.searchsorted(w_keys, g)
            if at < w_keys.shape[0] and w_keys[at] == g:
                found = _record(cand, found, t, 0, 2, at)
    return found, complex_


def _flags(normalised, ntext: int) -> np.ndarray:
    if isinstance(normalised, np.ndarray):
        return normalised.astype(np.bool_)
    return np.full(ntext, bool(normalised), np.bool_)


def word_hashes(data: np.ndarray, offsets: np.ndarray, normalised=False
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the hash of every word, each text's first word, which texts are complex) of the texts
    ``data[offsets[i]:offsets[i + 1]]``; ``normalised`` (one flag, or one per text): the text
    is already the pipeline's output."""
    ntext = offsets.shape[0] - 1
    return _word_hashes(data, offsets.astype(np.int64), _flags(normalised, ntext),
                        fold_table())


@dataclass
class Probe:
    """What :func:`scan` looks for: n-gram keys, short-item keys (``m`` words) with each
    item's whole hash and length, whole-turn keys; each sorted, the first two with a bit
    filter (:func:`bitset`: bit ``key >> shift`` set for every key)."""

    n: int
    slots: np.ndarray
    shift: np.uint64
    keys: np.ndarray
    m: int
    s_slots: np.ndarray
    s_shift: np.uint64
    s_keys: np.ndarray
    s_full: np.ndarray
    s_length: np.ndarray
    w_min: int
    w_keys: np.ndarray


def bitset(keys: np.ndarray, shift: np.uint64) -> np.ndarray:
    """The filter of ``keys`` as packed bits (64 per word: eight times less memory to miss in
    the cache than one bool per slot)."""
    slot = keys >> shift
    size = int(1 << (64 - int(shift)))
    bits = np.zeros(max(size // 64, 1), np.uint64)
    np.bitwise_or.at(bits, (slot >> np.uint64(6)).astype(np.int64),
                     np.uint64(1) << (slot & np.uint64(63)))
    return bits


def scan(data: np.ndarray, offsets: np.ndarray, normalised, probe: Probe
         ) -> tuple[np.ndarray, np.ndarray]:
    """(candidates: rows of text, word in text, table, entry; complex texts) of the texts."""
    ntext = offsets.shape[0] - 1
    p = probe
    args = (data, offsets.astype(np.int64), _flags(normalised, ntext), fold_table(), p.n,
            p.slots, p.shift, p.keys, p.m, p.s_slots, p.s_shift, p.s_keys, p.s_full,
            p.s_length.astype(np.int64), p.w_min, p.w_keys)
    cand = np.empty((1024, 4), np.int64)
    found, complex_ = _scan(*args, cand)
    if found > cand.shape[0]:  # more candidates than room: once more with room for all
        cand = np.empty((found, 4), np.int64)
        found, complex_ = _scan(*args, cand)
    return cand[:found], complex_
