"""Conversion in bounded memory: input files into part folders, each file read by a worker.

    res = convert_parts("data/", kept_dir, rejected_dir, engine=engine)
    res.kept, res.rejected                     # Parts: folders of part files
    res.rows_in, res.rows_out, res.drops       # counts; res.formats, res.columns per file

Each input file is one picklable :class:`~curate.convert.file_task.FileTask` that
``engine.map`` runs (in this process, or as a Ray task on a worker that shares the run
folder's storage). It reads its rows in
batches (parquet by row groups and batches, JSON Lines by lines), converts them with a
:class:`~curate.convert.converter.Converter` and writes the records as part files of at most
``rows`` rows (``f<file>-<batch>.parquet`` in a scratch folder), the rejected rows beside them,
and compact keys of the records kept (given id, line, base id) for what only the whole input
decides:

- an id given on rows of two files (or twice in one file): the files holding such an id are
  converted again, in file order, checking those ids as one process would (the later row is
  ``duplicate_id``, or the error that stops the run);
- identical content from one source, repeated: the n-th repeat gets ``n`` mixed into its id
  (:func:`curate.records.assign_ids`), set in the parts that hold repeats.

Then the batches become ``part-00000.parquet`` ... in (file, batch) order (consecutive small
batches, from small files, joined into one part of at most ``rows`` rows): the layout depends
on the input and ``rows`` alone, not on the engine. The records and ids are the ones
that one process reading every file in order makes. With ``limit`` the files are converted one
after another in this process until ``limit`` rows are read.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import polars as pl

from ..errors import InputError
from ..in_process import processes_for
from ..io import input_files
from ..io.docs import is_doc_file
from ..io.parquet import write_parquet
from ..io.parts import PART_ROWS, Parts, PartWriter, part_name
from ..progress import bar
from ..record_schema import RECORD_SCHEMA
from ..records import frame_to_records, record_id
from .dataset import DATASET, id_source
from .documents import DocStats
from .file_task import REJECTED_SCHEMA, FileResult, FileTask, Settings, convert_file


@dataclass
class PartsResult:
    kept: Parts
    rejected: Parts
    rows_in: int
    rows_out: int
    drops: dict[str, int]
    formats: dict[str, str] = field(default_factory=dict)  # file -> format used
    columns: dict[str, str] = field(default_factory=dict)  # file -> column map
    # documents read, pages, characters, rejected files (DocStats.as_dict); {} without any
    documents: dict = field(default_factory=dict)


def file_tasks(path: str | Path, settings: Settings, scratch: Path,
               rows: int = PART_ROWS) -> list[FileTask]:
    """The tasks of the files a dataset argument covers that ``settings.format`` reads."""
    fmt = settings.format
    tasks = []
    for entry in input_files(path):
        doc = entry.is_file() and is_doc_file(entry)
        if doc and fmt not in ("auto", "docs", "passages") or not doc and fmt == "docs":
            continue
        tasks.append(FileTask(len(tasks), entry, doc, settings, str(scratch), rows))
    return tasks


def convert_files(path: str | Path | None, kept_dir: Path, rejected_dir: Path, *, engine,
                  settings: Settings | None = None, limit: int | None = None,
                  rows: int = PART_ROWS, scratch: Path | None = None,
                  tasks=None) -> PartsResult:
    """The files of ``path`` converted into ``kept_dir`` and ``rejected_dir`` (see the module
    doc), or the files of several named inputs given as ``tasks(scratch)`` (see
    :mod:`curate.convert.inputs`); ``scratch``: a folder for the batches (removed after;
    default: beside kept_dir)."""
    kept_dir, rejected_dir = Path(kept_dir), Path(rejected_dir)
    own_scratch = scratch is None
    scratch = Path(scratch) if scratch is not None else kept_dir.with_name(
        f".{kept_dir.name}.convert")
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    try:
        named = tasks is not None
        if tasks is not None:
            tasks = tasks(scratch)
        else:
            tasks = file_tasks(path, settings, scratch, rows)
            if not tasks and limit != 0:
                what = "document" if settings.format == "docs" else "row"
                raise InputError(f"no {what} files to read for format {settings.format}",
                                 file=str(path))
        results = _run(engine, tasks, limit)
        results = _recheck_ids(engine, tasks, results, scratch)
        kept, rejected = _assemble(results, scratch, kept_dir, rejected_dir, rows, named)
        _number_repeats(engine, results, scratch, kept)
    finally:
        if own_scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    drops: dict[str, int] = {}
    formats: dict[str, str] = {}
    columns: dict[str, str] = {}
    documents = DocStats()
    for r in results:
        for k, v in r.drops.items():
            drops[k] = drops.get(k, 0) + v
        formats.update(r.formats)
        columns.update(r.columns)
        documents.merge(r.documents)
    return PartsResult(kept, rejected, sum(r.read for r in results),
                       sum(r.rows_out for r in results), dict(sorted(drops.items())),
                       formats, columns, documents.as_dict())


def _size(task: FileTask) -> int:
    """Bytes of a task's file (0 where unknown)."""
    entry = task.entry
    if isinstance(entry, Path):
        return entry.stat().st_size if entry.is_file() else 0
    return int(entry.info.get("size") or 0)


