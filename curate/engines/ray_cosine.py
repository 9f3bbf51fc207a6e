"""Cosine search on Ray: the engine's ``cosine_pairs`` and ``clustered_cosine_pairs``.

- ``cosine_pairs``, the exact blocked search: one Ray task per block of
  :data:`~curate.dedup.cosine.BLOCK` query rows against the full matrix, which is put in the
  object store once (``ray.put``) and shared by the tasks;
- ``clustered_cosine_pairs``: the k-means centroids are fitted on the driver (MiniBatchKMeans
  on the embeddings, as the local engine: the fit needs every row, and the vectors are on the
  driver anyway for the cache); each row's two nearest centroids are computed in
  ``map_batches``; a shuffle by cluster (``groupby(cluster).map_groups``) sends each row to its
  nearest cluster as query and member and to its second nearest as member only, and each
  group emits its pairs with cosine >= ``threshold``.

Every piece runs the functions of :mod:`curate.dedup.cosine` on the same rows in the same
blocks as the local engine, so the pairs are the local engine's.

Examples:
    ```python
    from curate.engines import get_engine

    pairs = get_engine("ray").cosine_pairs(emb, 0.9)
    ```
"""

from __future__ import annotations

import math
import numpy as np
import polars as pl
import pyarrow as pa

from ..dedup.cosine import (BLOCK, cluster_pairs, fit_centroids, nearest_two, query_blocks,
                            query_pairs, unique_pairs, use_exact)
from ..stages.base import ROW

VECTOR, CLUSTER, QUERY = "__vec", "__cluster", "__query"
ROWS_PER_BLOCK = 50_000  # rows per Ray block of the k-means assignment


def exact_pairs(engine, emb: np.ndarray, threshold: float) -> np.ndarray:
    """:func:`curate.dedup.cosine.cosine_pairs` as one Ray task per query block, the matrix
    shared once through the object store."""
    import ray

    engine._ray()
    shared = ray.put(np.ascontiguousarray(emb))
    task = ray.remote(query_pairs)
    refs = [task.remote(shared, block, threshold)
            for block in query_blocks(np.arange(emb.shape[0]))]
    return unique_pairs(ray.get(refs))


def _vectors(table: pa.Table) -> np.ndarray:
    column = table.column(VECTOR).combine_chunks()
    return column.flatten().to_numpy(zero_copy_only=False).reshape(-1, column.type.list_size)


def _with_vectors(rows: np.ndarray, emb: np.ndarray) -> pa.Table:
    flat = pa.array(np.ascontiguousarray(emb, dtype=np.float32).reshape(-1), pa.float32())
    return pa.table({ROW: pa.array(rows, pa.int64()),
                     VECTOR: pa.FixedSizeListArray.from_arrays(flat, emb.shape[1])})


def _assign(centers: np.ndarray):
    """A ``map_batches`` function: each row twice, keyed by its nearest cluster (as a query)
    and by its second nearest (as a member only)."""

    def fn(table: pa.Table) -> pa.Table:
        near = nearest_two(_vectors(table), centers)
        return pa.concat_tables([
            table.append_column(CLUSTER, pa.array(near[:, 0]))
                 .append_column(QUERY, pa.array(np.ones(table.num_rows, bool))),
            table.append_column(CLUSTER, pa.array(near[:, 1]))
                 .append_column(QUERY, pa.array(np.zeros(table.num_rows, bool)))])
    return fn


def _group_pairs(threshold: float):
    """A ``map_groups`` function: the pairs of one cluster (its members in row order)."""

    def fn(table: pa.Table) -> pa.Table:
        table = table.sort_by(ROW)
        pairs = cluster_pairs(_vectors(table), table.column(ROW).to_numpy(), np.asarray(
            table.column(QUERY).to_numpy(zero_copy_only=False), bool), threshold)
        return pa.table({"i": pa.array(pairs[:, 0], pa.int64()),
                         "j": pa.array(pairs[:, 1], pa.int64())})
    return fn


def clustered_pairs(engine, emb: np.ndarray, threshold: float, clusters: int, *,
                    seed: int = 0) -> np.ndarray:
    """:func:`curate.dedup.cosine.clustered_cosine_pairs` with the assignment in
    ``map_batches`` and the search in a shuffle by cluster (the fit on the driver)."""
    n = emb.shape[0]
    if use_exact(n, clusters):
        return exact_pairs(engine, emb, threshold)
    import ray
    import ray.data

    engine._ray()
    centers = fit_centroids(emb, clusters, seed=seed)
    # Blocks start at multiples of BLOCK, so nearest_two multiplies the local engine's blocks.
    blocks = max(engine.parallelism(), math.ceil(n / ROWS_PER_BLOCK))
    size = math.ceil(n / blocks / BLOCK) * BLOCK
    tables = [_with_vectors(np.arange(s, min(s + size, n)), emb[s:s + size])
              for s in range(0, n, size)]
    keyed = ray.data.from_arrow(tables).map_batches(_assign(centers), batch_format="pyarrow",
                                                    batch_size=None)
    found = keyed.groupby(CLUSTER).map_groups(_group_pairs(threshold), batch_format="pyarrow")
    out = [t for t in ray.get(found.to_arrow_refs()) if t.num_rows]
    return unique_pairs([np.stack([t["i"].to_numpy(), t["j"].to_numpy()], axis=1)
                         for t in out])
