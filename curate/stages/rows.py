"""How a row or model stage runs: piece by piece, from storage to storage.

Each piece of the input (:meth:`curate.io.parts.Parts.pieces`) is read, scored (reusing cached
scores), decided and split, and its kept and rejected rows written as the piece's part files;
the driver gets only counts (:class:`~curate.stages.base.PieceReport`). Memory is a few pieces,
whatever the size of the dataset; engines run the pieces where they like (the local engine in
this process, Ray in tasks or an actor pool) and the outputs are the same.

Two steps look at all rows, on compact columns only (``id``, ``drop_reason``, the columns the
stage added and the ones it reads; never the record texts):

- :meth:`RowScorer.refine` (quotas over the surviving rows): the pieces are decided first and
  kept in the stage's scratch folder, the compact frame is refined, and a second pass splits the
  pieces by the refined reasons;
- :meth:`RowScorer.stats`, given the compact frame of every row and of the kept rows.
"""

from __future__ import annotations

import hashlib
import uuid
from fnmatch import fnmatch
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from ..io.parts import Piece, part_files
from .context import Shape, StageContext
from .results import DROP_REASON, PieceReport, StageData, StageOutput, merge_counts

if TYPE_CHECKING:  # pragma: no cover
    from .base import RowScorer

_TEXT_HASH = "__text_hash"
_DECIDED, _COMPACT, _REASONS = "decided", "compact", "reasons"


def run_rows(stage: RowScorer, data: StageData, ctx: StageContext, engine) -> StageOutput:
    schema = data.source.schema
    stage.check_input(pl.DataFrame(schema=schema), ctx)
    pieces = data.source.pieces(stage.batch_size)
    refining = stage.overrides("refine")
    wants_stats = stage.overrides("stats")
    keep = compact_columns(stage, schema) if (refining or wants_stats) else None
    task = partial(score_piece, ctx=ctx, data=data, refining=refining, compact=keep)
    mapper = engine.map_model if stage.shape is Shape.MODEL else engine.map_rows
    sizes = [p.length for p in pieces]
    try:
        reports = mapper(stage, task, pieces, desc=ctx.name, sizes=sizes)
    finally:
        stage.close()
    more: dict[str, int] = {}
    if refining:
        compact = data.writer(data.scratch / _COMPACT).parts().read()
        refined, more = stage.refine(compact, ctx)
        data.writer(data.scratch / _REASONS).write(0, refined.select(DROP_REASON))
        split_task = partial(split_piece, ctx=ctx, data=data)
        failures = merge_counts(reports).failures
        reports = engine.map_rows(stage, split_task, pieces, desc=ctx.name, sizes=sizes)
        reports[0].failures = failures  # pass 1 decided; pass 2 only splits
        compact = refined
    total = merge_counts(reports)
    kept = data.writer(data.kept).finish()
    rejected = data.writer(data.rejected).finish()
    stats: dict[str, Any] = {"thresholds": stage.thresholds(),
                             "failures": {**total.failures, **more}}
    if wants_stats:
        if not refining:
            compact = data.writer(data.scratch / _COMPACT).parts().read()
        alive = compact.filter(pl.col(DROP_REASON).is_null()).drop(DROP_REASON)
        stats.update(stage.stats(compact, alive, ctx))
    return stage.finish(StageOutput(kept, rejected, total.rows_in, total.rows_out,
                                    total.dropped, stats, total.added), ctx, engine)


def compact_columns(stage: RowScorer, schema: pl.Schema) -> list[str] | None:
    """What the stage's ``refine`` and ``stats`` see of each row: ``id``, the columns it
    reads, and every column scoring adds (None: all those the scored piece has that the input
    lacks, found per piece)."""
    return [c for c in ("id", *stage.columns_read()) if c in schema]


def score_piece(stage: RowScorer, piece: Piece, *, ctx: StageContext, data: StageData,
                refining: bool, compact: list[str] | None) -> PieceReport:
    """One piece: read, score, decide and write (or keep decided for a refine)."""
    batch = piece.read()
    scored = scored_batch(stage, batch, ctx)
    decided, failures = decide(scored, stage.checks(scored.columns))
    if compact is not None:
        written = stage.columns_written()
        added = [c for c in decided.columns if c not in compact and (
            c not in batch.columns or any(fnmatch(c, w) for w in written))]
        data.writer(data.scratch / _COMPACT, compression="uncompressed").write(
            piece.index, decided.select(*compact, *added))
    if refining:
        data.writer(data.scratch / _DECIDED, compression="uncompressed").write(piece.index,
                                                                              decided)
        return PieceReport(rows_in=batch.height, failures=failures)
    report = write_split(stage, decided, piece, ctx, data)
    report.rows_in, report.failures = batch.height, failures
    return report


