"""Pairs (new row, reference row) of two embedding files above a cosine threshold.

Semantic dedup against a reference compares each new record's embedding with the reference's
(a :class:`~curate.vectors.Vectors` file in the reference's cached index), never the
reference's rows with each other. The search is cut into items that ``engine.map`` runs (the
same items on both engines, so the same products and the same pairs):

- exact (a reference of up to ``exact_max`` rows): :func:`exact_items`, blocks of
  :data:`~curate.dedup.cosine.BLOCK` new rows, each against the whole reference in
  :data:`~curate.dedup.cosine.COLUMNS`-row products;
- k-means (larger references): the reference's centroids and each reference row's two nearest
  centroids are fitted once and cached with its index (:func:`fit_reference`); a new row and a
  reference row are compared when one's nearest centroid is one of the other's two nearest, as
  :func:`curate.dedup.cosine.clustered_cosine_pairs` compares rows within one dataset
  (:func:`cluster_items`).

Zero rows (records without text) never pair (thresholds are above 0).
"""

from __future__ import annotations

import numpy as np

from .cosine import BLOCK, COLUMNS, assign, cluster_members, fit_centroids

_NONE = np.zeros((0, 2), np.int64)


def exact_items(new_rows: int) -> list[tuple[int, int]]:
    """Blocks ``[start, stop)`` of the new rows, one product each."""
    return [(s, min(s + BLOCK, new_rows)) for s in range(0, new_rows, BLOCK)]


def exact_block(item: tuple[int, int], new, ref, threshold: float) -> np.ndarray:
    """Pairs (new row, reference row) of the new rows ``[start, stop)`` with cosine >=
    ``threshold`` (``new``, ``ref``: :class:`~curate.vectors.Vectors` files)."""
    start, stop = item
    queries = np.asarray(new.array()[start:stop])
    emb = ref.array()
    found = [_NONE]
    for col in range(0, emb.shape[0], COLUMNS):
        sim = queries @ np.asarray(emb[col:col + COLUMNS]).T
        qi, mi = np.nonzero(sim >= threshold)
        found.append(np.stack([qi + start, mi + col], axis=1).astype(np.int64))
    return np.concatenate(found)


def fit_reference(ref, clusters: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The reference's centroids and each of its rows' two nearest (``-1``: a zero row)."""
    centers = fit_centroids(ref.array(), clusters, seed=seed)
    return centers, assign(ref.array(), centers)


def cluster_items(new, centers: np.ndarray, near_ref: np.ndarray,
                  size: int = 4 * BLOCK) -> list[tuple[np.ndarray, np.ndarray]]:
    """Items of the k-means search, (new rows, reference rows), cluster by cluster: the new
    rows whose nearest centroid is the cluster's against the reference rows whose nearest or
    second nearest it is, and the new rows whose second nearest it is against the reference
    rows whose nearest it is. A pair is compared when one row's nearest cluster is one of the
    other's two, as within one dataset (:func:`curate.dedup.cosine.cluster_members`). New rows
    are cut into groups of ``size``."""
    near_new = assign(new.array(), centers)
    ref_rows, _, ref_bounds = cluster_members(near_ref)
    first = near_ref[:, 0].astype(np.int64)
    items = []
    for c in range(len(ref_bounds) - 1):
        for queries, members in (
                (np.flatnonzero(near_new[:, 0] == c), ref_rows[ref_bounds[c]:ref_bounds[c + 1]]),
                (np.flatnonzero(near_new[:, 1] == c), np.flatnonzero(first == c))):
            if queries.size and members.size:
                items += [(queries[s:s + size], members) for s in range(0, queries.size, size)]
    return items


def cluster_block(item: tuple[np.ndarray, np.ndarray], new, ref,
                  threshold: float) -> np.ndarray:
    """Pairs (new row, reference row) of one item of :func:`cluster_items`."""
    queries, members = item
    q = np.asarray(new.array()[queries])
    found = [_NONE]
    for s in range(0, members.size, COLUMNS):
        part = members[s:s + COLUMNS]
        sim = q @ np.asarray(ref.array()[part]).T
        qi, mi = np.nonzero(sim >= threshold)
        found.append(np.stack([queries[qi], part[mi]], axis=1).astype(np.int64))
    return np.concatenate(found)
