"""Keyed grouping stages (shape ``keyed``): sign each row, bring equal keys together, decide.

The dedup stages that compare records by a key work in three steps, each the stage's own
function; :meth:`KeyedGrouping.run` runs them on data in storage with nothing but the engine's
:meth:`~curate.engines.protocol.Engine.map`, so they run the same in this process and on Ray
tasks, and memory holds compact keys, never the records:

1. **sign** (one task per piece of :attr:`KeyedGrouping.sign_batch_size` rows):
   :meth:`KeyedGrouping.sign` turns the piece (only the columns it reads, with ``__row``) into
   compact keyed rows: ``__row`` and the ``key`` columns (a 128-bit hash of the normalised
   text for exact dedup, a (band, bucket) per MinHash band for near dedup). They are spilled
   by a hash of the key into P partitions under the stage's scratch folder, one file per
   piece with an Arrow IPC stream per partition, one after the other (``keyed/00012.ipcs``:
   pieces x partitions files would be millions at a billion records);
2. **group** (one task per partition): :meth:`KeyedGrouping.group` gets a partition's keyed
   rows (its byte range of each piece's file), which hold every row of their keys, in
   ``__row`` order (files are read in piece order), and returns a small result (the first
   row of each repeated key, candidate pairs);
3. **finish** (the driver): :meth:`KeyedGrouping.finish` decides from the concatenated
   group results, reads the few columns it needs of the rows that matter
   (:func:`curate.stages.marks.take`) and applies its marks in a streaming pass
   (:func:`curate.stages.marks.apply_marks`).

P grows with the data (:attr:`KeyedGrouping.group_rows` keyed rows per partition), so a group
task's memory stays flat; the results do not depend on P or on the engine.
"""

from __future__ import annotations

import io
import math
import shutil
from functools import partial
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import polars as pl

from ..in_process import SIGN_THREADS
from ..io.frame_parts import FrameStore
from ..io.parts import ROW, Piece
from .base import Shape, Stage, StageContext, StageData, StageOutput

if TYPE_CHECKING:  # pragma: no cover
    from ..engines.protocol import Engine

_KEYED = "keyed"