def _run(engine, tasks: list[FileTask], limit: int | None) -> list[FileResult]:
    if limit is None:
        return engine.map(convert_file, tasks, desc="convert",
                          processes=processes_for(size=sum(map(_size, tasks))))
    results, left = [], limit
    with bar(total=limit, desc="convert") as progress:
        for task in tasks:
            if left <= 0:
                break
            res = convert_file(replace(task, limit=left))
            results.append(res)
            left -= res.read
            progress.update(res.read)
    return results


def _keys(scratch: Path, results: list[FileResult]) -> pl.LazyFrame | None:
    """The compact keys of every kept record, in order, with ``file`` and position ``pos``."""
    frames = [pl.scan_parquet(scratch / "keys" / name).with_columns(file=pl.lit(r.index))
              for r in results for name, _ in r.kept]
    if not frames:
        return None
    return pl.concat(frames).with_row_index("pos")


BUCKET_ROWS = 2_000_000  # rows a repeat search groups at once (a hash table of that many keys)


def by_buckets(lf: pl.LazyFrame, column: str, rows: int,
               query: Callable[[pl.LazyFrame], pl.LazyFrame]) -> pl.DataFrame:
    """``query`` of the rows of ``lf`` in buckets of the hash ``column`` (rows with equal
    values share a bucket), each bucket's results after the other's: a grouping over ``rows``
    rows holds the keys of one bucket at a time."""
    buckets = max(1, -(-rows // BUCKET_ROWS))
    if buckets == 1:
        return query(lf).collect(engine="streaming")
    return pl.concat([query(lf.filter(pl.col(column) % buckets == b)).collect(
        engine="streaming") for b in range(buckets)])


def _rows(results: list[FileResult]) -> int:
    return sum(n for r in results for _, n in r.kept)


def _recheck_ids(engine, tasks: list[FileTask], results: list[FileResult],
                 scratch: Path) -> list[FileResult]:
    """Ids given on more than one input row: the files that hold them converted again, in
    file order, with those ids checked as one process would."""
    keys = _keys(scratch, results)
    if keys is None:
        return results
    given = keys.filter(pl.col("gid").is_not_null())
    # compact first (a hash per row), then the ids of the few hashes seen twice
    hashed = given.select(pl.col("gid").hash(seed=0).alias("h"), "file", "line")
    twice = by_buckets(hashed, "h", _rows(results), lambda lf: (
        lf.group_by("h").agg(pl.struct("file", "line").n_unique().alias("n"))
        .filter(pl.col("n") > 1).select("h")))
    if twice.height == 0:
        return results
    rows = (given.with_columns(h=pl.col("gid").hash(seed=0)).join(twice.lazy(), on="h")
            .group_by("gid").agg(pl.struct("file", "line").n_unique().alias("n"),
                                 pl.col("file").unique().alias("files"))
            .filter(pl.col("n") > 1).collect())
    if rows.height == 0:
        return results
    track = frozenset(rows["gid"].to_list())
    files = sorted({f for fs in rows["files"].to_list() for f in fs})
    by_index = {r.index: i for i, r in enumerate(results)}
    out = list(results)
    seen: dict[str, int] = {}
    for f in files:  # in file order: an id's first row is the one kept
        old = out[by_index[f]]
        for kind, names in (("kept", old.kept), ("keys", old.kept), ("rejected", old.rejected)):
            for name, _ in names:
                (scratch / kind / name).unlink()
        new = convert_file(replace(tasks[f], limit=old.limit, track=track,
                                   seen=tuple(seen.items())))
        seen = new.ids
        out[by_index[f]] = new
    return out


def _assemble(results: list[FileResult], scratch: Path, kept_dir: Path,
              rejected_dir: Path, rows: int, named: bool = False) -> tuple[Parts, Parts]:
    out = []
    extra = {DATASET: pl.String} if named else {}
    for kind, folder, schema in (("kept", kept_dir, {**RECORD_SCHEMA, **extra}),
                                 ("rejected", rejected_dir, {**REJECTED_SCHEMA, **extra})):
        writer = PartWriter(folder)
        writer.clear()
        batches = [(scratch / kind / name, n) for r in results for name, n in getattr(r, kind)]
        for i, group in enumerate(_groups(batches, rows)):
            if len(group) == 1:
                os.replace(group[0], folder / part_name(i))
            else:  # the batches of small files, read together as one part
                writer.write(i, pl.concat([pl.read_parquet(f) for f in group]))
        out.append(writer.finish(schema))
    return out[0], out[1]


def _groups(batches: list[tuple[Path, int]], rows: int) -> list[list[Path]]:
    """Consecutive batches that together hold at most ``rows`` rows (small files make small
    batches: a folder of many small files still gives parts of useful size)."""
    groups: list[list[Path]] = []
    held = rows + 1
    for path, n in batches:
        if held + n > rows:
            groups.append([])
            held = 0
        groups[-1].append(path)
        held += n
    return groups


def _number_repeats(engine, results: list[FileResult], scratch: Path, kept: Parts) -> None:
    """The n-th repeat of identical content from one source gets ``n`` mixed into its id, as
    :func:`curate.records.assign_ids` does over the whole input."""
    keys = _keys(scratch, results)
    if keys is None:
        return
    based = keys.filter(pl.col("base").is_not_null()).select("pos", "base")

    def repeated(lf: pl.LazyFrame) -> pl.LazyFrame:
        twice = lf.group_by("base").len().filter(pl.col("len") > 1).select("base")
        return (lf.join(twice, on="base").sort("pos")
                .with_columns(n=pl.col("pos").cum_count().over("base") - 1)
                .filter(pl.col("n") > 0).select("pos", "n"))

    repeats = by_buckets(based, "base", _rows(results), repeated).sort("pos")
    if repeats.height == 0:
        return
    import bisect

    starts, offset = [], 0
    for n in kept.counts():
        starts.append(offset)
        offset += n

    work: dict[int, list[tuple[int, int]]] = {}
    for pos, n in repeats.iter_rows():
        i = bisect.bisect_right(starts, pos) - 1
        work.setdefault(i, []).append((pos - starts[i], n))
    items = [(str(kept.files[i]), marks) for i, marks in sorted(work.items())]
    engine.map(_renumber, items, desc="convert ids")


def _renumber(item: tuple[str, list[tuple[int, int]]]) -> None:
    """Set the ids of the repeats in one part: ``record_id(source, record, n)``."""
    path, marks = item
    df = pl.read_parquet(path)
    ids = df["id"].to_list()
    rows = [i for i, _ in marks]
    records = frame_to_records(df[rows])
    names = df[DATASET][rows].to_list() if DATASET in df.columns else [None] * len(rows)
    for (i, n), rec, name in zip(marks, records, names):
        ids[i] = record_id(id_source(rec["source"], name), rec, n)
    df = df.with_columns(pl.Series("id", ids, dtype=pl.String))
    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp")
    write_parquet(df, tmp, compression="lz4")
    os.replace(tmp, p)
