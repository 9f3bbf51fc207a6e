"""Clusters of duplicate pairs as a dedup stage's output, decided on the rows in pairs only.

A dedup stage (``dedup.near``, ``dedup.semantic``) finds duplicate pairs of row positions;
:func:`cluster_output` joins them into clusters (connected components), keeps one record of
each by the stage's ``keep`` option and removes the others, without reading the data into
memory: only the rows that occur in a pair are labelled, ranked and looked up (their ``id``
and ``keep`` column by :func:`curate.stages.marks.take`), and the decision is applied to the
data by :func:`curate.stages.marks.apply_marks` in a streaming pass.

Examples:
    ```python
    def run(self, data, ctx, engine):
        pairs = ...  # (k, 2) int64 row positions of duplicate pairs
        return cluster_output(self, data, pairs, ctx, engine, lengths=None,
                              stats={"on": self.options.on})
    ```
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from ..columns import DUP_CLUSTER
from ..dedup.components import components, survivors
from ..dedup.shingles import unique
from ..errors import CurateError
from ..io.parts import ROW
from .base import DROP_REASON, KEPT_ID, PieceReport, StageContext, StageData, StageOutput
from .marks import apply_marks, finish_marks, take

LENGTH = "length"
_COLUMNS = {DUP_CLUSTER: pl.String, KEPT_ID: pl.String}


def check_keep(keep: str, schema: pl.Schema) -> None:
    """Raise CurateError when ``keep`` names no numeric column of ``schema`` (``first`` and
    ``longest`` need none): a bad keep column fails before the work."""
    if keep in ("first", "longest"):
        return
    if keep not in schema:
        raise CurateError(f"keep: no column {keep!r} to rank duplicates by "
                          f"(expected first, longest or a numeric column)")
    if not schema[keep].is_numeric():
        raise CurateError(f"keep: column {keep!r} is {schema[keep]}, expected a number")


def cluster_marks(rows: np.ndarray, survivor: np.ndarray, ids: pl.Series,
                  reason: str) -> tuple[pl.DataFrame, dict[str, int]]:
    """The marks of the rows in pairs (``rows`` sorted, ``survivor`` the index in ``rows`` of
    each one's survivor, ``ids`` their ids) and the ``{size: clusters}`` histogram: rows
    whose survivor is another row get ``reason`` and ``kept_id``; rows of clusters of two or
    more get ``dup_cluster`` = the survivor's id."""
    m = rows.shape[0]
    size = np.bincount(survivor, minlength=m)
    in_cluster = size[survivor] > 1
    gone = survivor != np.arange(m)
    survivor_id = ids.gather(survivor)
    marks = pl.DataFrame({
        ROW: rows,
        DROP_REASON: pl.select(pl.when(pl.lit(pl.Series(gone))).then(pl.lit(reason)))
        .to_series(),
        DUP_CLUSTER: survivor_id.set(pl.Series(~in_cluster), None),
        KEPT_ID: survivor_id.set(pl.Series(~gone), None),
    }, schema={ROW: pl.Int64, DROP_REASON: pl.String, DUP_CLUSTER: pl.String,
               KEPT_ID: pl.String})
    counts = np.bincount(size[size > 1])
    return marks, {str(s): int(c) for s, c in enumerate(counts) if c}


def mark_clusters(batch: pl.DataFrame, marks: pl.DataFrame) -> pl.DataFrame:
    """A piece with its cluster marks, in the columns of the frame-era result: every row gets
    ``dup_cluster`` (an earlier non-null one is left as it is), rejected rows ``kept_id``
    (only they keep it: see ``rejected_only`` of :func:`~curate.stages.marks.apply_marks`)."""
    joined = batch.join(marks.rename({DUP_CLUSTER: "__cluster", KEPT_ID: "__kept"}),
                        on=ROW, how="left")
    had = set(batch.columns)
    cluster = pl.coalesce(DUP_CLUSTER, "__cluster") if DUP_CLUSTER in had else pl.col("__cluster")
    kept_id = pl.coalesce("__kept", KEPT_ID) if KEPT_ID in had else pl.col("__kept")
    return joined.with_columns(cluster.alias(DUP_CLUSTER), kept_id.alias(KEPT_ID)).select(
        *batch.columns, *[DUP_CLUSTER] * (DUP_CLUSTER not in had), DROP_REASON,
        *[KEPT_ID] * (KEPT_ID not in had))


def cluster_output(stage, data: StageData, pairs: np.ndarray, ctx: StageContext, engine, *,
                   lengths: pl.DataFrame | None, stats: dict[str, Any],
                   taken: pl.DataFrame | None = None) -> StageOutput:
    """The output of a dedup stage that found duplicate ``pairs`` (k, 2) of row positions in
    ``data.source``: pairs joined into clusters, one record of each kept by
    ``stage.options.keep`` (``first``; ``longest``, by ``lengths``, a frame of ``__row`` and
    ``length`` covering at least the rows in pairs; or a numeric column, read for those rows
    only), the others removed with ``stage.reason``. ``stats`` gets ``pairs``,
    ``dup_clusters``, ``duplicates`` and ``cluster_sizes``. ``taken``: the rows' ``id`` (and
    keep column) where the caller read them already (a :func:`take` of at least the rows in
    pairs), saving a pass over the data."""
    keep = stage.options.keep
    check_keep(keep, data.source.schema)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    rows = unique(pairs.reshape(-1)) if pairs.shape[0] else np.zeros(0, np.int64)
    if taken is None:
        columns = ["id"] + ([keep] if keep not in ("first", "longest") else [])
        taken = take(engine, data.source, rows, columns, desc=f"{ctx.name} ids")
    else:
        taken = taken.filter(pl.col(ROW).is_in(pl.Series(rows).implode()))
    assert taken.height == rows.shape[0], "every row in a pair is in the data"
    rank: list[pl.Series] = []
    if keep == "longest":
        if lengths is None:
            raise ValueError("cluster_output: keep 'longest' needs the lengths")
        ranked = taken.select(ROW).join(lengths.select(ROW, LENGTH).cast({ROW: pl.Int64}),
                                        on=ROW, how="left", maintain_order="left")
        rank = [ranked[LENGTH]]
    elif keep != "first":
        rank = [taken[keep]]
    survivor = survivors(components(rows.shape[0], np.searchsorted(rows, pairs)), rank,
                         [True] * len(rank))
    total, hist = write_clusters(stage.reason, data, rows, survivor, taken["id"], ctx, engine)
    stats.update(pairs=int(pairs.shape[0]), dup_clusters=int(sum(hist.values())),
                 duplicates=total.dropped.get(stage.reason, 0), cluster_sizes=hist)
    return finish_marks(data, total, stats)


def write_clusters(reason: str, data: StageData, rows: np.ndarray, survivor: np.ndarray,
                   ids: pl.Series, ctx: StageContext, engine) -> tuple[PieceReport,
                                                                       dict[str, int]]:
    """Clusters given as each row's survivor (``rows`` sorted positions, ``survivor`` an
    index into them, ``ids`` their ids) applied to ``data`` (see :func:`cluster_marks`); the
    summed counts and the ``{size: clusters}`` histogram."""
    marks, hist = cluster_marks(rows, survivor, ids, reason)
    total = apply_marks(data, marks, ctx, engine, columns=_COLUMNS, mark=mark_clusters,
                        rejected_only=(KEPT_ID,))
    return total, hist