class KeyedGrouping(Stage):
    """Base of the keyed stages; see the module docs. Subclasses set ``key`` and implement
    :meth:`sign`, :meth:`group` and :meth:`finish`.

    Examples:
        Keep the first record of each reply length:

        ```python
        class SameLength(KeyedGrouping):
            id, key = "test.same-length", ("words",)

            def sign(self, batch, ctx):
                return batch.select(ROW, reply_words.alias("words"))

            def group(self, part):
                return part.group_by("words").agg(pl.col(ROW).min().alias("first"))

            def finish(self, data, grouped, ctx, engine):
                gone = pl.int_range(data.source.height, dtype=pl.Int64, eager=True) \
                    .alias(ROW).to_frame().filter(~pl.col(ROW).is_in(grouped["first"].implode()))
                marks = gone.with_columns(pl.lit("same_length").alias("drop_reason"))
                return finish_marks(data, apply_marks(data, marks, ctx, engine), {})
        ```
    """

    shape = Shape.KEYED
    key: ClassVar[tuple[str, ...]] = ()
    sign_batch_size: ClassVar[int] = 20_000
    group_rows: ClassVar[int] = 2_000_000  # keyed rows per partition, about (sets P)

    def prepare(self, schema: pl.Schema, ctx: StageContext) -> None:
        """Raise a StageError / CurateError for an input the stage cannot take (before any
        work), from its schema."""

    def sign_columns(self, schema: pl.Schema) -> list[str] | None:
        """The input columns :meth:`sign` reads (None: all)."""
        return None

    def keys_per_row(self) -> int:
        """Keyed rows :meth:`sign` makes per record, at most (sizes the partitions)."""
        return 1

    def sign(self, batch: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """Keyed rows of ``batch`` (which has ``__row``): ``__row``, the ``key`` columns and
        whatever :meth:`group` reads; compact (no texts)."""
        raise NotImplementedError

    def group(self, part: pl.DataFrame) -> pl.DataFrame:
        """What one partition of the keyed rows gives (all rows of a key are in one
        partition, in ``__row`` order); small."""
        raise NotImplementedError

    def finish(self, data: StageData, grouped: pl.DataFrame, ctx: StageContext,
               engine: Engine) -> StageOutput:
        """The output from the groups' results: decide on them, then write kept and rejected
        (see :mod:`curate.stages.marks`)."""
        raise NotImplementedError

    def run(self, data: StageData, ctx: StageContext, engine: Engine) -> StageOutput:
        self.prepare(data.source.schema, ctx)
        grouped = group_by_key(self, data, ctx, engine)
        return self.finish(data, grouped, ctx, engine)


def partitions(stage: KeyedGrouping, rows: int) -> int:
    """How many partitions the keyed rows of ``rows`` records are spilled into."""
    return max(1, math.ceil(rows * stage.keys_per_row() / max(1, stage.group_rows)))


def group_by_key(stage: KeyedGrouping, data: StageData, ctx: StageContext,
                 engine: Engine) -> pl.DataFrame:
    """Sign every piece into partitions by the key's hash, group each partition; the groups'
    results concatenated (in partition order)."""
    source = data.source
    pieces = source.pieces(stage.sign_batch_size)
    parts = partitions(stage, source.height)
    folder = data.scratch / _KEYED
    if data.memory is None:  # (in memory: the frame API's keyed rows stay frames)
        if folder.exists():  # left by an interrupted run of this stage
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    columns = stage.sign_columns(source.schema)
    signed = engine.map(partial(sign_piece, stage=stage, ctx=ctx, folder=str(folder),
                                parts=parts, columns=columns, memory=data.memory),
                        pieces, desc=f"{ctx.name} sign", sizes=[p.length for p in pieces],
                        threads=SIGN_THREADS)
    counts = [sum(c[p] for c, _ in signed) for p in range(parts)]
    todo = [p for p in range(parts) if counts[p]]
    # where partition p is in each piece's file: its bytes (the streams end at ``ends``)
    items = [(str(folder), p, [(piece.index, ends[p - 1] if p else 0, ends[p])
                               for piece, (c, ends) in zip(pieces, signed) if c[p]])
             for p in todo]
    grouped = engine.map(partial(group_partition, stage=stage, memory=data.memory), items,
                         desc=f"{ctx.name} group", sizes=[counts[p] for p in todo],
                         threads=SIGN_THREADS)
    if data.memory is None:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        for p in todo:
            data.memory.writer(folder / _part_dir(p)).clear()
    if not grouped:  # no keyed rows at all: the groups' result of nothing
        empty = pl.DataFrame(schema=source.schema).select(columns or pl.all())
        grouped = [stage.group(stage.sign(positions(empty), ctx))]
    return pl.concat([g for g in grouped if g.height] or grouped[:1], how="vertical_relaxed")


def _part_dir(p: int) -> str:
    return f"p{p:04d}"


def _piece_file(index: int) -> str:
    return f"{index:05d}.ipcs"


def sign_piece(piece: Piece, *, stage: KeyedGrouping, ctx: StageContext, folder: str,
               parts: int, columns: list[str] | None,
               memory: FrameStore | None = None) -> tuple[list[int], list[int]]:
    """One piece signed and spilled by partition (to ``memory`` when given); its keyed rows
    per partition and where each partition's bytes end in its file (none in ``memory``)."""
    keyed = stage.sign(piece.read(columns, positions=True), ctx)
    part = (pl.struct(list(stage.key)).hash(seed=0) % parts).cast(pl.Int64)
    counts = [0] * parts
    if keyed.height == 0:
        return counts, [0] * parts
    keyed = keyed.with_columns(part.alias("__part")).sort("__part", maintain_order=True)
    for p, n in keyed.group_by("__part", maintain_order=True).len().iter_rows():
        counts[p] = n
    rows = keyed.drop("__part")
    if memory is not None:
        starts = accumulate((n for n in counts if n), initial=0)
        for p, start in zip((p for p in range(parts) if counts[p]), starts):
            memory.writer(Path(folder) / _part_dir(p)).write(piece.index,
                                                              rows.slice(start, counts[p]))
        return counts, [0] * parts
    return counts, _write_streams(rows, counts, Path(folder) / _piece_file(piece.index))


def _write_streams(rows: pl.DataFrame, counts: list[int], path: Path) -> list[int]:
    """``rows`` (in partition order, ``counts`` rows per partition) as one file of an Arrow IPC
    stream per partition that has rows; where each partition's bytes end.

    A group task reads one partition of every piece's file, pieces x partitions reads in all:
    N squared. Each is a byte range decoded alone; with one parquet file per piece, each read
    parsed the file's footer and decoded its row groups, and the group step took 12x the time
    for 4x the records."""
    # written in one go: a file a library writes itself is slow to delete on some file systems
    buffer, ends, start = io.BytesIO(), [], 0
    for n in counts:
        if n:
            rows.slice(start, n).write_ipc_stream(buffer, compression="lz4")
            start += n
        ends.append(buffer.tell())
    path.write_bytes(buffer.getbuffer())
    return ends


def group_partition(item: tuple[str, int, list[tuple[int, int, int]]], *,
                    stage: KeyedGrouping, memory: FrameStore | None = None) -> pl.DataFrame:
    """One partition's keyed rows (the keyed folder, the partition, and for each piece that
    spilled rows into it, in order, the piece and the partition's bytes in its file: so in
    ``__row`` order within a key), grouped."""
    folder, p, where = item
    if memory is not None:
        writer = memory.writer(Path(folder) / _part_dir(p))
        return stage.group(pl.concat([writer.read(i) for i, _, _ in where]))
    frames = []
    for i, start, end in where:
        with open(Path(folder) / _piece_file(i), "rb") as f:
            f.seek(start)
            frames.append(pl.read_ipc_stream(io.BytesIO(f.read(end - start))))
    return stage.group(pl.concat(frames))


def key_columns(schema: pl.Schema, *exprs: pl.Expr) -> list[str]:
    """The input columns ``exprs`` read (for :meth:`KeyedGrouping.sign_columns`)."""
    names: set[str] = set()
    for e in exprs:
        names.update(e.meta.root_names())
    return [c for c in schema if c in names]


def positions(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with each row's position as ``__row`` (Int64)."""
    return df.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))
