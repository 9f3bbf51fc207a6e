"""Pairs of embeddings above a cosine threshold: exact blocked search, or k-means blocks.

The embeddings are an ``n x dim`` float32 matrix of unit rows, in memory or memory-mapped
from a :class:`curate.vectors.Vectors` file; every step reads it in blocks, so memory is a
block of similarities whatever ``n``. A zero row (a record without text) never pairs
(thresholds are above 0). The search is cut into pieces that both engines run with the very
same arithmetic (the same matrix products on the same rows), the Ray engine
(:mod:`curate.engines.ray_cosine`) as tasks that read the file, so both find the same pairs:

- exact (:func:`cosine_pairs`): :func:`triangle_pairs` of each block of :data:`BLOCK` query
  rows against the rows after it, :data:`COLUMNS` rows per product;
- k-means (:func:`clustered_cosine_pairs`): :func:`fit_centroids` (spherical k-means, the
  one of ``select.diverse``) on a sample of at most :data:`FIT_ROWS` rows, each row's two
  nearest centroids by :func:`assign` (in :data:`BLOCK`-row blocks), then :func:`search_clusters` in each cluster: its queries (the rows whose
  nearest centroid it is) against its members (the queries and the rows whose second nearest
  it is), the members' rows read from the matrix cluster by cluster.
"""

from __future__ import annotations

import numpy as np

BLOCK = 2048  # query rows per matrix product
COLUMNS = 8192  # rows compared per product (memory: BLOCK x COLUMNS floats)
FIT_ROWS = 50_000  # rows the k-means centroids are fitted on, at most
CLUSTER_ROWS = 200_000  # member rows searched per piece of work (a few clusters)


def _no_pairs() -> np.ndarray:
    return np.zeros((0, 2), np.int64)


def query_blocks(queries: np.ndarray) -> list[np.ndarray]:
    """``queries`` cut into blocks of :data:`BLOCK` positions (one matrix product each)."""
    return [queries[s:s + BLOCK] for s in range(0, queries.shape[0], BLOCK)]


def query_pairs(emb: np.ndarray, queries: np.ndarray, threshold: float,
                rows: np.ndarray | None = None) -> np.ndarray:
    """Pairs (query, other), different rows, of the rows ``queries`` of ``emb`` against every
    row of ``emb`` whose cosine reaches ``threshold``; as positions in ``emb``, or as
    ``rows[position]`` when ``rows`` is given."""
    sim = emb[queries] @ emb.T
    qi, mi = np.nonzero(sim >= threshold)
    pairs = np.stack([queries[qi], mi], axis=1).astype(np.int64)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return pairs if rows is None else rows[pairs]


def unique_pairs(found: list[np.ndarray]) -> np.ndarray:
    """The pairs of ``found`` (arrays of shape (k, 2)) as ``(i, j)``, ``i < j``, each once,
    sorted."""
    pairs = np.concatenate([_no_pairs(), *found]).astype(np.int64)
    if pairs.shape[0] == 0:
        return _no_pairs()
    return np.unique(np.sort(pairs, axis=1), axis=0)


def triangle_pairs(emb, start: int, threshold: float) -> np.ndarray:
    """Pairs ``(i, j)``, ``i < j``, with cosine >= ``threshold``, of the query rows
    ``[start, start + BLOCK)`` of ``emb`` and the rows after each (``COLUMNS`` at a time)."""
    n = emb.shape[0]
    queries = np.asarray(emb[start:start + BLOCK])
    found = []
    for col in range(start, n, COLUMNS):
        sim = queries @ np.asarray(emb[col:col + COLUMNS]).T
        qi, mi = np.nonzero(sim >= threshold)
        i, j = qi + start, mi + col
        keep = j > i
        found.append(np.stack([i[keep], j[keep]], axis=1).astype(np.int64))
    return np.concatenate([_no_pairs(), *found])


def cosine_pairs(emb, threshold: float) -> np.ndarray:
    """All pairs ``(i, j)``, ``i < j``, of L2-normalised rows with cosine >= ``threshold``
    (exact: every row against every later row, in blocks), sorted."""
    return unique_pairs([triangle_pairs(emb, s, threshold)
                         for s in range(0, emb.shape[0], BLOCK)])


def use_exact(n: int, clusters: int) -> bool:
    """Whether k-means blocking is pointless for ``n`` rows (one cluster, or no more rows than
    clusters): the exact search runs instead."""
    return clusters <= 1 or n <= clusters


def fit_rows(n: int, seed: int) -> np.ndarray:
    """The rows the centroids are fitted on: all up to :data:`FIT_ROWS`, else a seeded sample
    (sorted, so that the file is read in order)."""
    if n <= FIT_ROWS:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, FIT_ROWS, replace=False))


