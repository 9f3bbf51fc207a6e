"""The byte-level search of many texts for benchmark n-grams, in one compiled pass (numba).

Each text of a UTF-8 buffer is read word by word. A text of ASCII bytes only (most texts; an
OR of its 8-byte loads tells) is used as it is: one branch-free pass over its bytes lists
where each word (a run of ``[0-9A-Za-z_]``) starts and ends, and each word is hashed from
unaligned 8-byte loads, case folded eight bytes at a time. A text with other bytes is first
copied into a scratch buffer, its ASCII as it is and its other characters folded one by one
with :func:`.fold.fold_table` (as UTF-8; separators as spaces), then read the same way, every
non-ASCII byte being a word byte. A text with a character the table cannot fold
(``COMPLEX``) is flagged and skipped: the caller normalises it with the whole-text pipeline
(:func:`.words.text_bytes`) and scans the result again with ``normalised`` set, where every
non-ASCII character is a word character as it stands. So a word's hash is a function of its folded UTF-8 bytes, whichever
route it took (tests/decontam/test_scan.py).

Every n-word window's polynomial hash (the one of :mod:`.grams`:
``sum(h[i + k] * P**(n - 1 - k))``) is rolled along the words and probed against the index.

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
_MIX = np.uint64(0x9E3779B97F4A7C15)
_SPLIT1 = np.uint64(0xBF58476D1CE4E5B9)
_SPLIT2 = np.uint64(0x94D049BB133111EB)
_HIGH = np.uint64(0x8080808080808080)
_KEEP = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], np.uint64)
# 1 for a word byte: ASCII letter, digit, "_", or any byte of a non-ASCII character
_WORD_BYTE = np.array([chr(b).isascii() and (chr(b).isalnum() or b == ord("_")) or b >= 0x80
                       for b in range(256)], np.uint8)


@numba.njit(cache=True, nogil=True, inline="always")
def _caseless8(x):
    """``x`` with bit 5 of each ASCII byte cleared: one form for both cases of a letter, and
    still one byte for one byte among word bytes (digits move to 0x10-0x19, ``_`` stays;
    non-ASCII bytes are left as they are)."""
    return x & ~((~x & _HIGH) >> np.uint64(2))


@numba.njit(cache=True, nogil=True, inline="always")
def _mix(h):
    h ^= h >> np.uint64(30)
    h *= _SPLIT1
    h ^= h >> np.uint64(27)
    h *= _SPLIT2
    return h ^ (h >> np.uint64(31))


@numba.njit(cache=True, nogil=True, inline="always")
def _load(loads, i, end):
    """The (up to) 8 bytes from ``i`` to ``end`` as a little-endian integer. (Near the end of
    the buffer, the last load shifted: no branch to a byte loop, which made every load here
    ten times slower.)"""
    j = min(i, loads.shape[0] - 1)
    return (loads[j] >> np.uint64(8 * (i - j))) & _KEEP[min(end - i, 8)]


@numba.njit(cache=True, nogil=True, inline="always")
def _word_hash(loads, start, end):
    """The hash of the word from ``start`` to ``end`` of the buffer of ``loads`` (ASCII case
    folded), 8 bytes at a time."""
    h = _caseless8(_load(loads, start, end))
    i = start + 8
    while i < end:
        h = _mix(h) ^ _caseless8(_load(loads, i, end))
        i += 8
    h *= _MIX
    h ^= h >> np.uint64(29)
    h *= _MIX
    return h ^ (h >> np.uint64(32))


@numba.njit(cache=True, nogil=True, inline="always")
def _ascii(data, loads, start, end):
    """Whether ``data[start:end]`` is all ASCII (8 bytes at a time)."""
    acc = np.uint64(0)
    i = start
    while i + 8 <= end:
        acc |= loads[i]
        i += 8
    if i < end:
        acc |= _load(loads, i, end)
    return acc & _HIGH == 0


@numba.njit(cache=True, nogil=True, inline="always")
def _bounds(buf, start, end, bounds):
    """The words of ``buf[start:end]`` as bounds (start, end, start, ...) in ``bounds``,
    listed without a branch per byte; their count."""
    count = 0
    prev = 0
    for i in range(start, end):
        w = np.int64(_WORD_BYTE[buf[i]])
        bounds[count] = i
        count += w ^ prev
        prev = w
    if prev:
        bounds[count] = end
        count += 1
    return count >> 1


@numba.njit(cache=True, nogil=True)
def _fold_text(data, loads, start, end, fold, folded, f_loads):
    """``data[start:end]`` folded into ``folded``: its length, or -1 where a character needs
    the pipeline. ASCII is copied as it is (8 bytes at a time where 8 are ASCII: the word
    reader folds its case and skips its punctuation), other characters by the table (as
    UTF-8; separators as spaces)."""
    n = 0
    i = start
    while i < end:
        if i + 8 <= end and loads[i] & _HIGH == 0:
            f_loads[n] = loads[i]
            i += 8
            n += 8
            continue
        b = np.int64(data[i])
        if b < 0x80:
            folded[n] = b
            i += 1
            n += 1
            continue
        if b >= 0xF0:
            return -1  # outside the table
        if b >= 0xE0:
            cp = ((b & 0x0F) << 12) | ((np.int64(data[i + 1]) & 0x3F) << 6) \
                | (np.int64(data[i + 2]) & 0x3F)
            i += 3
        else:
            cp = ((b & 0x1F) << 6) | (np.int64(data[i + 1]) & 0x3F)
            i += 2
        f = fold[cp]
        if f == -2:
            return -1
        if f < 0:
            folded[n] = 0x20
            n += 1
        elif f < 0x80:
            folded[n] = f
            n += 1
        elif f < 0x800:
            folded[n] = 0xC0 | (f >> 6)
            folded[n + 1] = 0x80 | (f & 0x3F)
            n += 2
        elif f < 0x10000:
            folded[n] = 0xE0 | (f >> 12)
            folded[n + 1] = 0x80 | ((f >> 6) & 0x3F)
            folded[n + 2] = 0x80 | (f & 0x3F)
            n += 3
        else:
            folded[n] = 0xF0 | (f >> 18)
            folded[n + 1] = 0x80 | ((f >> 12) & 0x3F)
            folded[n + 2] = 0x80 | ((f >> 6) & 0x3F)
            folded[n + 3] = 0x80 | (f & 0x3F)
            n += 4
    return n


@numba.njit(cache=True, nogil=True, inline="always")
def text_bounds(data, loads, start, end, normalised, fold, folded, f_loads, bounds):
    """The words of text ``data[start:end]`` as bounds in ``bounds`` (see :func:`_bounds`):
    their count (-1 for a text with a character the table cannot fold), and whether they
    are in ``folded`` (else in ``data``)."""
    if normalised or _ascii(data, loads, start, end):
        return _bounds(data, start, end, bounds), False
    n = _fold_text(data, loads, start, end, fold, folded, f_loads)
    if n < 0:
        return -1, True
    return _bounds(folded, 0, n, bounds), True


@numba.njit(cache=True, nogil=True, inline="always")
def _text_words(data, loads, start, end, normalised, fold, folded, f_loads, bounds, out):
    """The word hashes of text ``data[start:end]`` into ``out``, and their count; -1 for a
    text with a character the table cannot fold."""
    count, in_folded = text_bounds(data, loads, start, end, normalised, fold, folded, f_loads,
                                   bounds)
    src = f_loads if in_folded else loads
    for j in range(count):
        out[j] = _word_hash(src, bounds[2 * j], bounds[2 * j + 1])
    return count


def padded(buf: np.ndarray) -> np.ndarray:
    """``buf``, or a copy of it padded with zeros where it has under 8 bytes."""
    if buf.shape[0] >= 8:
        return buf
    out = np.zeros(8, np.uint8)
    out[:buf.shape[0]] = buf
    return out


def loads_of(buf: np.ndarray) -> np.ndarray:
    """The 8 bytes from every position of ``buf`` (of 8 bytes or more) that has 8: unaligned
    little-endian loads, no copy."""
    return np.ndarray((buf.shape[0] - 7,), dtype="<u8", buffer=buf, strides=(1,))


class Scratch:
    """Per-call buffers sized for the longest text: its folded bytes (at most 2 per byte) and
    word bounds (:func:`text_bounds`)."""

    def __init__(self, offsets: np.ndarray):
        longest = int(np.diff(offsets).max()) if offsets.shape[0] > 1 else 0
        self.folded = np.zeros(2 * longest + 8, np.uint8)
        self.f_loads = loads_of(self.folded)
        self.bounds = np.empty(2 * longest + 2, np.int64)

    def args(self):
        return self.folded, self.f_loads, self.bounds


@numba.njit(cache=True, nogil=True)
def _word_hashes(data, loads, offsets, normalised, fold, folded, f_loads, bounds):
    ntext = offsets.shape[0] - 1
    first = np.zeros(ntext + 1, np.int64)
    complex_ = np.zeros(ntext, np.bool_)
    hashes = np.empty(data.shape[0] // 2 + ntext + 1, np.uint64)
    total = 0
    for t in range(ntext):
        count = _text_words(data, loads, offsets[t], offsets[t + 1], normalised[t], fold,
                            folded, f_loads, bounds, hashes[total:])
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
    """The window hash at word ``i`` from the one at ``i - 1`` (``g`` itself at 0); ``top`` is
    ``P**n``. (``g * P`` is the only step that waits for the previous window.)"""
    if i == 0:
        return g
    return g * _P + (h[i + n - 1] - h[i - 1] * top)


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
def _scan(data, loads, offsets, normalised, fold, folded, f_loads, bounds, n, slots, shift, keys,
          m, s_slots, s_shift, s_keys, s_full, s_length, w_min, w_keys, cand):
    """Candidates (text, word, table, entry) of every text into ``cand`` (while it has room):
    table 0 an n-gram key, 1 a short item (its whole hash checked), 2 a whole-turn item; their
    count, and the texts flagged complex."""
    ntext = offsets.shape[0] - 1
    complex_ = np.zeros(ntext, np.bool_)
    found = 0
    scratch = np.empty(bounds.shape[0] // 2 + 1, np.uint64)
    top_n = np.uint64(1)
    for _ in range(n):
        top_n *= _P
    top_m = np.uint64(1)
    for _ in range(m):
        top_m *= _P
    for t in range(ntext):
        nw = _text_words(data, loads, offsets[t], offsets[t + 1], normalised[t], fold, folded,
                         f_loads, bounds, scratch)
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


def flags(normalised, ntext: int) -> np.ndarray:
    if isinstance(normalised, np.ndarray):
        return normalised.astype(np.bool_)
    return np.full(ntext, bool(normalised), np.bool_)


def word_hashes(data: np.ndarray, offsets: np.ndarray, normalised=False
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the hash of every word, each text's first word, which texts are complex) of the texts
    ``data[offsets[i]:offsets[i + 1]]``; ``normalised`` (one flag, or one per text): the text
    is already the pipeline's output."""
    ntext = offsets.shape[0] - 1
    offsets, data = offsets.astype(np.int64), padded(data)
    return _word_hashes(data, loads_of(data), offsets, flags(normalised, ntext), fold_table(),
                        *Scratch(offsets).args())


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
    offsets, data = offsets.astype(np.int64), padded(data)
    args = (data, loads_of(data), offsets, flags(normalised, ntext), fold_table(),
            *Scratch(offsets).args(), p.n,
            p.slots, p.shift, p.keys, p.m, p.s_slots, p.s_shift, p.s_keys, p.s_full,
            p.s_length.astype(np.int64), p.w_min, p.w_keys)
    cand = np.empty((1024, 4), np.int64)
    found, complex_ = _scan(*args, cand)
    if found > cand.shape[0]:  # more candidates than room: once more with room for all
        cand = np.empty((found, 4), np.int64)
        found, complex_ = _scan(*args, cand)
    return cand[:found], complex_
