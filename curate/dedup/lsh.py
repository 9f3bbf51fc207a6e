"""LSH banding: bands and rows from a threshold, and candidate pairs from band hashes."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .shingles import mix64, unique

_GRID = 2001  # points of the [0, 1] grid the error integrals are taken on


@lru_cache(maxsize=64)
def optimal_param(threshold: float, num_perm: int, fp_weight: float = 0.5,
                  fn_weight: float = 0.5) -> tuple[int, int]:
    """``(bands, rows)`` with ``bands * rows <= num_perm`` that minimise the weighted false
    positive and false negative probability mass around ``threshold``.

    Same criterion as datasketch and text-dedup: a pair of Jaccard ``s`` becomes a candidate
    with probability ``1 - (1 - s**r)**b``; the false-positive area is its integral over
    ``[0, threshold]``, the false-negative area the integral of its complement over
    ``[threshold, 1]``. Integrals are taken on a fine grid for every ``(b, r)`` at once.

    Examples:
        ```python
        optimal_param(0.8, 128)   # (9, 13), as datasketch.MinHashLSH picks
        ```
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError("threshold must be between 0 and 1 (exclusive)")
    s = np.linspace(0.0, 1.0, _GRID)
    lo, hi = s <= threshold, s >= threshold
    best, best_err = (1, 1), np.inf
    for b in range(1, num_perm + 1):
        r = np.arange(1, num_perm // b + 1)[:, None]
        prob = 1.0 - (1.0 - s[None, :] ** r) ** b
        fp = np.trapezoid(prob[:, lo], s[lo], axis=1)
        fn = np.trapezoid(1.0 - prob[:, hi], s[hi], axis=1)
        err = fp * fp_weight + fn * fn_weight
        i = int(np.argmin(err))
        if err[i] < best_err - 1e-12:
            best, best_err = (b, int(r[i, 0])), float(err[i])
    return best


def band_hashes(signatures: np.ndarray, bands: int, rows: int,
                salt: np.ndarray | None = None) -> np.ndarray:
    """One uint64 hash per band and row of ``signatures`` (n, >= bands*rows) -> (n, bands).

    ``salt`` (uint64 per row, optional) is mixed into every band hash, so rows of different
    salts (e.g. record kinds) never share a bucket.
    """
    n = signatures.shape[0]
    out = np.empty((n, bands), np.uint64)
    with np.errstate(over="ignore"):
        for b in range(bands):
            g = np.full(n, np.uint64(b + 1) * np.uint64(0x9E3779B97F4A7C15), np.uint64)
            for k in range(b * rows, (b + 1) * rows):
                g = mix64(g ^ signatures[:, k].astype(np.uint64))
            if salt is not None:
                g = mix64(g ^ salt)
            out[:, b] = g
    return out


WINDOW = 16  # rows of a bucket each row is paired with


def bucket_pairs(band: np.ndarray, bucket: np.ndarray, row: np.ndarray, *,
                 window: int = WINDOW) -> np.ndarray:
    """Pairs ``(i, j)`` of rows in the same ``(band, bucket)``, from arrays sorted by
    (band, bucket, row): each row with the next ``window`` rows of its bucket.

    That covers every pair of buckets of up to ``window + 1`` rows and keeps large buckets
    (boilerplate repeated thousands of times) linear instead of quadratic while keeping them
    connected. Pairs may repeat (across bands); ``i < j`` when rows are unique per band.
    """
    found = [np.zeros((0, 2), np.int64)]
    for d in range(1, min(window, len(row) - 1) + 1):
        same = np.flatnonzero((band[d:] == band[:-d]) & (bucket[d:] == bucket[:-d]))
        if same.size == 0:  # no run of d + 1 equal keys: none of a longer one either
            break
        found.append(np.stack([row[same], row[same + d]], axis=1).astype(np.int64))
    return np.concatenate(found)


def candidate_pairs(bands: np.ndarray, *, window: int = WINDOW) -> np.ndarray:
    """Pairs ``(i, j)``, ``i < j``, of rows that share a bucket in at least one band of
    ``bands`` (n, b); see :func:`bucket_pairs`. Returns an int64 array of shape (k, 2),
    sorted and unique."""
    n, b = bands.shape
    band = np.repeat(np.arange(b), n)
    bucket = bands.T.reshape(-1)
    row = np.tile(np.arange(n, dtype=np.int64), b)
    order = np.lexsort((row, bucket, band))
    pairs = bucket_pairs(band[order], bucket[order], row[order], window=window)
    if pairs.shape[0] == 0:
        return np.zeros((0, 2), np.int64)
    codes = unique(pairs[:, 0] * n + pairs[:, 1])  # sorted by (i, j), each pair once
    return np.stack([codes // n, codes % n], axis=1)
