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
from ..dedup.reference import DUPLICATE_OF, REFERENCE_REASON
from ..dedup.shingles import unique
from ..io.parts import ROW
from .base import DROP_REASON, KEPT_ID, PieceReport, StageContext, StageData, StageOutput
from .dedup_keep import check_keep as check, keep_columns, rank_keys
from .marks import apply_marks, finish_marks, take

LENGTH = "length"  # the column keep: longest ranks by (see dedup_keep.rank_keys)
_COLUMNS = {DUP_CLUSTER: pl.String, KEPT_ID: pl.String}


def check_keep(keep, schema: pl.Schema) -> None:
    """Raise CurateError for a ``keep`` option the data cannot rank by (see
    :func:`curate.stages.dedup_keep.check_keep`): a bad keep fails before the work."""
    check(keep, schema)


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
    (only they keep it: see ``rejected_only`` of :func:`~curate.stages.marks.apply_marks`)
    and, for duplicates of a reference, ``duplicate_of``."""
    names = {DUP_CLUSTER: "__cluster", KEPT_ID: "__kept", DUPLICATE_OF: "__dupof"}
    joined = batch.join(marks.rename({k: v for k, v in names.items() if k in marks.columns}),
                        on=ROW, how="left")
    had = set(batch.columns)
    cluster = pl.coalesce(DUP_CLUSTER, "__cluster") if DUP_CLUSTER in had else pl.col("__cluster")
    kept_id = pl.coalesce("__kept", KEPT_ID) if KEPT_ID in had else pl.col("__kept")
    extra = []
    if DUPLICATE_OF in marks.columns:
        extra = [(pl.coalesce("__dupof", DUPLICATE_OF) if DUPLICATE_OF in had
                  else pl.col("__dupof")).alias(DUPLICATE_OF)]
    return joined.with_columns(cluster.alias(DUP_CLUSTER), kept_id.alias(KEPT_ID),
                               *extra).select(
        *batch.columns, *[DUP_CLUSTER] * (DUP_CLUSTER not in had), DROP_REASON,
        *[KEPT_ID] * (KEPT_ID not in had),
        *[DUPLICATE_OF] * (DUPLICATE_OF in marks.columns and DUPLICATE_OF not in had))


def cluster_output(stage, data: StageData, pairs: np.ndarray, ctx: StageContext, engine, *,
                   lengths: pl.DataFrame | None, stats: dict[str, Any],
                   taken: pl.DataFrame | None = None,
                   references: pl.DataFrame | None = None) -> StageOutput:
    """The output of a dedup stage that found duplicate ``pairs`` (k, 2) of row positions in
    ``data.source``: pairs joined into clusters, one record of each kept by
    ``stage.options.keep`` (see :mod:`curate.stages.dedup_keep`; ``longest`` ranks by
    ``lengths``, a frame of ``__row`` and ``length`` covering at least the rows in pairs; the
    columns keep reads are read for those rows only), the others removed with
    ``stage.reason``. ``stats`` gets ``pairs``, ``dup_clusters``, ``duplicates`` and
    ``cluster_sizes``. ``taken``: the rows' ``id`` (and keep columns) where the caller read
    them already (a :func:`take` of at least the rows in pairs), saving a pass over the data.
    ``references``: marks of the rows that duplicate a reference (``__row``,
    ``duplicate_of``; see :mod:`curate.stages.dedup_against`): they are removed as such and
    take no part in the clusters (a reference match wins over a copy among the new rows)."""
    keep = stage.options.keep
    check_keep(keep, data.source.schema)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if references is not None and references.height and pairs.shape[0]:
        gone = references[ROW].to_numpy()
        pairs = pairs[~(np.isin(pairs[:, 0], gone) | np.isin(pairs[:, 1], gone))]
    rows = unique(pairs.reshape(-1)) if pairs.shape[0] else np.zeros(0, np.int64)
    if taken is None:
        taken = take(engine, data.source, rows, ["id", *keep_columns(keep)],
                     desc=f"{ctx.name} ids")
    else:
        taken = taken.filter(pl.col(ROW).is_in(pl.Series(rows).implode()))
    assert taken.height == rows.shape[0], "every row in a pair is in the data"
    rank, descending = rank_keys(keep, taken, lengths)
    survivor = survivors(components(rows.shape[0], np.searchsorted(rows, pairs)), rank,
                         descending)
    total, hist = write_clusters(stage.reason, data, rows, survivor, taken["id"], ctx, engine,
                                 references=references)
    stats.update(pairs=int(pairs.shape[0]), dup_clusters=int(sum(hist.values())),
                 duplicates=total.dropped.get(stage.reason, 0), cluster_sizes=hist)
    return finish_marks(data, total, stats)


def write_clusters(reason: str, data: StageData, rows: np.ndarray, survivor: np.ndarray,
                   ids: pl.Series, ctx: StageContext, engine, *,
                   references: pl.DataFrame | None = None) -> tuple[PieceReport,
                                                                    dict[str, int]]:
    """Clusters given as each row's survivor (``rows`` sorted positions, ``survivor`` an
    index into them, ``ids`` their ids) applied to ``data`` (see :func:`cluster_marks`); the
    summed counts and the ``{size: clusters}`` histogram. ``references``: rows removed as
    duplicates of a reference (``__row``, ``duplicate_of``; none of them in ``rows``)."""
    marks, hist = cluster_marks(rows, survivor, ids, reason)
    columns, rejected_only = dict(_COLUMNS), (KEPT_ID,)
    if references is not None:
        refs = references.select(
            pl.col(ROW).cast(pl.Int64), pl.lit(REFERENCE_REASON).alias(DROP_REASON),
            pl.lit(None, pl.String).alias(DUP_CLUSTER), pl.lit(None, pl.String).alias(KEPT_ID),
            pl.col(DUPLICATE_OF).cast(pl.String))
        marks = pl.concat([marks.with_columns(pl.lit(None, pl.String).alias(DUPLICATE_OF)),
                           refs]).sort(ROW)
        columns[DUPLICATE_OF] = pl.String
        rejected_only = (KEPT_ID, DUPLICATE_OF)
    total = apply_marks(data, marks, ctx, engine, columns=columns, mark=mark_clusters,
                        rejected_only=rejected_only)
    return total, hist
