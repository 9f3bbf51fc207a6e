"""One input file converted on a worker: its rows (or documents) read in batches, converted and
written as batch files of at most ``rows`` records, the rejected rows beside them, and the
compact keys of the records kept (see :mod:`curate.convert.stream` for the whole input)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ..errors import CurateError
from ..io import iter_file
from ..io.docs import read_file_documents
from ..io.encoding import UTF8
from ..io.parquet import write_parquet
from ..io.parts import PART_ROWS
from ..io.remote import RemoteFile
from ..records import records_to_frame
from .columns import ColumnMap
from .converter import ON_ERROR_HINT, Converter
from .dataset import DATASET, named_error
from .detect import FORCED
from .documents import DocStats

REJECTED_SCHEMA = {"file": pl.String, "line": pl.Int64, "field": pl.String,
                   "drop_reason": pl.String, "detail": pl.String, "raw": pl.String}
KEYS_SCHEMA = {"gid": pl.String, "line": pl.Int64, "base": pl.UInt64}
FRAME_ROWS = 8192  # records held as dicts before they become a frame


@dataclass(frozen=True)
class Settings:
    """How the files are read (picklable: format by name)."""

    format: str = "auto"
    kind: str | None = None
    on_error: str = "raise"
    columns: ColumnMap | None = None
    encoding: str = UTF8
    hint: str = ON_ERROR_HINT
    dataset: str | None = None  # the named input these files are (column ``dataset``)


@dataclass(frozen=True)
class FileTask:
    index: int
    entry: Path | RemoteFile
    doc: bool
    settings: Settings
    scratch: str
    rows: int = PART_ROWS
    limit: int | None = None
    track: frozenset[str] | None = frozenset()  # given ids checked for repeats (None: all)
    seen: tuple[tuple[str, int], ...] = ()  # tracked ids used before this file, with their line


@dataclass
class FileResult:
    index: int
    limit: int | None = None
    read: int = 0
    kept: list[tuple[str, int]] = field(default_factory=list)      # (batch file, rows)
    rejected: list[tuple[str, int]] = field(default_factory=list)
    drops: dict[str, int] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)  # tracked ids used, with their line
    documents: DocStats = field(default_factory=DocStats)

    @property
    def rows_out(self) -> int:
        return sum(n for _, n in self.kept)


class _Sink:
    """One file's outputs, written as batch files of at most ``rows`` rows."""

    def __init__(self, task: FileTask):
        self.task, self.res = task, FileResult(task.index)
        self.root = Path(task.scratch)
        self.frames: list[pl.DataFrame] = []
        self.keys: dict[str, list] = {c: [] for c in KEYS_SCHEMA}
        self.rejected: list[pl.DataFrame] = []
        self.held = self.held_rejected = 0

    def _name(self, kind: str, n: int) -> Path:
        return self.root / kind / f"f{self.task.index:06d}-{n:06d}.parquet"

    def add(self, conv: Converter, *, final: bool = False) -> None:
        """Take the converter's records and rejected rows; write what makes a whole part."""
        records, lines, rejected = conv.take()
        if records:
            for rec, line in zip(records, lines):
                base = rec.pop("__base", False)
                self.keys["gid"].append(None if base else rec["id"])
                self.keys["line"].append(line)
                self.keys["base"].append(int(rec["id"], 16) if base else None)
            frame = records_to_frame(records)
            if self.task.settings.dataset is not None:
                frame = frame.with_columns(pl.lit(self.task.settings.dataset, pl.String)
                                           .alias(DATASET))
            self.frames.append(frame)
            self.held += len(records)
        if rejected["file"]:
            frame = pl.DataFrame(rejected, schema=REJECTED_SCHEMA)
            if self.task.settings.dataset is not None:
                frame = frame.with_columns(pl.lit(self.task.settings.dataset, pl.String)
                                           .alias(DATASET))
            self.rejected.append(frame)
            self.held_rejected += len(rejected["file"])
            for r in rejected["drop_reason"]:
                self.res.drops[r] = self.res.drops.get(r, 0) + 1
        while self.held >= self.task.rows or (final and self.held):
            self._write_kept()
        while self.held_rejected >= self.task.rows or (final and self.held_rejected):
            self._write_rejected()

    def _write_kept(self) -> None:
        rows = self.task.rows
        df = pl.concat(self.frames) if len(self.frames) > 1 else self.frames[0]
        head, rest = df.slice(0, rows), df.slice(rows)
        keys = pl.DataFrame({c: v[:rows] for c, v in self.keys.items()}, schema=KEYS_SCHEMA)
        self.keys = {c: v[rows:] for c, v in self.keys.items()}
        n = len(self.res.kept)
        for kind, frame in (("kept", head), ("keys", keys)):
            path = self._name(kind, n)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_parquet(frame, path, compression="lz4")
        self.res.kept.append((self._name("kept", n).name, head.height))
        self.frames = [rest] if rest.height else []
        self.held = rest.height

    def _write_rejected(self) -> None:
        rows = self.task.rows
        df = pl.concat(self.rejected) if len(self.rejected) > 1 else self.rejected[0]
        head, rest = df.slice(0, rows), df.slice(rows)
        n = len(self.res.rejected)
        path = self._name("rejected", n)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_parquet(head, path, compression="lz4")
        self.res.rejected.append((path.name, head.height))
        self.rejected = [rest] if rest.height else []
        self.held_rejected = rest.height


def convert_file(task: FileTask) -> FileResult:
    """Convert one input file into batch files under ``task.scratch`` (see the module doc)."""
    s = task.settings
    if s.dataset is None:
        return _convert_file(task)
    try:
        return _convert_file(task)
    except CurateError as exc:  # which input, with the file and line the error names
        raise named_error(exc, s.dataset) from None


def _convert_file(task: FileTask) -> FileResult:
    s = task.settings
    conv = Converter(FORCED.get(s.format), s.kind, s.on_error, task.limit, s.columns, s.hint,
                     track=task.track, dataset=s.dataset)
    conv.ids.update(task.seen)
    sink = _Sink(task)
    step = min(FRAME_ROWS, task.rows)
    if task.doc:  # a file of documents (an archive holds many), each read as it comes
        for doc in read_file_documents(task.entry, str(task.entry), encoding=s.encoding):
            if conv.full():
                break
            conv.document(doc, passages=s.format == "passages")
            if len(conv.kept) >= step or len(conv.rejected["file"]) >= step:
                sink.add(conv)
    else:
        for raw in iter_file(task.entry, encoding=s.encoding):
            if conv.full():
                break
            conv.row(raw)
            if len(conv.kept) >= step or len(conv.rejected["file"]) >= step:
                sink.add(conv)
    sink.add(conv, final=True)
    res = sink.res
    res.read, res.formats, res.columns = conv.read, conv.formats, conv.columns
    res.documents = conv.docs
    res.limit = task.limit
    if task.track:
        res.ids = conv.ids
    return res
