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
   piece with a record batch per partition (``keyed/00012.arrow``, Arrow IPC: pieces x
   partitions files would be millions at a billion records);
2. **group** (one task per partition): :meth:`KeyedGrouping.group` gets a partition's keyed
   rows (its record batch of each piece's file), which hold every row of their
   keys, in ``__row`` order (files are read in piece order), and returns a small result (the
   first row of each repeated key, candidate pairs);
3. **finish** (the driver): :meth:`KeyedGrouping.finish` decides from the concatenated
   group results, reads the few columns it needs of the rows that matter
   (:func:`curate.stages.marks.take`) and applies its marks in a streaming pass
   (:func:`curate.stages.marks.apply_marks`).

P grows with the data (:attr:`KeyedGrouping.group_rows` keyed rows per partition), so a group
task's memory stays flat; the results do not depend on P or on the engine.
"""

from __future__ import annotations

import math
import shutil
from functools import partial
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING, Callable, ClassVar, Sequence

import polars as pl
import pyarrow as pa
import pyarrow.ipc as ipc

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
    counts = [sum(c[p] for c in signed) for p in range(parts)]
    todo = [p for p in range(parts) if counts[p]]
    # where partition p is in each piece's file: its record batch (one per partition it has)
    batches = [list(accumulate((1 if n else 0 for n in c), initial=0)) for c in signed]
    items = [(str(folder), p, [(piece.index, at[p], c[p]) for piece, c, at
                               in zip(pieces, signed, batches) if c[p]]) for p in todo]
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
    return f"{index:05d}.arrow"


def sign_piece(piece: Piece, *, stage: KeyedGrouping, ctx: StageContext, folder: str,
               parts: int, columns: list[str] | None,
               memory: FrameStore | None = None) -> list[int]:
    """One piece signed and spilled by partition (to ``memory`` when given); its keyed rows
    per partition."""
    keyed = stage.sign(piece.read(columns, positions=True), ctx)
    part = (pl.struct(list(stage.key)).hash(seed=0) % parts).cast(pl.Int64)
    counts = [0] * parts
    if keyed.height == 0:
        return counts
    keyed = keyed.with_columns(part.alias("__part")).sort("__part", maintain_order=True)
    for p, n in keyed.group_by("__part", maintain_order=True).len().iter_rows():
        counts[p] = n
    rows = keyed.drop("__part")
    sizes = [n for n in counts if n]
    if memory is not None:
        starts = accumulate(sizes, initial=0)
        for p, start in zip((p for p in range(parts) if counts[p]), starts):
            memory.writer(Path(folder) / _part_dir(p)).write(piece.index,
                                                              rows.slice(start, counts[p]))
        return counts
    _write_batches(rows, sizes, Path(folder) / _piece_file(piece.index))
    return counts


def _write_batches(rows: pl.DataFrame, sizes: list[int], path: Path) -> None:
    """``rows`` (in partition order) as one Arrow IPC file with a record batch per partition
    of ``sizes`` rows.

    A group task reads one batch of every piece's file: with parquet, each read parsed the
    file's footer and decoded its row groups, so that pieces x partitions reads made the group
    step grow with the square of the data (12x the time for 4x the records); a batch of a
    IPC file is read at its footer's offsets, without decoding the rest."""
    batch = rows.to_arrow().combine_chunks().to_batches()[0]
    # through a buffer: a file a library writes itself is slow to delete on some file systems
    sink = pa.BufferOutputStream()
    with ipc.new_file(sink, batch.schema,
                      options=ipc.IpcWriteOptions(compression="lz4")) as writer:
        for start, n in zip(accumulate(sizes, initial=0), sizes):
            writer.write_batch(batch.slice(start, n))
    path.write_bytes(sink.getvalue())


def group_partition(item: tuple[str, int, list[tuple[int, int, int]]], *,
                    stage: KeyedGrouping, memory: FrameStore | None = None) -> pl.DataFrame:
    """One partition's keyed rows (the keyed folder, the partition, and for each piece that
    spilled rows into it, in order, the piece, the partition's record batch in its file and
    its rows: so in ``__row`` order within a key), grouped."""
    folder, p, where = item
    if memory is not None:
        writer = memory.writer(Path(folder) / _part_dir(p))
        return stage.group(pl.concat([writer.read(i) for i, _, _ in where]))
    batches = []
    for i, k, _ in where:
        with pa.OSFile(str(Path(folder) / _piece_file(i))) as source:
            batches.append(ipc.open_file(source).get_batch(k))
    return stage.group(pl.from_arrow(pa.Table.from_batches(batches)))


def key_columns(schema: pl.Schema, *exprs: pl.Expr) -> list[str]:
    """The input columns ``exprs`` read (for :meth:`KeyedGrouping.sign_columns`)."""
    names: set[str] = set()
    for e in exprs:
        names.update(e.meta.root_names())
    return [c for c in schema if c in names]


def positions(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with each row's position as ``__row`` (Int64)."""
    return df.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))
