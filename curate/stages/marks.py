"""Decide on compact data, then apply the decision to the rows in a streaming pass.

Keyed and global stages (dedup, decontam.semantic, select.diverse) decide from compact facts
about the rows (key hashes, MinHash bands, embeddings on disk): which rows go, and why. Their
decision is a small frame of *marks*, one row per row it says something about:

    __row        Int64   the row's position in the stage's input (sorted, unique)
    drop_reason  String  why it goes; null: it stays, with the marked columns set
    <columns>            what the stage adds (``kept_id``, ``dup_cluster``, ...)

:func:`apply_marks` then reads the input piece by piece, joins each piece's marks, splits kept
from rejected and writes both as the piece's parts; the driver gets counts. :func:`take`
reads a few columns of chosen rows (the ids and keep columns of the rows in duplicate pairs)
in one pass, without reading the rest of the data into memory.

Examples:
    ```python
    marks = pl.DataFrame({ROW: [3, 7], DROP_REASON: ["duplicate_exact", None],
                          "dup_cluster": ["a", "a"]})
    return finish_marks(data, apply_marks(data, marks, ctx, engine,
                                          columns={"dup_cluster": pl.String}), stats)
    ```
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, Mapping

import numpy as np
import polars as pl

from ..io.parts import ROW, Parts, Piece
from .base import (DROP_REASON, PieceReport, StageContext, StageData, StageOutput,
                   merge_counts)
from .rows import reason_counts, split

_MARKS = "marks"
Mark = Callable[[pl.DataFrame, pl.DataFrame], pl.DataFrame]


def take(engine, source: Parts, rows: np.ndarray, columns: Mapping[str, pl.Expr] | list[str],
         *, desc: str = "read") -> pl.DataFrame:
    """The rows at positions ``rows`` (any order, repeats allowed) with ``__row`` and
    ``columns`` (names, or name -> expression over the row), sorted by ``__row``; only the
    pieces that hold one of them are read, each by a worker."""
    exprs = ({name: pl.col(name) for name in columns} if isinstance(columns, list)
             else dict(columns))
    wanted = np.unique(np.asarray(rows, dtype=np.int64))
    items = []
    for piece in source.pieces():
        lo, hi = np.searchsorted(wanted, [piece.offset, piece.offset + piece.length])
        if hi > lo:
            items.append((piece, wanted[lo:hi]))
    schema_probe = pl.DataFrame(schema=source.schema).select(
        pl.lit(None, pl.Int64).alias(ROW), *[e.alias(n) for n, e in exprs.items()])
    if not items:
        return schema_probe.clear()
    parts = engine.map(partial(_take_piece, exprs=exprs), items, desc=desc,
                       sizes=[len(r) for _, r in items])
    return pl.concat(parts, how="vertical_relaxed")


def _take_piece(item: tuple[Piece, np.ndarray], *, exprs: dict[str, pl.Expr]) -> pl.DataFrame:
    piece, rows = item
    # only the columns the expressions read (an id is a few bytes; a record is hundreds)
    names = {n for e in exprs.values() for n in e.meta.root_names()}
    schema = piece.schema()
    batch = piece.read([c for c in schema if c in names] or list(schema)[:1], positions=True)
    picked = batch.filter(pl.col(ROW).is_in(pl.Series(rows).implode()))
    return picked.select(ROW, *[e.alias(n) for n, e in exprs.items()])


def apply_marks(data: StageData, marks: pl.DataFrame, ctx: StageContext, engine, *,
                columns: Mapping[str, pl.DataType] | None = None,
                mark: Mark | None = None, rejected_only: tuple[str, ...] = (),
                makes_rows: bool = False) -> PieceReport:
    """Every piece of ``data.source`` with its marks applied, kept and rejected written to
    ``data.kept`` / ``data.rejected``; the summed counts. ``columns``: the marked columns and
    their types (null on unmarked rows; an existing column keeps its non-null values);
    ``mark(batch, marks)`` replaces how a piece (with ``__row``) and its marks combine into
    the piece with ``drop_reason``; ``rejected_only``: marked columns only rejected rows carry
    (``kept_id``), left out of the kept rows unless the input has them; ``makes_rows``: the
    ``mark`` may add rows (mix's copies), counted as ``added`` (else more rows out than in is
    an accounting error)."""
    columns = dict(columns or {})
    marks = marks.select(ROW, DROP_REASON, *columns).cast(
        {ROW: pl.Int64, DROP_REASON: pl.String, **columns}).sort(ROW)
    # one part that each piece reads its rows of (row groups: a piece skips the others)
    data.writer(data.scratch / _MARKS).write(0, marks, row_group_size=64_000)
    pieces = data.source.pieces()
    task = partial(_mark_piece, data=data, columns=columns,
                   mark=mark or join_marks, rejected_only=rejected_only,
                   makes_rows=makes_rows)
    reports = engine.map(task, pieces, desc=ctx.name, sizes=[p.length for p in pieces])
    return merge_counts(reports)


def join_marks(batch: pl.DataFrame, marks: pl.DataFrame) -> pl.DataFrame:
    """The default way marks combine with a piece: joined on ``__row``; a marked column the
    piece has already keeps its non-null values."""
    joined = batch.join(marks, on=ROW, how="left", suffix="__mark")
    again = [c for c in marks.columns if c not in (ROW, DROP_REASON) and c in batch.columns]
    return joined.with_columns(
        [pl.coalesce(pl.col(c), pl.col(f"{c}__mark")).alias(c) for c in again]
    ).drop([f"{c}__mark" for c in again])


def _mark_piece(piece: Piece, *, data: StageData,
                columns: dict[str, pl.DataType], mark: Mark,
                rejected_only: tuple[str, ...] = (), makes_rows: bool = False) -> PieceReport:
    batch = piece.read(positions=True)
    lo, hi = piece.offset, piece.offset + piece.length
    marks = (data.writer(data.scratch / _MARKS).parts().scan()
             .filter(pl.col(ROW).is_between(lo, hi, closed="left")).collect())
    decided = mark(batch, marks).sort(ROW, maintain_order=True).drop(ROW)
    kept, rejected = split(decided)
    kept = kept.drop([c for c in rejected_only if c not in batch.columns])
    data.writer(data.kept).write(piece.index, kept)
    data.writer(data.rejected).write(piece.index, rejected)
    made = kept.height + rejected.height - batch.height if makes_rows else 0
    return PieceReport(rows_in=batch.height, rows_out=kept.height,
                       dropped=reason_counts(rejected), added=max(0, made))


def finish_marks(data: StageData, total: PieceReport, stats: dict[str, Any]) -> StageOutput:
    """The stage's output once :func:`apply_marks` wrote every piece."""
    return StageOutput(data.writer(data.kept).finish(), data.writer(data.rejected).finish(),
                       total.rows_in, total.rows_out, total.dropped, stats, total.added)
