"""Blocked cosine distances between L2-normalised float32 rows.

Distances are ``1 - cosine similarity`` (0 for the same direction, 2 for opposite ones),
clipped at 0. Work is done in row blocks so that memory stays bounded (``BLOCK_BYTES`` of
similarities at a time) whatever the number of rows.
"""

from __future__ import annotations

import contextlib

import numpy as np

from ..errors import CurateError

BLOCK_BYTES = 64 << 20


def as_unit_rows(X: np.ndarray) -> np.ndarray:
    """``X`` as a C-contiguous float32 array of unit rows: a row whose norm is more than
    1e-3 off 1 is divided by it, the others are left as they are (zero rows stay zero). Row
    by row, so that a matrix gives the same rows whole or in pieces."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise CurateError(f"embeddings must be a 2-D array, got shape {X.shape}")
    norms = np.linalg.norm(X, axis=1)
    if not np.all(np.isfinite(norms)):
        raise CurateError("embeddings contain NaN or infinite values")
    off = (norms > 0) & ~np.isclose(norms, 1.0, rtol=0, atol=1e-3)
    if not off.any():
        return X
    X = X.copy()
    X[off] /= norms[off, None].astype(np.float32)
    return X


def one_blas_thread():
    """A context in which BLAS runs on one thread (for loops of small products, where the
    threads' synchronisation costs more than it saves, badly so on a busy machine)."""
    try:
        from threadpoolctl import threadpool_limits  # installed with scikit-learn
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def block_rows(width: int, *, budget_bytes: int = BLOCK_BYTES, minimum: int = 256) -> int:
    """How many rows of a ``rows x width`` float32 block fit in ``budget_bytes``."""
    return max(minimum, budget_bytes // (4 * max(width, 1)))


def min_distances(X: np.ndarray, centers: np.ndarray, out: np.ndarray | None = None
                  ) -> np.ndarray:
    """Each row's cosine distance to its nearest row of ``centers`` (float32, shape (n,)).

    When ``out`` is given it is updated in place with the smaller of its value and the new
    distance (the running minimum of k-center greedy) and returned.
    """
    n = X.shape[0]
    if out is None:
        out = np.full(n, np.inf, dtype=np.float32)
    if len(centers) == 0 or n == 0:
        return out
    ct = np.ascontiguousarray(centers, dtype=np.float32).T
    step = block_rows(ct.shape[1])
    for start in range(0, n, step):
        sims = X[start:start + step] @ ct
        best = sims.max(axis=1)
        np.subtract(np.float32(1.0), best, out=best)
        np.maximum(best, 0.0, out=best)
        view = out[start:start + step]
        np.minimum(view, best, out=view)
    return out


def covering_radius(X: np.ndarray, centers: np.ndarray, *, chunk: int = 1024,
                    probe: int = 2048, seed: int = 0) -> float:
    """The largest distance from a row of ``X`` to its nearest centre, exactly, without
    computing every row's distance: ``r`` starts as the radius of a random probe of rows, and
    a row is dropped as soon as some centre is within ``r`` of it (its distance cannot exceed
    ``r`` then). Rows left after all centres have their exact distance, and raise ``r``."""
    n = X.shape[0]
    if n == 0 or len(centers) == 0:
        return 0.0
    centers = np.ascontiguousarray(centers, dtype=np.float32)
    rows = np.random.default_rng(seed).choice(n, min(probe, n), replace=False)
    r = float(min_distances(X[rows], centers).max())
    step = block_rows(chunk, budget_bytes=BLOCK_BYTES // 2)
    for start in range(0, n, step):
        block = X[start:start + step]
        best = np.full(len(block), np.inf, dtype=np.float32)
        active = np.arange(len(block))
        for c in range(0, len(centers), chunk):
            if not len(active):
                break
            part = min_distances(block[active], centers[c:c + chunk])
            best[active] = np.minimum(best[active], part)
            active = active[best[active] > r]
        if len(active):
            r = max(r, float(best[active].max()))
    return r
