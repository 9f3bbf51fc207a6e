"""A run's data in storage: one parquet file or a folder of part files, read and written in pieces.

Every ``*.parquet`` path of a run (``data.parquet``, ``stages/NN_<stage>.parquet``,
``rejected/NN_<stage>.parquet``) is either one file or a folder of that name holding
``part-00000.parquet``, ``part-00001.parquet``, ...; rows keep their order across parts (by
part name), and ``pl.read_parquet``, ``pl.scan_parquet``, ``pyarrow.parquet.read_table`` and
``datasets.load_dataset("parquet", data_files="DIR/*.parquet")`` read a folder as one table.

    parts = Parts(run / "stages" / "01_rules.parquet")
    parts.height                     # rows, from the parquet footers (no data read)
    for piece in parts.pieces():     # bounded units of work, in row order
        batch = piece.read()         # at most PART_ROWS rows
    writer = PartWriter(folder)      # each piece's output as part-<index>.parquet
    writer.write(piece.index, kept)
    writer.finish()                  # a Parts; schemas unified, an empty part if none

A :class:`Piece` is a picklable description (file, first row, row count, position of its first
row in the whole dataset), so engines can hand pieces to other processes or nodes, which read
and write them on storage they share with the driver.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import polars as pl

from .parquet import write_parquet

PART_ROWS = 50_000  # rows per piece: a piece of 60-word records is about 20 MB in memory
ROW = "__row"  # a row's position in the whole dataset, where a step needs one
_PART = re.compile(r"^part-(\d+)\.parquet$")


def part_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


@dataclass(frozen=True)
class Piece:
    """Rows ``[start, start + length)`` of one parquet ``file``; ``offset``: the position of
    its first row in the whole dataset; ``index``: its number, which names its outputs."""

    index: int
    file: str
    start: int
    length: int
    offset: int

    def read(self, columns: Sequence[str] | None = None, *,
             positions: bool = False) -> pl.DataFrame:
        """The piece's rows (only ``columns`` if given); with ``positions``, their position in
        the whole dataset as ``__row`` (Int64), first."""
        lf = pl.scan_parquet(self.file)
        if columns is not None:
            lf = lf.select(columns)
        df = lf.slice(self.start, self.length).collect()
        if positions:
            df = df.with_row_index(ROW, offset=self.offset).with_columns(
                pl.col(ROW).cast(pl.Int64))
        return df

    def schema(self) -> pl.Schema:
        """The columns of the piece's file (no data read)."""
        return pl.scan_parquet(self.file).collect_schema()

    @property
    def rows(self) -> range:
        """The positions of its rows in the whole dataset."""
        return range(self.offset, self.offset + self.length)


def part_files(path: str | Path) -> list[Path]:
    """The parquet files of ``path``: itself, or a folder's ``*.parquet`` files in order."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.iterdir()
                      if p.suffix == ".parquet" and p.is_file() and not p.name.startswith("."))
    return [path]


class Parts:
    """A dataset stored as one parquet file or a folder of part files; see the module docs."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"{self.path}: no such file or folder")
        self.files = part_files(self.path)
        self._counts: list[int] | None = None

    def __repr__(self) -> str:
        return f"Parts({str(self.path)!r}, files={len(self.files)})"

    def counts(self) -> list[int]:
        """Rows per file, from the footers."""
        if self._counts is None:  # polars answers a count from the footer
            self._counts = [pl.scan_parquet(f).select(pl.len()).collect().item()
                            for f in self.files]
        return self._counts

    @property
    def height(self) -> int:
        return sum(self.counts())

    @property
    def schema(self) -> pl.Schema:
        if not self.files:
            return pl.Schema({})
        return pl.scan_parquet(self.files[0]).collect_schema()

    @property
    def columns(self) -> list[str]:
        return list(self.schema)

    def scan(self) -> pl.LazyFrame:
        """All rows, lazily (polars reads only what a query needs)."""
        if not self.files:
            return pl.LazyFrame()
        return pl.scan_parquet([str(f) for f in self.files])

    def read(self, columns: Sequence[str] | None = None) -> pl.DataFrame:
        """All rows in memory: for small data, tests and results a user asked to see."""
        lf = self.scan()
        return (lf.select(columns) if columns is not None else lf).collect()

    def pieces(self, rows: int = PART_ROWS) -> list[Piece]:
        """Pieces of at most ``rows`` rows covering every row in order; a dataset without rows
        has one empty piece (so a step still sees its schema)."""
        out: list[Piece] = []
        offset = 0
        counts = self.counts()
        for k, n in enumerate(counts):
            for start in range(0, n, max(1, rows)):
                length = min(rows, n - start)
                out.append(self._piece(len(out), k, start, length, offset))
                offset += length
        if not out and counts:
            out.append(self._piece(0, 0, 0, 0, 0))
        return out

    def _piece(self, index: int, file: int, start: int, length: int, offset: int) -> Piece:
        return Piece(index, str(self.files[file]), start, length, offset)

    def iter_batches(self, rows: int = PART_ROWS, columns: Sequence[str] | None = None,
                     *, positions: bool = False) -> Iterator[pl.DataFrame]:
        for piece in self.pieces(rows):
            if piece.length or piece.index == 0:
                yield piece.read(columns, positions=positions)


