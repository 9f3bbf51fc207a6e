"""Parts held in memory: the frame API's input and outputs, without parquet round trips.

``stage.apply(df)`` on the local engine hands the stage a frame that is in memory already and
returns frames; writing it as parquet parts for the stage to read back, and its outputs for
the caller to read back, would cost more than some stages' own work. These classes give the
stage the same interface as data in storage (:mod:`curate.io.parts`), on frames:

- :class:`FrameParts` is a :class:`~curate.io.parts.Parts` whose "files" are slices of
  frames, cut as :func:`~curate.io.parts.write_parts` cuts files, so its pieces are the
  pieces the same frame would have in storage;
- :class:`FramePiece` is a :class:`~curate.io.parts.Piece` that reads its rows by slicing;
- :class:`FrameWriter` is a :class:`~curate.io.parts.PartWriter` that keeps each part as a
  frame; :class:`FrameStore` keeps one per folder, for a stage's outputs and scratch.

They work in one process only (a piece holds its frame): the local engine's frame API; runs
(``curate run``) and the Ray engine keep their data in storage.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import polars as pl

from .parts import PART_ROWS, ROW, Parts, Piece, common_schema, to_schema


@dataclass(frozen=True)
class FramePiece(Piece):
    """Rows ``[start, start + length)`` of ``frame`` (``file`` only names it)."""

    frame: pl.DataFrame = field(default=None, compare=False, repr=False)

    def read(self, columns: Sequence[str] | None = None, *,
             positions: bool = False) -> pl.DataFrame:
        df = self.frame if columns is None else self.frame.select(columns)
        df = df.slice(self.start, self.length)
        if positions:
            df = df.with_row_index(ROW, offset=self.offset).with_columns(
                pl.col(ROW).cast(pl.Int64))
        return df

    def schema(self) -> pl.Schema:
        return self.frame.schema


class FrameParts(Parts):
    """A dataset held as frames, one per part, in row order; see the module docs."""

    def __init__(self, frames: Sequence[pl.DataFrame], name: str = "<memory>"):
        self.frames = list(frames)
        self.path = Path(name)
        self._counts = [f.height for f in self.frames]

    @classmethod
    def of(cls, df: pl.DataFrame, rows: int = PART_ROWS) -> FrameParts:
        """``df`` cut into parts of at most ``rows`` rows, as :func:`write_parts` cuts it
        (slices: nothing copied)."""
        return cls([df.slice(start, rows) for start in range(0, max(df.height, 1), rows)])

    def __repr__(self) -> str:
        return f"FrameParts(parts={len(self.frames)}, rows={self.height})"

    @property
    def files(self):  # what reads files directly cannot take frames: fail, don't skip them
        raise TypeError("the parts are frames in memory, not files")

    def counts(self) -> list[int]:
        return self._counts

    @property
    def schema(self) -> pl.Schema:
        return self.frames[0].schema if self.frames else pl.Schema({})

    def scan(self) -> pl.LazyFrame:
        if not self.frames:
            return pl.LazyFrame()
        return self._whole().lazy()

    def read(self, columns: Sequence[str] | None = None) -> pl.DataFrame:
        if not self.frames:
            return pl.DataFrame()
        df = self._whole()
        return df if columns is None else df.select(columns)

    def _whole(self) -> pl.DataFrame:
        # relaxed: a part whose column came out all null (type Null) joins a typed one, as
        # a scan of such part files reads it (before finish() unifies them)
        return pl.concat(self.frames, how="vertical_relaxed", rechunk=False)

    def _piece(self, index: int, file: int, start: int, length: int, offset: int) -> Piece:
        return FramePiece(index, f"{self.path}/{file}", start, length, offset,
                          frame=self.frames[file])


class FrameWriter:
    """A :class:`~curate.io.parts.PartWriter` that keeps each part as a frame (in memory,
    for this process)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.frames: dict[int, pl.DataFrame] = {}

    def write(self, index: int, df: pl.DataFrame, **options) -> Path:
        self.frames[index] = df
        return self.folder / f"part-{index:05d}"

    def read(self, index: int) -> pl.DataFrame:
        return self.frames[index]

    def parts(self) -> FrameParts:
        return FrameParts([self.frames[i] for i in sorted(self.frames)], str(self.folder))

    def clear(self) -> None:
        self.frames.clear()

    def finish(self, schema: pl.Schema | dict | None = None) -> FrameParts:
        """As :meth:`PartWriter.finish`: every part in one schema, one empty part with
        ``schema`` if nothing was written."""
        if not self.frames:
            self.frames[0] = pl.DataFrame(schema=schema or {})
        order = sorted(self.frames)
        common = common_schema([self.frames[i].schema for i in order])
        if common is not None:
            for i in order:
                if not (dict(self.frames[i].schema) == common
                        and list(self.frames[i].schema) == list(common)):
                    self.frames[i] = to_schema(self.frames[i], common)
        return self.parts()


class FrameStore:
    """One :class:`FrameWriter` per folder: where a stage's outputs and scratch parts go
    when its data is in memory (see :meth:`curate.stages.results.StageData.writer`)."""

    def __init__(self):
        self._writers: dict[Path, FrameWriter] = {}
        self._lock = threading.Lock()  # pieces may run on threads

    def writer(self, folder: str | Path) -> FrameWriter:
        with self._lock:
            return self._writers.setdefault(Path(folder), FrameWriter(folder))
