"""The outlier picks of ``facility``: a greedy set cover of the rows left far from every pick.

Facility location leaves the outliers far from every pick. Farthest-first (k-center greedy)
is a 2-approximation of the smallest radius and spends a pick on each outlier in turn; a set
cover spends each pick where it serves the most far rows. :func:`cover_tail` finds, by
bisection, the smallest radius ``r`` at which the greedy set cover of the rows still farther
than ``r`` from every pick needs at most the budget, and returns that cover.

The far rows considered (the elements) are the ``M`` farthest (ties to the lower row), and the
candidates that may cover them every row, or, on large inputs, the far rows and their
neighbours in the graph: ``M`` is the largest count whose candidate x element distances fit in
:data:`PAIRS` (held as one float32 matrix, computed once, in the same blocks on one BLAS
thread wherever it runs). Rows beyond the ``M`` farthest are already within the ``M + 1``-th
distance, so a cover of the ``M`` at a radius at least that distance is a cover of all; when
the budget covers them at that distance (``limited``), the radius cannot be pushed lower
here and the caller spends the rest farthest-first.
"""

from __future__ import annotations

import math

import numpy as np

from .distance import block_rows, one_blas_thread

PAIRS = 1 << 24  # candidate x far-row distances held at most (float32: 64 MiB)
STEPS = 30  # bisection steps on the radius


def far_rows(dist: np.ndarray, m: int) -> np.ndarray:
    """The ``m`` rows of largest ``dist`` (ties to the lower row), ascending row order."""
    order = np.lexsort((np.arange(len(dist)), -dist))
    return np.sort(order[:m])


def candidates_for(n: int, dist: np.ndarray, neighbours: np.ndarray | None,
                   pairs: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(elements, candidates)``: the far rows a cover may have to serve (rows with a
    positive distance, at most as many as fit in ``pairs``) and the rows that may serve them
    (every row when that fits, else the elements and their ``neighbours`` in the graph)."""
    pairs = PAIRS if pairs is None else pairs
    positive = int((dist > 0).sum())
    m_all = pairs // max(n, 1)
    if m_all >= positive or neighbours is None:
        elements = far_rows(dist, min(positive, max(m_all, 1)))
        return elements, np.arange(n)
    m = max(m_all, int(math.isqrt(pairs // (neighbours.shape[1] + 1))), 1)
    m = min(m, positive)
    while True:
        elements = far_rows(dist, m)
        near = neighbours[elements].ravel()
        cands = np.union1d(elements, near[near >= 0])
        if len(cands) * m <= pairs or m == 1:
            return elements, cands
        m = max(1, pairs // len(cands))


def pair_distances(X, cands: np.ndarray, elements: np.ndarray) -> np.ndarray:
    """Cosine distances ``candidates x elements`` (float32), in fixed blocks on one thread."""
    E = np.asarray(X[elements], dtype=np.float32)
    out = np.empty((len(cands), len(elements)), np.float32)
    step = block_rows(len(elements), budget_bytes=16 << 20, minimum=64)
    with one_blas_thread():
        for s in range(0, len(cands), step):
            block = np.asarray(X[cands[s:s + step]], dtype=np.float32)
            np.subtract(np.float32(1.0), block @ E.T, out=out[s:s + step])
    np.maximum(out, 0.0, out=out)
    return out


def greedy_cover(D: np.ndarray, far: np.ndarray, limit: int) -> list[int] | None:
    """Positions of candidates (rows of ``D``) that the greedy set cover picks to serve the
    elements ``far`` (columns, a boolean mask) within the radius that made ``D`` boolean:
    each pick serves the most elements still unserved (ties to the lower position). None when
    it needs more than ``limit`` picks."""
    far = far.copy()
    count = D[:, far].sum(axis=1, dtype=np.int64)
    picks: list[int] = []
    while far.any():
        if len(picks) == limit:
            return None
        j = int(np.argmax(count))
        newly = far & D[j]
        picks.append(j)
        far &= ~newly
        count -= D[:, newly].sum(axis=1, dtype=np.int64)
    return picks


def cover_tail(X, dist: np.ndarray, budget: int, neighbours: np.ndarray | None = None,
               *, pairs: int | None = None) -> tuple[np.ndarray, float, bool]:
    """At most ``budget`` new picks that serve the rows far from the current picks (``dist``:
    each row's distance to its nearest pick, 0 on picks): ``(picks, radius, limited)``, the
    smallest radius found and whether it is the floor set by :data:`PAIRS` (see the module)."""
    n = len(dist)
    dist = np.asarray(dist, dtype=np.float32)
    elements, cands = candidates_for(n, dist, neighbours, pairs)
    if budget <= 0 or not len(elements):
        return np.zeros(0, np.int64), float(dist.max()) if n else 0.0, False
    far_d = dist[elements]
    rest = np.ones(n, bool)
    rest[elements] = False
    floor = float(dist[rest].max()) if rest.any() else 0.0
    floor = max(floor, 0.0)
    D = pair_distances(X, cands, elements)

    def cover(r: float):
        return greedy_cover(D <= np.float32(r), far_d > np.float32(r), budget)

    best = cover(floor)
    if best is not None:
        return cands[best].astype(np.int64), floor, bool(rest.any() and floor > 0)
    lo, hi, best = floor, float(far_d.max()), []
    for _ in range(STEPS):
        mid = (lo + hi) / 2
        got = cover(mid)
        if got is None:
            lo = mid
        else:
            hi, best = mid, got
    return cands[best].astype(np.int64), hi, False