class PartWriter:
    """Writes a dataset as a folder of part files, one per piece index, from any process that
    sees ``folder``. Writes are atomic (a part is whole or absent)."""

    def __init__(self, folder: str | Path, *, compression: str = "lz4"):
        self.folder = Path(folder)
        self.compression = compression
        self.folder.mkdir(parents=True, exist_ok=True)

    def write(self, index: int, df: pl.DataFrame, **options) -> Path:
        """``df`` as the part ``index`` (``options``: of ``DataFrame.write_parquet``)."""
        path = self.folder / part_name(index)
        tmp = self.folder / f".{part_name(index)}.tmp"
        try:
            write_parquet(df, tmp, compression=self.compression, **options)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        os.replace(tmp, path)
        return path

    def read(self, index: int) -> pl.DataFrame:
        """The part ``index`` written before."""
        return pl.read_parquet(self.folder / part_name(index))

    def parts(self) -> Parts:
        """What was written so far, as it is (see :meth:`finish`)."""
        return Parts(self.folder)

    def clear(self) -> None:
        """Remove the part files (and unfinished ones) a writer wrote here before."""
        for p in self.folder.iterdir():
            if _PART.match(p.name) or (p.name.startswith(".part-") and p.name.endswith(".tmp")):
                p.unlink()

    def finish(self, schema: pl.Schema | dict | None = None) -> Parts:
        """The written dataset, with every part in one schema (a part whose column came out
        all-null or in a narrower type is rewritten cast to the common type) and one empty
        part with ``schema`` if nothing was written."""
        parts = sorted(p for p in self.folder.iterdir() if _PART.match(p.name))
        if not parts:
            empty = pl.DataFrame(schema=schema or {})
            self.write(0, empty)
            return Parts(self.folder)
        unify_schemas(parts)
        return Parts(self.folder)


def unify_schemas(files: list[Path]) -> None:
    """Rewrite the parts whose schema differs from the common one (polars' supertypes; a
    column missing from a part is added as nulls), so that every reader takes the folder as
    one table."""
    schemas = [pl.scan_parquet(f).collect_schema() for f in files]
    common = common_schema(schemas)
    if common is None:
        return
    for f, s in zip(files, schemas):
        if not (dict(s) == common and list(s) == list(common)):
            PartWriter(f.parent).write(int(_PART.match(f.name).group(1)),
                                       to_schema(pl.read_parquet(f), common))


def common_schema(schemas: Sequence[pl.Schema]) -> dict[str, pl.DataType] | None:
    """The one schema of parts with ``schemas`` (polars' supertypes, a column's first place);
    None when they are all the same already."""
    if all(s == schemas[0] for s in schemas):
        return None
    common: dict[str, pl.DataType] = {}
    for s in schemas:
        for name, dtype in s.items():
            have = common.get(name)
            if have is None or have == pl.Null:
                common[name] = dtype
            elif dtype != have and dtype != pl.Null:
                common[name] = _supertype(have, dtype)
    return common


def to_schema(df: pl.DataFrame, common: dict[str, pl.DataType]) -> pl.DataFrame:
    """``df`` in the schema ``common`` (a column it lacks added as nulls)."""
    df = df.with_columns([pl.lit(None, dtype).alias(n) for n, dtype in common.items()
                          if n not in df.columns])
    return df.select(list(common)).cast(common)


def _supertype(a: pl.DataType, b: pl.DataType) -> pl.DataType:
    probe = pl.concat([pl.Series([], dtype=a).to_frame("x"), pl.Series([], dtype=b).to_frame("x")],
                      how="vertical_relaxed")
    return probe.schema["x"]


def write_parts(df: pl.DataFrame, folder: str | Path, rows: int = PART_ROWS, *,
                compression: str = "lz4") -> Parts:
    """``df`` as a folder of parts of at most ``rows`` rows (tests and the frame API)."""
    writer = PartWriter(folder, compression=compression)
    for i, start in enumerate(range(0, max(df.height, 1), rows)):
        writer.write(i, df.slice(start, rows))
    return writer.finish(df.schema)
