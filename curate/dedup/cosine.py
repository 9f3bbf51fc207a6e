"""Pairs of embeddings above a cosine threshold: exact blocked search, or k-means blocks.

The search is cut into pieces that the Ray engine (:mod:`curate.engines.ray_cosine`) runs
as tasks and shuffle groups with the very same arithmetic (the same matrix products on the
same rows), so both engines find the same pairs:

- exact (:func:`cosine_pairs`): :func:`query_pairs` of each block of :data:`BLOCK` query rows
  (:func:`query_blocks`) against all rows;
- k-means (:func:`clustered_cosine_pairs`): :func:`fit_centroids` once, each row's two
  nearest centroids by :func:`nearest_two` (in :data:`BLOCK`-row blocks), then
  :func:`cluster_pairs` in each cluster: its queries (the rows whose nearest centroid it is)
  against its members (the queries and the rows whose second nearest it is).
"""

from __future__ import annotations

import numpy as np

BLOCK = 2048  # query rows per matrix product (bounds memory to BLOCK x candidates floats)


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


def cosine_pairs(emb: np.ndarray, threshold: float) -> np.ndarray:
    """All pairs ``(i, j)``, ``i < j``, of L2-normalised rows with cosine >= ``threshold``
    (exact: every row against every row, in blocks)."""
    rows = np.arange(emb.shape[0])
    return unique_pairs([query_pairs(emb, b, threshold) for b in query_blocks(rows)])


def use_exact(n: int, clusters: int) -> bool:
    """Whether k-means blocking is pointless for ``n`` rows (one cluster, or no more rows than
    clusters): the exact search runs instead."""
    return clusters <= 1 or n <= clusters


def fit_centroids(emb: np.ndarray, clusters: int, *, seed: int = 0) -> np.ndarray:
    """``clusters`` k-means centroids of the rows (MiniBatchKMeans), float64."""
    from sklearn.cluster import MiniBatchKMeans

    km = MiniBatchKMeans(n_clusters=clusters, random_state=seed, n_init=3,
                         batch_size=max(1024, 4 * clusters))
    km.fit(emb)
    return np.asarray(km.cluster_centers_, dtype=np.float64)


def nearest_two(emb: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """The nearest and second nearest centroid (Euclidean) of each row, shape (n, 2), in
    blocks of :data:`BLOCK` rows (float64 products; ties go to the lower centroid)."""
    centers = np.asarray(centers, dtype=np.float64)
    sq = (centers * centers).sum(axis=1)
    out = np.empty((emb.shape[0], 2), np.int64)
    for s in range(0, emb.shape[0], BLOCK):
        dist = sq - 2.0 * (emb[s:s + BLOCK].astype(np.float64) @ centers.T)
        out[s:s + BLOCK] = np.argsort(dist, axis=1, kind="stable")[:, :2]
    return out


def cluster_pairs(emb: np.ndarray, rows: np.ndarray, queries: np.ndarray,
                  threshold: float) -> np.ndarray:
    """Pairs (query row, member row) of one cluster with cosine >= ``threshold``: ``emb`` are
    its members' vectors in row order, ``rows`` their row numbers and ``queries`` (bool)
    which members are queries."""
    blocks = query_blocks(np.flatnonzero(queries))
    return np.concatenate([_no_pairs()] + [query_pairs(emb, b, threshold, rows)
                                           for b in blocks])


def clustered_cosine_pairs(emb: np.ndarray, threshold: float, clusters: int, *,
                           seed: int = 0) -> np.ndarray:
    """Pairs with cosine >= ``threshold`` searched inside k-means clusters (SemDeDup).

    Each row is compared with the rows of its nearest cluster and with the rows whose second
    nearest cluster that is, so that near copies split by a cluster border are still found.
    """
    if use_exact(emb.shape[0], clusters):
        return cosine_pairs(emb, threshold)
    near = nearest_two(emb, fit_centroids(emb, clusters, seed=seed))
    found = []
    for c in range(clusters):
        members = np.flatnonzero((near[:, 0] == c) | (near[:, 1] == c))
        queries = near[members, 0] == c
        if queries.any():
            found.append(cluster_pairs(emb[members], members, queries, threshold))
    return unique_pairs(found)
