"""Clusters of duplicates: connected components of duplicate pairs, and one survivor each."""

from __future__ import annotations

import numpy as np
import polars as pl

from ..columns import DROP_REASON, DUP_CLUSTER, KEPT_ID
from ..errors import CurateError


def components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Component label of each of ``n`` rows given undirected edges ``pairs`` (k, 2).

    A row without an edge is its own component. The label of a component is the smallest row
    in it, so labels do not depend on the order of the edges. Vectorised union-find: every
    round hooks the larger root of each edge under the smaller one, then compresses paths;
    roots only ever decrease, so it ends (in a few rounds in practice).
    """
    parent = np.arange(n, dtype=np.int64)
    if pairs.shape[0] == 0:
        return parent
    a, b = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    while True:
        ra, rb = parent[a], parent[b]
        differ = ra != rb
        if not differ.any():
            return parent
        lo, hi = np.minimum(ra, rb)[differ], np.maximum(ra, rb)[differ]
        np.minimum.at(parent, hi, lo)
        while True:  # path compression: everyone points at a root
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand


def survivors(labels: np.ndarray, rank: list[pl.Series] | None = None,
              descending: list[bool] | None = None) -> np.ndarray:
    """Row index of the survivor of each row's component.

    The survivor is the row with the smallest ``rank`` (a list of sort keys, compared in
    order, with ``descending`` flags, nulls last), ties broken by row order; without ``rank``
    it is the first row. Every component has exactly one survivor.
    """
    n = labels.shape[0]
    frame = pl.DataFrame({"row": np.arange(n, dtype=np.int64), "c": labels})
    keys = list(rank or [])
    for i, key in enumerate(keys):
        frame = frame.with_columns(key.alias(f"k{i}"))
    by = [f"k{i}" for i in range(len(keys))] + ["row"]
    desc = list(descending or [False] * len(keys)) + [False]
    first = pl.col("row").sort_by(by, descending=desc, nulls_last=True).first().over("c")
    return frame.select(first)["row"].to_numpy()


def split_clusters(df: pl.DataFrame, survivor: np.ndarray, reason: str):
    """Kept and rejected rows of ``df`` given the survivor row of each row.

    Rows whose survivor is another row are rejected with ``drop_reason = reason`` and
    ``kept_id`` = the survivor's id. Rows of clusters of two or more get ``dup_cluster`` = the
    survivor's id (a non-null ``dup_cluster`` already in ``df`` is left as it is). Returns
    ``(kept, rejected, cluster_sizes)``, the last a ``{size: clusters}`` histogram.
    """
    n = df.height
    rows = np.arange(n)
    size = np.bincount(survivor, minlength=n)
    in_cluster = size[survivor] > 1
    ids = df["id"]
    survivor_id = ids.gather(survivor)
    cluster = pl.Series(DUP_CLUSTER, survivor_id).set(pl.Series(~in_cluster), None)
    if DUP_CLUSTER in df.columns:
        cluster = df[DUP_CLUSTER].fill_null(cluster)
    marked = df.with_columns(cluster.alias(DUP_CLUSTER))
    keep = pl.Series(survivor == rows)
    kept = marked.filter(keep)
    rejected = marked.filter(~keep).with_columns(
        pl.lit(reason).alias(DROP_REASON), survivor_id.filter(~keep).alias(KEPT_ID))
    counts = np.bincount(size[size > 1])
    hist = {str(s): int(c) for s, c in enumerate(counts) if c}
    return kept, rejected, hist


def keep_rank(df: pl.DataFrame, keep: str,
              lengths: pl.Series | None) -> tuple[list[pl.Series], list[bool]]:
    """Sort keys and their descending flags for a keep policy (``first``, ``longest`` or a
    numeric column); raises CurateError when ``keep`` names no numeric column of ``df``."""
    if keep == "first":
        return [], []
    if keep == "longest":
        return [lengths], [True]
    if keep not in df.columns:
        raise CurateError(f"keep: no column {keep!r} to rank duplicates by "
                          f"(expected first, longest or a numeric column)")
    if not df.schema[keep].is_numeric():
        raise CurateError(f"keep: column {keep!r} is {df.schema[keep]}, expected a number")
    return [df[keep]], [True]


def resolve_clusters(df: pl.DataFrame, pairs: np.ndarray, keep: str, lengths: pl.Series | None,
                     reason: str) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int]]:
    """Clusters (connected components of duplicate ``pairs``), one survivor each by ``keep``,
    and the kept and rejected rows; see :func:`split_clusters`."""
    rank, desc = keep_rank(df, keep, lengths)
    return split_clusters(df, survivors(components(df.height, pairs), rank, desc), reason)
