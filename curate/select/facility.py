"""Facility location on a sparse neighbour graph, a set cover for the outliers, and swaps.

Facility location picks the set ``S`` that maximises ``f(S) = sum_i max_{j in S} w_j
sim(i, j)``: every row is represented by its most similar pick, so the picks sit where the
rows are (the typical row is close to a pick). ``sim`` is the cosine (clipped at 0) on the
edges of the rows' k-nearest-neighbour graph (:mod:`.knn`, both directions) and 1 from a row
to itself, 0 elsewhere: no ``n x n`` matrix. ``w_j`` is 1, or the pick's quality: the rank of
its score scaled into (0, 1] (a row with a better score represents its neighbours better; the
DEITA idea of quality first, then diversity, as one objective). ``f`` is submodular; the lazy
greedy (a heap of stale gains, a gain recomputed only when it reaches the top) picks exactly
what the plain greedy picks, ties going to the lower row.

Facility location leaves the outliers far from every pick (they represent nobody). So the
last share of the budget (:data:`OUTLIER_SHARE`, measured on real prompt sets in
benchmarks/README.md) goes to them: the greedy set cover of the rows left farther than the
smallest radius the budget can reach (:mod:`.cover`), which serves several outliers with one
pick where farthest-first spends one on each; picks the cover does not need go back to
facility location. Last, a bounded swap search (:mod:`.refine`) moves picks to nearby rows
that serve the rows better on average without widening the radius.
"""

from __future__ import annotations

import heapq
from typing import Callable

import numpy as np

from .cover import cover_tail
from .kcenter import _PICKED, KCenterResult, LocalRows, farthest_first, kcenter_greedy
from .knn import KnnGraph, knn_graph
from .refine import refine

OUTLIER_SHARE = 0.35  # of the budget picked farthest-first after facility location
NEIGHBOURS = 16  # neighbours per row in the graph


def quality_weights(scores: np.ndarray) -> np.ndarray:
    """Scores as weights in (0, 1]: the rank of each distinct score (NaN lowest) over their
    count, so that the scale of the scores does not matter and equal scores weigh the same."""
    values = np.where(np.isnan(scores), -np.inf, np.asarray(scores, dtype=np.float64))
    uniq, inverse = np.unique(values, return_inverse=True)
    return (inverse + 1) / len(uniq)


