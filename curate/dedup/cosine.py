"""Pairs of embeddings above a cosine threshold: exact blocked search, or k-means blocks."""

from __future__ import annotations

import numpy as np

BLOCK = 2048  # query rows per matrix product (bounds memory to BLOCK x candidates floats)


def _search(emb: np.ndarray, queries: np.ndarray, members: np.ndarray,
            threshold: float) -> np.ndarray:
    """Pairs (query row, member row), different rows, whose cosine reaches ``threshold``."""
    found = []
    target = emb[members]
    for start in range(0, queries.shape[0], BLOCK):
        q = queries[start:start + BLOCK]
        sim = emb[q] @ target.T
        qi, mi = np.nonzero(sim >= threshold)
        pairs = np.stack([q[qi], members[mi]], axis=1)
        found.append(pairs[pairs[:, 0] != pairs[:, 1]])
    return np.concatenate(found) if found else np.zeros((0, 2), np.int64)


def _unique_pairs(pairs: np.ndarray) -> np.ndarray:
    if pairs.shape[0] == 0:
        return np.zeros((0, 2), np.int64)
    pairs = np.sort(pairs.astype(np.int64), axis=1)
    return np.unique(pairs, axis=0)


def cosine_pairs(emb: np.ndarray, threshold: float) -> np.ndarray:
    """All pairs ``(i, j)``, ``i < j``, of L2-normalised rows with cosine >= ``threshold``
    (exact: every row against every row, in blocks)."""
    rows = np.arange(emb.shape[0])
    return _unique_pairs(_search(emb, rows, rows, threshold))


def kmeans_blocks(emb: np.ndarray, clusters: int, *, seed: int = 0) -> np.ndarray:
    """The two nearest k-means centroids of each row, shape (n, 2) (MiniBatchKMeans)."""
    from sklearn.cluster import MiniBatchKMeans

    km = MiniBatchKMeans(n_clusters=clusters, random_state=seed, n_init=3,
                         batch_size=max(1024, 4 * clusters))
    km.fit(emb)
    dist = km.transform(emb)
    return np.argsort(dist, axis=1)[:, :2]


def clustered_cosine_pairs(emb: np.ndarray, threshold: float, clusters: int, *,
                           seed: int = 0) -> np.ndarray:
    """Pairs with cosine >= ``threshold`` searched inside k-means clusters (SemDeDup).

    Each row is compared with the rows of its nearest cluster and with the rows whose second
    nearest cluster that is, so that near copies split by a cluster border are still found.
    """
    if clusters <= 1 or emb.shape[0] <= clusters:
        return cosine_pairs(emb, threshold)
    near = kmeans_blocks(emb, clusters, seed=seed)
    found = []
    for c in range(clusters):
        queries = np.flatnonzero(near[:, 0] == c)
        if queries.size == 0:
            continue
        members = np.flatnonzero((near[:, 0] == c) | (near[:, 1] == c))
        found.append(_search(emb, queries, members, threshold))
    return _unique_pairs(np.concatenate(found) if found else np.zeros((0, 2), np.int64))