def split_piece(stage: RowScorer, piece: Piece, *, ctx: StageContext,
                data: StageData) -> PieceReport:
    """The second pass of a refining stage: a decided piece split by the refined reasons."""
    decided = data.writer(data.scratch / _DECIDED).read(piece.index)
    reasons = data.writer(data.scratch / _REASONS).parts().scan().slice(piece.offset,
                                                                         piece.length)
    decided = decided.with_columns(reasons.collect()[DROP_REASON])
    report = write_split(stage, decided, piece, ctx, data)
    report.rows_in = decided.height
    return report


def write_split(stage: RowScorer, decided: pl.DataFrame, piece: Piece, ctx: StageContext,
                data: StageData) -> PieceReport:
    kept, rejected = split(decided)
    kept, rejected, added = stage.post(kept, rejected, ctx)
    data.writer(data.kept).write(piece.index, kept)
    data.writer(data.rejected).write(piece.index, rejected)
    return PieceReport(rows_out=kept.height, dropped=reason_counts(rejected), added=added)


def reason_counts(rejected: pl.DataFrame) -> dict[str, int]:
    if rejected.height == 0:
        return {}
    counts = rejected.group_by(DROP_REASON).len()
    return {str(r): int(n) for r, n in counts.iter_rows()}


# -- the score cache ------------------------------------------------------------------------
def cache_path(stage: RowScorer, ctx: StageContext) -> Path | None:
    """The folder of the stage's cached scores (part files, one per scored piece), or None."""
    if not stage.cache_scores or ctx.cache_dir is None:
        return None
    # polars' hash is stable for one polars version only: its version is in the key
    key = hashlib.sha1(f"{stage.scoring_fingerprint()}-{pl.__version__}".encode())
    return ctx.cache_dir / "scores" / f"{stage.id}-{key.hexdigest()[:12]}"


def scored_batch(stage: RowScorer, batch: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
    """``stage.score`` of ``batch``, with the rows whose (id, text hash) the cache holds taken
    from it and the fresh scores added to it as a new part."""
    cache = cache_path(stage, ctx)
    if cache is None or batch.height == 0:
        return stage.score(batch, ctx)
    keyed = batch.with_columns(stage.cache_text().hash(seed=0).alias(_TEXT_HASH))
    keys = ["id", _TEXT_HASH]
    files = part_files(cache) if cache.is_dir() else []
    cached = None
    if files:
        # a semi join on the scan: only this batch's keys are kept in memory
        cached = (pl.scan_parquet([str(f) for f in files])
                  .join(keyed.select(keys).lazy(), on=keys, how="semi")
                  .unique(keys, keep="first", maintain_order=True).collect())
    if cached is not None and cached.height:
        have = keyed.join(cached, on=keys, how="inner")
        todo = keyed.join(cached.select(keys), on=keys, how="anti")
    else:
        have, todo = None, keyed
    new = stage.score(todo.drop(_TEXT_HASH), ctx).with_columns(todo[_TEXT_HASH])
    if new.height and stage.score_columns:
        cache.mkdir(parents=True, exist_ok=True)
        name = f"part-{uuid.uuid4().hex}.parquet"
        tmp = cache / f".{name}.tmp"
        new.select(*keys, *stage.score_columns).write_parquet(tmp)
        tmp.rename(cache / name)
    if have is None or have.height == 0:
        return new.drop(_TEXT_HASH)
    # the input order back, after merging cached and freshly scored rows
    merged = pl.concat([have.select(new.columns), new], how="vertical_relaxed")
    order = keyed.select(keys).with_row_index("__order")
    return merged.join(order, on=keys).sort("__order").drop("__order", _TEXT_HASH)


def decide(scored: pl.DataFrame, checks: list[tuple[str, pl.Expr]]) -> tuple[pl.DataFrame,
                                                                             dict[str, int]]:
    """``scored`` with ``drop_reason`` (the first failing check, in order; null when kept) and
    every check's failure count (a row can fail several; it is dropped once)."""
    checks = [(name, failed.fill_null(False)) for name, failed in checks]
    if not checks:
        return scored.with_columns(pl.lit(None, pl.String).alias(DROP_REASON)), {}
    reason = pl.coalesce([pl.when(failed).then(pl.lit(name)) for name, failed in checks])
    counts = scored.select([failed.sum().alias(f"c{i}") for i, (_, failed)
                            in enumerate(checks)]).row(0)
    failures = {name: int(n or 0) for (name, _), n in zip(checks, counts)}
    return scored.with_columns(reason.alias(DROP_REASON)), failures


def split(decided: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Kept rows (``drop_reason`` null, the column removed) and rejected rows."""
    is_kept = pl.col(DROP_REASON).is_null()
    return decided.filter(is_kept).drop(DROP_REASON), decided.filter(~is_kept)