def fit_centroids(emb, clusters: int, *, seed: int = 0) -> np.ndarray:
    """``clusters`` centroids (unit, float64) by the spherical k-means of
    :func:`curate.select.clusters.fit_centers`, fitted on the non-zero rows of
    :func:`fit_rows`."""
    from ..select.clusters import fit_centers  # startup

    sample = np.asarray(emb[fit_rows(emb.shape[0], seed)], dtype=np.float32)
    sample = sample[np.any(sample != 0, axis=1)]
    centers, _ = fit_centers(sample, min(clusters, len(sample)), np.random.default_rng(seed))
    return np.asarray(centers, dtype=np.float64)


def nearest_two(emb, centers: np.ndarray) -> np.ndarray:
    """The nearest and second nearest centroid (Euclidean) of each row, shape (n, 2), in
    blocks of :data:`BLOCK` rows (float64 products; ties go to the lower centroid)."""
    centers = np.asarray(centers, dtype=np.float64)
    sq = (centers * centers).sum(axis=1)
    out = np.empty((emb.shape[0], 2), np.int64)
    for s in range(0, emb.shape[0], BLOCK):
        dist = sq - 2.0 * (np.asarray(emb[s:s + BLOCK]).astype(np.float64) @ centers.T)
        out[s:s + BLOCK] = np.argsort(dist, axis=1, kind="stable")[:, :2]
    return out


def assign(emb, centers: np.ndarray, start: int = 0, end: int | None = None) -> np.ndarray:
    """:func:`nearest_two` of the rows ``[start, end)`` (``start`` a multiple of
    :data:`BLOCK`), int32, ``-1`` for a zero row (it is in no cluster)."""
    end = emb.shape[0] if end is None else end
    out = np.empty((end - start, 2), np.int32)
    for s in range(start, end, BLOCK):
        block = np.asarray(emb[s:min(s + BLOCK, end)])
        near = nearest_two(block, centers)
        near[~np.any(block != 0, axis=1)] = -1
        out[s - start:s - start + len(block)] = near
    return out


def cluster_members(near: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each cluster's members from every row's two nearest centroids: ``(rows, queries,
    bounds)``, where cluster ``c``'s member rows (in row order) are
    ``rows[bounds[c]:bounds[c + 1]]`` and ``queries`` says which are its queries."""
    n = near.shape[0]
    cluster = np.concatenate([near[:, 0], near[:, 1]]).astype(np.int64)
    rows = np.concatenate([np.arange(n), np.arange(n)])
    query = np.concatenate([np.ones(n, bool), np.zeros(n, bool)])
    inside = cluster >= 0
    cluster, rows, query = cluster[inside], rows[inside], query[inside]
    order = np.lexsort((rows, cluster))
    clusters = int(near.max()) + 1 if near.size else 0
    bounds = np.searchsorted(cluster[order], np.arange(clusters + 1))
    return rows[order], query[order], bounds


def cluster_groups(bounds: np.ndarray, size: int = CLUSTER_ROWS) -> list[tuple[int, int]]:
    """Consecutive clusters ``[a, b)`` grouped into pieces of about ``size`` member rows."""
    groups, start = [], 0
    for c in range(len(bounds) - 1):
        if bounds[c + 1] - bounds[start] >= size or c == len(bounds) - 2:
            groups.append((start, c + 1))
            start = c + 1
    return groups


def cluster_pairs(emb: np.ndarray, rows: np.ndarray, queries: np.ndarray,
                  threshold: float) -> np.ndarray:
    """Pairs (query row, member row) of one cluster with cosine >= ``threshold``: ``emb`` are
    its members' vectors in row order, ``rows`` their row numbers and ``queries`` (bool)
    which members are queries."""
    blocks = query_blocks(np.flatnonzero(queries))
    return np.concatenate([_no_pairs()] + [query_pairs(emb, b, threshold, rows)
                                           for b in blocks])


def search_clusters(emb, rows: np.ndarray, queries: np.ndarray, bounds: np.ndarray,
                    threshold: float) -> np.ndarray:
    """The pairs of the clusters whose members are ``rows[bounds[c] - bounds[0]:...]``
    (a slice of :func:`cluster_members`' output), each cluster's rows read from ``emb``."""
    found, base = [], bounds[0]
    for lo, hi in zip(bounds[:-1] - base, bounds[1:] - base):
        if queries[lo:hi].any():
            members = rows[lo:hi]
            found.append(cluster_pairs(np.asarray(emb[members]), members, queries[lo:hi],
                                       threshold))
    return unique_pairs(found)


def clustered_cosine_pairs(emb, threshold: float, clusters: int, *,
                           seed: int = 0) -> np.ndarray:
    """Pairs with cosine >= ``threshold`` searched inside k-means clusters (SemDeDup).

    Each row is compared with the rows of its nearest cluster and with the rows whose second
    nearest cluster that is, so that near copies split by a cluster border are still found.
    """
    if use_exact(emb.shape[0], clusters):
        return cosine_pairs(emb, threshold)
    rows, queries, bounds = cluster_members(assign(emb, fit_centroids(emb, clusters,
                                                                      seed=seed)))
    return unique_pairs([search_clusters(emb, rows[bounds[a]:bounds[b]],
                                         queries[bounds[a]:bounds[b]], bounds[a:b + 1],
                                         threshold)
                         for a, b in cluster_groups(bounds)])