def _edges(graph: KnnGraph, weights: np.ndarray | None):
    """What each candidate pick ``j`` covers: itself (similarity 1) and the rows that have
    ``j`` among their neighbours, as rows ``src[indptr[j]:indptr[j + 1]]`` (ascending) with
    the values ``val`` (``w_j sim``, float32). int32 and float32 keep it to 12 bytes an edge."""
    n, k = graph.neighbours.shape
    nbr = graph.neighbours.ravel()
    ok = np.flatnonzero(nbr >= 0)
    cand = np.concatenate([np.arange(n, dtype=np.int64), nbr[ok]])
    order = np.argsort(cand, kind="stable")  # by candidate, then row (self first)
    src = np.concatenate([np.arange(n, dtype=np.int32), (ok // k).astype(np.int32)])[order]
    val = np.concatenate([np.ones(n, np.float32),
                          np.maximum(graph.similarity.ravel()[ok], 0).astype(np.float32)])[order]
    cand = cand[order]
    del order
    if weights is not None:
        val *= weights[cand].astype(np.float32)
    indptr = np.searchsorted(cand, np.arange(n + 1))
    return indptr, src, val


def facility_location(graph: KnnGraph, budget: int, *, weights: np.ndarray | None = None,
                      initial=None) -> np.ndarray:
    """Up to ``budget`` rows by the lazy greedy of facility location on ``graph`` (see the
    module), in pick order, ``initial`` rows first. It stops early when no row adds anything
    (every row already has its best possible representative)."""
    n = graph.neighbours.shape[0]
    indptr, src, val = _edges(graph, weights)
    cur = np.zeros(n, np.float32)
    picked = np.zeros(n, bool)
    picks: list[int] = []

    def take(j: int) -> None:
        lo, hi = indptr[j], indptr[j + 1]
        cur[src[lo:hi]] = np.maximum(cur[src[lo:hi]], val[lo:hi])
        picked[j] = True
        picks.append(j)

    for j in [] if initial is None else dict.fromkeys(int(i) for i in initial):
        take(j)
    budget = min(int(budget), n)
    gain = np.add.reduceat(np.maximum(val - cur[src], 0.0).astype(np.float64), indptr[:-1]) \
        if len(val) else np.zeros(n)
    gain[indptr[:-1] == indptr[1:]] = 0.0  # reduceat's value at an empty segment is garbage
    heap = [(-float(g), int(j)) for j, g in enumerate(gain) if g > 0 and not picked[j]]
    heapq.heapify(heap)
    while len(picks) < budget and heap:
        _, j = heapq.heappop(heap)
        lo, hi = indptr[j], indptr[j + 1]
        g = float(np.maximum(val[lo:hi] - cur[src[lo:hi]], 0.0).sum(dtype=np.float64))
        if g <= 0:
            continue
        if heap and (-g, j) > heap[0]:
            heapq.heappush(heap, (-g, j))
            continue
        take(j)
    return np.asarray(picks, dtype=np.int64)


def facility_kcenter(X, budget: int, *, seed: int = 0, initial=None,
                     scores: np.ndarray | None = None, outlier_share: float = OUTLIER_SHARE,
                     neighbours: int = NEIGHBOURS, map: Callable | None = None,
                     kcenter: Callable[..., KCenterResult] = kcenter_greedy,
                     ) -> tuple[KCenterResult, dict]:
    """``budget`` rows of ``X``: facility location for ``budget - round(outlier_share *
    budget)`` of them (on the :func:`.knn.knn_graph` of ``neighbours`` per row, built with
    ``map``), then the outlier picks: the greedy set cover of the rows left far
    (:func:`.cover.cover_tail`; again on the next farthest rows while the cover meets its
    floor), the picks it leaves by facility location again (farthest-first when no gain is
    left); then :func:`.refine.refine` (without ``scores``: the swaps would trade the quality
    weighting for distance).
    ``initial`` rows are picked first (and never swapped out); ``scores`` weigh the facility
    location (see :func:`quality_weights`).

    Every row's distance to the facility picks comes from ``kcenter`` (the engine's: on Ray
    its shards); the outlier picks then update them here (the same code on every engine).
    Returns a :class:`KCenterResult` (all picks in order, every row's distance to its
    nearest pick; ``pick_distance`` NaN) and stats."""
    n = X.shape[0]
    budget = int(min(budget, n))
    start = [] if initial is None else list(dict.fromkeys(int(i) for i in initial))
    share = max(budget - int(round(outlier_share * budget)), len(start))
    options = {} if map is None else {"map": map}
    picks = np.asarray(start, dtype=np.int64)
    graph, weights = None, None if scores is None else quality_weights(scores)
    if budget > len(start) and n > 1:
        graph = knn_graph(X, min(neighbours, n - 1), seed=seed, **options)
        if share > len(start):
            picks = facility_location(graph, share, weights=weights, initial=start)
    info = {"facility_picks": int(len(picks) - len(start)), "outlier_picks": 0}
    # every row's distance to the picks so far (the first pick seeded when there is none)
    res = kcenter(X, max(len(picks), 1 if budget else 0), seed=seed,
                  initial=picks if len(picks) else None)
    info["outlier_picks"] = int(len(res.picks) - len(picks))  # the seeded first pick
    picks, rows = res.picks, LocalRows(X)
    rows.dist = np.array(res.distance, dtype=np.float32)
    rows.dist[picks] = _PICKED
    limited = len(picks) < budget
    while limited and len(picks) < budget:
        # the cover of the farthest rows it may consider; when those were all served, the
        # next farthest (one pass over the rows per cover, where farthest-first makes one
        # per round of a few picks)
        tail, radius, limited = cover_tail(X, np.maximum(rows.dist, 0), budget - len(picks),
                                           None if graph is None else graph.neighbours)
        tail = tail[~np.isin(tail, picks)]
        rows.add_picks(tail, rows.vectors(tail))
        picks = np.concatenate([picks, tail])
        info["outlier_picks"] += int(len(tail))
        info["cover_radius"] = round(float(radius), 6)
        limited = limited and len(tail) > 0
    if len(picks) < budget:
        if graph is not None:
            more = facility_location(graph, budget, weights=weights, initial=picks)[len(picks):]
            rows.add_picks(more, rows.vectors(more))
            info["facility_picks"] += int(len(more))
            picks = np.concatenate([picks, more])
        if len(picks) < budget:  # no facility gain is left
            res = farthest_first(rows, budget, seed=seed, initial=picks, placed=True,
                                 desc="k-center (outliers)")
            info["outlier_picks"] += int(len(res.picks) - len(picks))
            picks = res.picks
    if graph is not None and weights is None:  # swaps serve the distance, not the quality
        picks, more = refine(X, picks, graph.neighbours, fixed=len(start))
        info.update(more)
        if more["swaps"]:
            rows = LocalRows(X)
            rows.add_picks(picks, rows.vectors(picks))
    dist = np.maximum(rows.distances(), 0).astype(np.float32)
    dist[picks] = 0.0
    return KCenterResult(picks.astype(np.int64), dist, np.full(len(picks), np.nan,
                                                                np.float32)), info
