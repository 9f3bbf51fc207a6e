"""Swap refinement of a selection: a pick moves to a nearby row when that serves the rows
better on average without raising the covering radius.

Each row keeps the nearest pick ``a1`` and another pick ``a2`` with their distances ``d1 <=
d2`` (exact at the start: the two nearest picks). For a pick ``p`` the candidates are its
neighbours in the graph and the rows it serves; replacing ``p`` by ``c`` gives each row
``min(d1 or, where p served it, d2; distance to c)``, evaluated on the rows ``p`` serves and
the graph neighbours of ``p`` and of the candidates. The best candidate replaces ``p`` when
it lowers that sum and keeps every evaluated row within the radius the selection had (the
other rows keep a pick at least as close). After a swap the rows that had ``p`` as ``a1`` or
``a2`` get their two nearest picks again; the others keep valid (possibly not nearest)
picks, so the sum of ``d1`` only falls and bounds the true sum from above, and the radius
never rises. A bounded number of passes over the picks (:data:`PASSES`), in pick order.

The two nearest picks of every row cost ``n x picks`` distances, so the refinement runs where
that is at most :data:`REFINE_PAIRS` (10% of 100,000 rows); above, it is skipped.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .distance import block_rows, one_blas_thread
from .kcenter import blas_threads

PASSES = 3
REFINE_PAIRS = 1 << 30


def two_nearest(X, rows: np.ndarray, P: np.ndarray):
    """For ``rows``: positions in ``P`` (pick vectors) of the nearest and second nearest pick
    and their cosine distances (float32), ties to the lower position."""
    a = np.zeros((len(rows), 2), np.int64)
    d = np.full((len(rows), 2), np.inf, np.float32)
    if len(P) == 1:
        d[:, 0] = np.maximum(1 - np.asarray(X[rows], np.float32) @ P[0], 0)
        a[:, 1] = 0
        return a, d
    step = block_rows(len(P), budget_bytes=16 << 20, minimum=16)
    starts = range(0, len(rows), step)

    def block(s: int) -> None:
        sim = np.asarray(X[rows[s:s + step]], np.float32) @ P.T
        at = np.arange(len(sim))
        best = np.argmax(sim, axis=1)  # ties to the lower position
        top = sim[at, best]
        sim[at, best] = -np.inf
        second = np.argmax(sim, axis=1)
        a[s:s + step, 0], a[s:s + step, 1] = best, second
        d[s:s + step, 0] = np.maximum(1 - top, 0)
        d[s:s + step, 1] = np.maximum(1 - sim[at, second], 0)

    workers = min(blas_threads(), len(starts))
    with one_blas_thread():  # the same blocks on one thread each, side by side
        if workers > 1:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(block, starts))
        else:
            for s in starts:
                block(s)
    return a, d


def _cells(nearest: np.ndarray, k: int) -> list[np.ndarray]:
    """The rows of each pick position (ascending), from each row's nearest position."""
    order = np.argsort(nearest, kind="stable")
    return np.split(order, np.searchsorted(nearest[order], np.arange(1, k)))


def refine(X, picks: np.ndarray, neighbours: np.ndarray, *, fixed: int = 0,
           passes: int = PASSES) -> tuple[np.ndarray, dict]:
    """``picks`` (row indices, the first ``fixed`` never moved) after swap passes (see the
    module): ``(picks, {"swaps": ...})``; unchanged when ``n x picks`` exceeds
    :data:`REFINE_PAIRS` or there are fewer than two picks."""
    n = X.shape[0]
    picks = np.array(picks, dtype=np.int64)
    k = len(picks)
    if k < 2 or n * k > REFINE_PAIRS or k >= n:
        return picks, {"swaps": 0}
    P = np.asarray(X[picks], np.float32).copy()
    a, d = two_nearest(X, np.arange(n), P)
    radius = float(d[:, 0].max())
    picked = np.zeros(n, bool)
    picked[picks] = True
    swaps = 0
    for _ in range(passes):
        moved = 0
        cells = _cells(a[:, 0], k)
        for pos in range(fixed, k):
            p = int(picks[pos])
            cell = cells[pos]
            cell = cell[a[cell, 0] == pos]  # rows that moved to another pick since
            near = neighbours[p][neighbours[p] >= 0]
            # the rows it serves nearest to it (where a medoid of its cell would be)
            close = cell[np.lexsort((cell, d[cell, 0]))[:neighbours.shape[1]]]
            cands = np.union1d(near, close)
            cands = cands[~picked[cands]]
            if not len(cands):
                continue
            around = neighbours[cands].ravel()
            rows = np.union1d(np.union1d(cell, near), around[around >= 0])
            rows = np.union1d(rows, cands)
            base = np.where(a[rows, 0] == pos, d[rows, 1], d[rows, 0])
            with one_blas_thread():
                Dc = np.maximum(1 - np.asarray(X[rows], np.float32)
                                @ np.asarray(X[cands], np.float32).T, 0)
            new = np.minimum(base[:, None], Dc)
            total = new.sum(axis=0, dtype=np.float64)
            total[new.max(axis=0) > radius] = np.inf
            j = int(np.argmin(total))
            if not total[j] < float(d[rows, 0].sum(dtype=np.float64)) - 1e-6:
                continue
            c = int(cands[j])
            picks[pos], P[pos] = c, np.asarray(X[c], np.float32)
            picked[p], picked[c] = False, True
            # rows that had p among their two redo them; the other evaluated rows take c
            # where it is nearer than one of theirs
            had = (a[:, 0] == pos) | (a[:, 1] == pos)
            keep = ~had[rows]
            r, dc = rows[keep], Dc[keep, j]
            first, second = dc < d[r, 0], (dc >= d[r, 0]) & (dc < d[r, 1])
            r1, r2 = r[first], r[second]
            a[r1, 1], d[r1, 1] = a[r1, 0], d[r1, 0]
            a[r1, 0], d[r1, 0] = pos, dc[first]
            a[r2, 1], d[r2, 1] = pos, dc[second]
            redo = np.flatnonzero(had)
            a[redo], d[redo] = two_nearest(X, redo, P)
            for row in np.concatenate([r1, redo]):  # later picks' cells may gain rows
                if a[row, 0] > pos:
                    cells[a[row, 0]] = np.append(cells[a[row, 0]], row)
            moved += 1
        swaps += moved
        if not moved:
            break
    return picks, {"swaps": swaps}
