"""Hashes of every word n-gram of many texts, for any n, from one prefix sum of word hashes.

The hash of the n words from word ``i`` is the polynomial ``sum(h[i + k] * P**(n - 1 - k))``
(mod 2**64) of their word hashes. With ``Q = P**-1`` (``P`` is odd, so it has an inverse mod
2**64) and the prefix sum ``T[j] = sum(h[m] * Q**m for m < j)``, it is
``P**(i + n - 1) * (T[i + n] - T[i])``: one cumulative sum serves every n (13-grams and the
whole texts of short benchmark items alike), each n costing two vector operations.
"""

from __future__ import annotations

import numpy as np

_P = 0x100000001B3
_MOD = 1 << 64
_POWERS: dict[int, np.ndarray] = {}


def _powers(base: int, n: int) -> np.ndarray:
    """``base**0 .. base**(n - 1)`` mod 2**64 (grown and kept per process)."""
    have = _POWERS.get(base)
    if have is None or have.shape[0] < n:
        size = max(n, 1024, 0 if have is None else 2 * have.shape[0])
        steps = np.full(size, base, np.uint64)
        steps[0] = 1
        have = np.cumprod(steps, dtype=np.uint64)
        _POWERS[base] = have
    return have[:n]


class Prefix:
    """Prefix sums of a word-hash array, from which any window's n-gram hash follows."""

    def __init__(self, hashes: np.ndarray):
        n = hashes.shape[0]
        self.size = n
        self.sums = np.zeros(n + 1, np.uint64)
        with np.errstate(over="ignore"):
            np.cumsum(hashes * _powers(pow(_P, -1, _MOD), n), out=self.sums[1:])

    def windows(self, n: int) -> np.ndarray:
        """The n-gram hash of the window at every word position ``0 .. size - n``."""
        if self.size < n:
            return np.zeros(0, np.uint64)
        with np.errstate(over="ignore"):
            return (self.sums[n:] - self.sums[:-n]) * _powers(_P, self.size)[n - 1:]

    def at(self, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """The hash of the ``lengths[j]`` words from word ``starts[j]``."""
        ends = starts + lengths
        with np.errstate(over="ignore"):
            return (self.sums[ends] - self.sums[starts]) * _powers(_P, self.size + 1)[ends - 1]


def inside(first: np.ndarray, n: int, total: int) -> np.ndarray:
    """Which window starts ``0 .. total - n`` lie inside one text (text ``i`` has the words
    ``first[i]`` to ``first[i + 1]``)."""
    count = max(total - n + 1, 0)
    ok = np.ones(count, bool)
    ends = first[1:]
    for k in range(1, n):  # the last n - 1 starts of each text run into the next one
        last = ends - k
        ok[last[(last >= first[:-1]) & (last < count)]] = False
    return ok
