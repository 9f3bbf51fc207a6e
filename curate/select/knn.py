"""A sparse k-nearest-neighbour graph of unit rows (cosine), without an ``n x n`` matrix.

Up to :data:`EXACT_ROWS` rows every row is compared with every other (blocks of queries
against all rows). Above, the rows are blocked as semantic dedup's clustered search blocks
them (:mod:`curate.dedup.cosine`: each row's two nearest centroids, its queries searched
among the members of their nearest cluster): a row's neighbours are searched among the rows
of its nearest block and the rows whose second nearest block that is, so near rows split by
a border still meet. The centroids come from a cheap fit (:func:`fit_blocks`, one per
:data:`ROWS_PER_CLUSTER` rows): dedup's full k-means took 27 of 35 s of the graph on 50k rows.

The work is a list of independent pieces (ranges of rows to assign, groups of clusters to
search) that a ``map(fn, items, desc=...)`` runs: the engine's :meth:`map` (Ray tasks that
read the rows from the vector file) or a plain loop. Every piece computes its products on
one BLAS thread and in the same blocks wherever it runs, so every engine builds the very
same graph.

    graph = knn_graph(X, 16)                    # X: array, memmap or curate.vectors.RowView
    graph.neighbours[i], graph.similarity[i]    # row i's 16 nearest rows (-1: none), cosine
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np

from ..dedup.cosine import BLOCK, cluster_groups, cluster_members
from .distance import block_rows, one_blas_thread
from .kcenter import blas_threads

EXACT_ROWS = 20_000  # up to this many rows the graph is exact
ROWS_PER_CLUSTER = 1_000  # k-means clusters above EXACT_ROWS: one per this many rows
ASSIGN_ROWS = 50_000  # rows per piece of the cluster assignment
FIT_PER_CLUSTER = 20  # sample rows per centroid of the blocks' fit
EXACT_QUERIES = 2_048  # query rows per piece of the exact search
GROUP_ROWS = 50_000  # member rows per piece of the clustered search (a few clusters)
NEIGHBOURS_BYTES = 12  # per neighbour in the graph: its row (int64) and cosine (float32)


@dataclass
class KnnGraph:
    """Each row's ``k`` nearest other rows (``neighbours``, int64, ``-1`` where it has fewer)
    and their cosine ``similarity`` (float32), nearest first, ties to the lower row."""

    neighbours: np.ndarray
    similarity: np.ndarray

    @property
    def k(self) -> int:
        return self.neighbours.shape[1]


def serial_map(fn, items, *, desc: str = "", sizes=None, threads: int = 1):
    """``fn`` of every item, in order, here (the default ``map``)."""
    return [fn(item) for item in items]


def _top(sim: np.ndarray, members: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best columns of each row of ``sim`` (similarity descending, then column,
    that is row number, ascending: ``members`` is sorted), as rows of ``members``; padded
    with -1 / -inf."""
    n, m = sim.shape
    take = min(k, m)
    out_idx = np.full((n, k), -1, np.int64)
    out_sim = np.full((n, k), -np.inf, np.float32)
    if take == 0 or n == 0:
        return out_idx, out_sim
    if take < m:
        part = np.sort(np.argpartition(-sim, take - 1, axis=1)[:, :take], axis=1)
    else:
        part = np.broadcast_to(np.arange(m), (n, m)).copy()
    val = np.take_along_axis(sim, part, axis=1)
    # a tie at the edge may have been cut anyhow: redo those rows, lowest columns first
    edge = val.min(axis=1)
    for r in np.flatnonzero((sim >= edge[:, None]).sum(axis=1) > take):
        cols = np.flatnonzero(sim[r] >= edge[r])
        part[r] = np.sort(cols[np.argsort(-sim[r, cols], kind="stable")[:take]])
        val[r] = sim[r, part[r]]
    order = np.argsort(-val, axis=1, kind="stable")
    out_idx[:, :take] = members[np.take_along_axis(part, order, axis=1)]
    out_sim[:, :take] = np.take_along_axis(val, order, axis=1)
    out_idx[out_sim == -np.inf] = -1  # itself, where a cluster has fewer than k other rows
    return out_idx, out_sim


