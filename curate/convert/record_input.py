"""A record input (a run folder, records parquet or a part folder) converted piece by piece.

Its rows are curate records already: each piece of the input (at most ``rows`` rows) is read,
its record columns cast to the record schema (stage columns kept after them), turned into SFT
records with ``kind="sft"``, and written as the part of the same number. ``limit`` keeps the
first rows; ``kind="preference"`` refuses an input holding SFT records before anything is
written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ..errors import CurateError, InputError
from ..io.dispatch import as_records, check_record_schema, input_files, record_parts
from ..io.parts import PART_ROWS, Piece, PartWriter
from ..io.remote import is_url, redact
from ..record_schema import MESSAGES
from .file_task import REJECTED_SCHEMA
from .stream import PartsResult


@dataclass(frozen=True)
class _Task:
    piece: Piece
    length: int      # rows of the piece to keep (``limit``)
    kind: str | None
    folder: str
    shown: str       # the input as messages name it


def convert_record_input(path: str | Path, kept_dir: Path, rejected_dir: Path, *, engine,
                         kind: str | None = None, limit: int | None = None,
                         rows: int = PART_ROWS) -> PartsResult:
    parts = record_parts(path)
    shown = redact(str(path)) if is_url(path) else str(parts.path)
    try:
        schema = parts.schema
    except Exception as exc:  # polars' ComputeError: not parquet
        raise InputError(f"not a readable parquet file: {exc}", file=shown) from None
    check_record_schema(schema, shown)
    if kind == "preference":
        n = parts.scan().filter(pl.col("kind") == "sft").select(pl.len()).collect().item()
        if n:
            raise CurateError(f"--kind preference: {redact(str(path))} holds {n} SFT records, "
                              "which have no rejected reply")
    tasks, left = [], limit
    for piece in parts.pieces(rows):
        if left is not None and left <= 0 and tasks:
            break
        length = piece.length if left is None else min(piece.length, left)
        tasks.append(_Task(piece, length, kind, str(kept_dir), shown))
        if left is not None:
            left -= length
    writer = PartWriter(kept_dir)
    writer.clear()
    heights = engine.map(_convert_piece, tasks, desc="convert",
                         sizes=[t.length for t in tasks])
    kept = writer.finish()
    rejected = PartWriter(rejected_dir)
    rejected.clear()
    n = sum(heights)
    # keyed as the manifest lists the input files (a run folder's parts, one by one)
    formats = {str(f): "records" for f in input_files(path)}
    return PartsResult(kept, rejected.finish(REJECTED_SCHEMA), n, n, {}, formats)


def _convert_piece(task: _Task) -> int:
    df = as_records(task.piece.read().head(task.length), task.shown)
    if task.kind == "sft":
        pref = pl.col("kind") == "preference"
        none = pl.lit(None, dtype=MESSAGES)
        df = df.with_columns(
            messages=pl.when(pref).then(pl.concat_list("prompt", "chosen"))
            .otherwise(pl.col("messages")),
            prompt=none, chosen=none, rejected=none, chosen_score=pl.lit(None, pl.Float64),
            rejected_score=pl.lit(None, pl.Float64), kind=pl.lit("sft"))
    PartWriter(task.folder).write(task.piece.index, df)
    return df.height
