"""Cosine search on Ray: the engine's ``cosine_pairs`` and ``clustered_cosine_pairs``.

The embeddings are a :class:`curate.vectors.Vectors` file on storage the cluster shares; tasks
get its handle (a path) and read the rows they need, so the matrix never passes through the
driver or the object store:

- ``cosine_pairs``, the exact blocked search: tasks of a few query blocks each
  (:func:`curate.dedup.cosine.triangle_pairs`);
- ``clustered_cosine_pairs``: the centroids are fitted on the driver on a sample of at most
  :data:`~curate.dedup.cosine.FIT_ROWS` rows (as the local engine: a product's rounding
  depends on BLAS's thread count, so both fit in the same kind of process); each row's two
  nearest centroids are computed by tasks over ranges of rows, and the clusters, grouped into
  pieces of about :data:`~curate.dedup.cosine.CLUSTER_ROWS` member rows, are searched by
  tasks that read their members' rows.

Only the pairs and each row's two cluster ids reach the driver. Every task runs the functions
of :mod:`curate.dedup.cosine` on the same rows in the same blocks as the local engine, so the
pairs are the local engine's.

Examples:
    ```python
    from curate.engines import get_engine
    from curate.vectors import Vectors

    pairs = get_engine("ray").cosine_pairs(Vectors.from_array("emb.npy", emb), 0.9)
    ```
"""

from __future__ import annotations

import math

import numpy as np

from ..dedup.cosine import (BLOCK, CLUSTER_ROWS, assign, cluster_groups, cluster_members,
                            fit_centroids, search_clusters, triangle_pairs, unique_pairs,
                            use_exact)
from ..vectors import RowView, Vectors

ROWS_PER_TASK = 50_000  # rows per task of the k-means assignment (a multiple of BLOCK)


def on_file(emb) -> Vectors:
    """The file behind ``emb`` (a :class:`Vectors`, or a view of all its rows)."""
    if isinstance(emb, RowView) and emb.rows is None:
        emb = emb.source
    if not isinstance(emb, Vectors):
        raise TypeError("the Ray engine searches embeddings in a curate.vectors.Vectors file "
                        f"that its workers can read, not {type(emb).__name__}")
    return emb


def _triangles(vectors: Vectors, starts: list[int], threshold: float) -> np.ndarray:
    emb = vectors.array()
    return unique_pairs([triangle_pairs(emb, s, threshold) for s in starts])


def _assign(vectors: Vectors, centers: np.ndarray, start: int, end: int) -> np.ndarray:
    return assign(vectors.array(), centers, start, end)


def _search(vectors: Vectors, rows: np.ndarray, queries: np.ndarray, bounds: np.ndarray,
            threshold: float) -> np.ndarray:
    return search_clusters(vectors.array(), rows, queries, bounds, threshold)


def exact_pairs(engine, emb, threshold: float) -> np.ndarray:
    """:func:`curate.dedup.cosine.cosine_pairs` as Ray tasks of a few query blocks each
    (the early blocks, which have more rows after them, in smaller tasks)."""
    ray = engine._ray()
    vectors = on_file(emb)
    starts = list(range(0, vectors.rows, BLOCK))
    tasks = max(1, min(len(starts), 4 * engine.parallelism()))
    # block s compares with n - s rows: deal the blocks out so that tasks get equal work
    groups = [starts[i::tasks] for i in range(tasks)]
    task = ray.remote(_triangles)
    return unique_pairs(ray.get([task.remote(vectors, g, threshold) for g in groups if g]))


def clustered_pairs(engine, emb, threshold: float, clusters: int, *,
                    seed: int = 0) -> np.ndarray:
    """:func:`curate.dedup.cosine.clustered_cosine_pairs` with the assignment and the
    search in Ray tasks (the fit on the driver)."""
    vectors = on_file(emb)
    n = vectors.rows
    if use_exact(n, clusters):
        return exact_pairs(engine, vectors, threshold)
    ray = engine._ray()
    centers = fit_centroids(vectors.array(), clusters, seed=seed)
    size = max(BLOCK, math.ceil(n / max(1, engine.parallelism()) / BLOCK) * BLOCK)
    size = min(size, ROWS_PER_TASK)
    assign_task = ray.remote(_assign)
    near = np.concatenate(ray.get([assign_task.remote(vectors, centers, s, min(s + size, n))
                                   for s in range(0, n, size)]))
    rows, queries, bounds = cluster_members(near)
    search = ray.remote(_search)
    per_task = max(10_000, len(rows) // (4 * engine.parallelism()))
    refs = [search.remote(vectors, rows[bounds[a]:bounds[b]], queries[bounds[a]:bounds[b]],
                          bounds[a:b + 1], threshold)
            for a, b in cluster_groups(bounds, min(per_task, CLUSTER_ROWS))]
    return unique_pairs(ray.get(refs))