def search(X, rows: np.ndarray, queries: np.ndarray, bounds: np.ndarray, k: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Neighbours of the query members of the clusters ``rows[bounds[c] - bounds[0]:...]``
    (a slice of :func:`curate.dedup.cosine.cluster_members`' output) among each cluster's
    members: ``(query rows, neighbours, similarities)``."""
    found_q, found_i, found_s = [np.zeros(0, np.int64)], [np.zeros((0, k), np.int64)], \
        [np.zeros((0, k), np.float32)]
    base = bounds[0]
    with one_blas_thread():
        for lo, hi in zip(bounds[:-1] - base, bounds[1:] - base):
            q = np.flatnonzero(queries[lo:hi])
            if not len(q):
                continue
            members = rows[lo:hi]
            M = np.asarray(X[members], dtype=np.float32)
            step = block_rows(len(members), budget_bytes=32 << 20, minimum=64)
            for s in range(0, len(q), step):
                block = q[s:s + step]
                sim = M[block] @ M.T
                sim[np.arange(len(block)), block] = -np.inf  # not its own neighbour
                idx, val = _top(sim, members, k)
                found_q.append(members[block])
                found_i.append(idx)
                found_s.append(val)
    return np.concatenate(found_q), np.concatenate(found_i), np.concatenate(found_s)


def fit_blocks(X, clusters: int, *, seed: int = 0, iterations: int = 3) -> np.ndarray:
    """``clusters`` unit centroids (float32) for blocking the search: seeded random non-zero
    rows, moved by a few spherical k-means steps on a sample of :data:`FIT_PER_CLUSTER` rows
    per centroid. Cheap on purpose: a block only has to hold near rows together (the rows
    near a border also search their second nearest block)."""
    n = X.shape[0]
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(n, min(n, FIT_PER_CLUSTER * clusters), replace=False))
    sample = np.asarray(X[rows], dtype=np.float32)
    sample = sample[np.any(sample != 0, axis=1)]
    clusters = min(clusters, len(sample))
    centers = sample[np.sort(rng.choice(len(sample), clusters, replace=False))]
    with one_blas_thread():
        for _ in range(iterations):
            near = np.concatenate([np.argmax(sample[s:s + 4096] @ centers.T, axis=1)
                                   for s in range(0, len(sample), 4096)])
            sums = np.zeros_like(centers)
            np.add.at(sums, near, sample)
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            centers = np.where(norms > 0, sums / np.maximum(norms, 1e-12), centers)
    return np.ascontiguousarray(centers, dtype=np.float32)


def nearest_blocks(X, centers: np.ndarray, span: tuple[int, int]) -> np.ndarray:
    """The nearest and second nearest centroid (cosine) of the rows ``[start, end)``, int32,
    ``-1`` for a zero row (in no block)."""
    start, end = span
    out = np.empty((end - start, 2), np.int32)
    with one_blas_thread():
        for s in range(start, end, 4096):
            block = np.asarray(X[s:min(s + 4096, end)], dtype=np.float32)
            sim = block @ centers.T
            two = np.argpartition(-sim, 1, axis=1)[:, :2] if sim.shape[1] > 2 else \
                np.broadcast_to(np.arange(sim.shape[1]), (len(block), sim.shape[1])).copy()
            if two.shape[1] < 2:
                two = np.concatenate([two, two], axis=1)
            swap = np.take_along_axis(sim, two[:, 1:], 1) > np.take_along_axis(sim, two[:, :1], 1)
            two[swap[:, 0]] = two[swap[:, 0]][:, ::-1]
            two[~np.any(block != 0, axis=1)] = -1
            out[s - start:s - start + len(block)] = two
    return out


def default_clusters(n: int) -> int:
    """k-means blocks of the graph: none (exact) up to :data:`EXACT_ROWS` rows, else one per
    :data:`ROWS_PER_CLUSTER` rows."""
    return 1 if n <= EXACT_ROWS else max(2, math.ceil(n / ROWS_PER_CLUSTER))


def knn_graph(X, k: int, *, clusters: int | None = None, seed: int = 0,
              map: Callable = serial_map, desc: str = "neighbours") -> KnnGraph:
    """Each row's ``k`` nearest rows by cosine (see the module). ``X``: unit float32 rows
    (an array, a memmap or a :class:`curate.vectors.RowView`, which pickles as its file's
    handle for ``map``'s workers). A zero row (no text) has no neighbours and is nobody's."""
    n = X.shape[0]
    clusters = default_clusters(n) if clusters is None else clusters
    threads = blas_threads()
    if clusters <= 1 or n <= clusters:
        live = np.flatnonzero(np.concatenate(
            [np.zeros(0, bool)] + [np.any(np.asarray(X[s:s + BLOCK]) != 0, axis=1)
                                   for s in range(0, n, BLOCK)]))
        # one cluster of every row, its queries cut into pieces that run side by side
        items = []
        for s in range(0, len(live), EXACT_QUERIES):
            queries = np.zeros(len(live), bool)
            queries[s:s + EXACT_QUERIES] = True
            items.append((live, queries, np.array([0, len(live)])))
    else:
        centers = fit_blocks(X, clusters, seed=seed)
        spans = [(s, min(s + ASSIGN_ROWS, n)) for s in range(0, n, ASSIGN_ROWS)]
        near = np.concatenate(map(partial(nearest_blocks, X, centers), spans, threads=threads,
                                  desc=f"{desc}: clusters", sizes=[b - a for a, b in spans]))
        rows, queries, bounds = cluster_members(near)
        items = [(rows[bounds[a]:bounds[b]], queries[bounds[a]:bounds[b]], bounds[a:b + 1])
                 for a, b in cluster_groups(bounds, GROUP_ROWS)]
    parts = map(partial(_search_item, X, k=k), items, desc=desc, threads=threads,
                sizes=[int(it[1].sum()) for it in items])
    neighbours = np.full((n, k), -1, np.int64)
    similarity = np.full((n, k), -np.inf, np.float32)
    for q, idx, val in parts:
        neighbours[q], similarity[q] = idx, val
    return KnnGraph(neighbours, similarity)


def _search_item(X, item, *, k: int):
    return search(X, *item, k=k)
