"""Named inputs that include record inputs (run folders, records parquet, part folders).

The inputs are converted in runs: consecutive row/document inputs together (as one input's
files, :func:`curate.convert.inputs.convert_named_files`), each record input on its own
(:func:`curate.convert.record_input.convert_record_input`, its parts given the column
``dataset``: the name of the input in this run, replacing one an earlier run set). The runs'
parts are then numbered in input order into the output folders. Ids are the records' own, so
an id found in two inputs is an error that names both (checked on the id column alone, by
hash first).
"""

from __future__ import annotations

import os
import shutil
from functools import partial
from pathlib import Path

import polars as pl

from ..errors import CurateError
from ..io import is_record_input
from ..io.parquet import write_parquet
from ..io.parts import PartWriter, Parts, part_name
from ..record_schema import RECORD_SCHEMA
from .dataset import DATASET, named_error
from .named_files import convert_named_files
from .file_task import REJECTED_SCHEMA
from .record_input import convert_record_input
from .stream import PartsResult


def convert_with_records(sources, settings, kept_dir: Path, rejected_dir: Path, *, engine,
                         limit: int | None, rows: int, scratch: Path | None) -> PartsResult:
    root = scratch if scratch is not None else kept_dir.with_name(f".{kept_dir.name}.inputs")
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    try:
        results, left = [], limit
        for j, group in enumerate(_groups(sources)):
            if left is not None and left <= 0:
                break
            k, r = root / f"s{j}" / "kept", root / f"s{j}" / "rejected"
            first = group[0]
            if is_record_input(sources[first].path):
                s = sources[first]
                try:
                    res = convert_record_input(s.path, k, r, engine=engine, kind=s.kind,
                                               limit=left, rows=rows)
                except CurateError as exc:
                    raise named_error(exc, s.name) from None
                engine.map(partial(_stamp, name=s.name),
                           [str(f) for f in (*res.kept.files, *res.rejected.files)],
                           desc="convert")
            else:
                res = convert_named_files([sources[i] for i in group],
                                          [settings[i] for i in group], k, r, engine=engine,
                                          limit=left, rows=rows, scratch=root / f"s{j}" / "tmp")
            results.append(res)
            if left is not None:
                left -= res.rows_in
        kept = _join([res.kept for res in results], kept_dir,
                     {**RECORD_SCHEMA, DATASET: pl.String})
        rejected = _join([res.rejected for res in results], rejected_dir,
                         {**REJECTED_SCHEMA, DATASET: pl.String})
    finally:
        shutil.rmtree(root, ignore_errors=True)
    _check_ids(kept)
    out = PartsResult(kept, rejected, 0, 0, {})
    for res in results:
        out.rows_in += res.rows_in
        out.rows_out += res.rows_out
        for k, v in res.drops.items():
            out.drops[k] = out.drops.get(k, 0) + v
        out.formats.update(res.formats)
        out.columns.update(res.columns)
        for k, v in res.documents.items():
            out.documents[k] = out.documents[k] + v if k in out.documents else v
    out.drops = dict(sorted(out.drops.items()))
    return out


def _groups(sources) -> list[list[int]]:
    """Input positions in runs: consecutive row inputs together, each record input alone."""
    groups: list[list[int]] = []
    for i, s in enumerate(sources):
        if is_record_input(s.path) or not groups or is_record_input(sources[groups[-1][0]].path):
            groups.append([i])
        else:
            groups[-1].append(i)
    return groups


def _stamp(path: str, *, name: str) -> None:
    """A part with the column ``dataset`` set to ``name``."""
    df = pl.read_parquet(path)
    df = df.with_columns(pl.lit(name, pl.String).alias(DATASET))
    tmp = Path(path).with_name(f".{Path(path).name}.tmp")
    write_parquet(df, tmp, compression="lz4")
    os.replace(tmp, path)


def _join(parts: list[Parts], folder: Path, schema) -> Parts:
    """The non-empty parts of several part folders, in order, as ``folder``'s parts."""
    writer = PartWriter(folder)
    writer.clear()
    i = 0
    for p in parts:
        for f, n in zip(p.files, p.counts()):
            if n:
                os.replace(f, folder / part_name(i))
                i += 1
    return writer.finish(schema)


def _check_ids(kept: Parts) -> None:
    """Every id once: a run folder's ids next to another input's could repeat."""
    ids = kept.scan().select("id", DATASET).with_row_index("__i")
    twice = (ids.select(pl.col("id").hash(seed=0).alias("h")).group_by("h").len()
             .filter(pl.col("len") > 1).collect(engine="streaming"))
    if twice.height == 0:
        return
    found = (ids.with_columns(h=pl.col("id").hash(seed=0)).join(twice.lazy(), on="h")
             .group_by("id").agg(pl.len().alias("n"), pl.col(DATASET).sort_by("__i"))
             .filter(pl.col("n") > 1).sort("id").collect())
    for rid, _, names in found.iter_rows():
        where = " and ".join(dict.fromkeys(names))
        raise CurateError(f"id {rid!r} is in {'input ' if len(set(names)) == 1 else 'inputs '}"
                          f"{where} more than once; ids are unique in a dataset (drop the "
                          "copy from one input, or convert it without its ids)")
