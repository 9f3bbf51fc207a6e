"""Dedup against references, the stages' side: ``against: {v1: PATH}`` on ``dedup.exact``,
``dedup.near`` and ``dedup.semantic`` (the index itself: :mod:`curate.dedup.reference`).

A new record that duplicates a record of a reference (by the stage's own comparison: same
``on`` part, same key, same threshold) is removed with reason ``duplicate_of_reference`` and
``duplicate_of`` = ``NAME:<the reference record's id>`` (the first reference in ``against``
order that it duplicates, and there its first record). Such records take no part in the
clusters of duplicates among the new records: a record that duplicates both a reference and
another new record goes as the reference's duplicate, and a new record that only duplicates
that one is then not a duplicate of anything kept, so it stays (unless it duplicates another
new record, which is ordinary dedup with its own reason).

Keyed stages (exact, near) find the matches in the same pass as their own grouping: their
``sign`` also looks its keyed rows up in the references' sorted keys
(:func:`match_keyed`, :func:`curate.dedup.reference.lookup`) and writes the few matches
beside the stage's scratch files.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import Field, field_validator

from ..dedup.reference import (DUPLICATE_OF, REF_INDEX, REF_ROW, ReferenceIndex, building,
                               content_digest, first_matches, index_folder, lookup, open_index,
                               publish, reference_files, rows_of_pieces)
from ..errors import CurateError
from ..io.dispatch import is_record_input, record_parts
from ..io.parts import Parts, ROW, part_name
from ..io.remote import is_url
from .base import StageContext, StageData, StageOptions, StageOutput
from .dedup_keep import Keep
from .keyed import group_by_key

_NAME = re.compile(r"^[^\s:]+$")


class ReferenceOptions(StageOptions):
    """Options of every dedup stage: which copy survives, and references to dedup against."""

    keep: Keep = "first"
    """Which record of a cluster survives: ``first`` (input order), ``longest`` (longest
    compared text), the name of a numeric column (highest value; nulls last), or
    ``{prefer: [INPUT, ...], then: first|longest|COLUMN}`` (the copy from the most preferred
    input, by the ``dataset`` column; ``--prefer`` on the command line)."""
    against: dict[str, str] = Field(default_factory=dict, examples=[{"v1": "runs/v1"}],
                                    json_schema_extra={"path": "values"})
    """Reference datasets as NAME=PATH (a run folder, an exported split, a saved HF dataset,
    JSON Lines...): records that duplicate one of theirs are removed with reason
    ``duplicate_of_reference`` and ``duplicate_of`` = NAME:<id>."""

    @field_validator("against")
    @classmethod
    def _names(cls, against: dict[str, str]) -> dict[str, str]:
        for name in against:
            if not _NAME.match(name):
                raise ValueError(f"reference name {name!r}: expected a word without spaces "
                                 "or ':'")
        return against


@dataclass
class Against:
    """The references of a stage's run and the new rows matching them: ``candidates``
    (``__row``, ``__refidx``, ``__ref``) before any check the stage makes."""

    indexes: list[ReferenceIndex]
    candidates: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(
        schema={ROW: pl.Int64, REF_INDEX: pl.Int32, REF_ROW: pl.Int64}))

    def marks(self, engine, matches: pl.DataFrame, desc: str) -> pl.DataFrame:
        """``__row`` and ``duplicate_of`` of the rows in ``matches`` (confirmed candidates),
        one each (see :func:`curate.dedup.reference.first_matches`); the ids read from the
        references' records."""
        first = first_matches(matches)
        out = [pl.DataFrame(schema={ROW: pl.Int64, DUPLICATE_OF: pl.String})]
        for k, index in enumerate(self.indexes):
            mine = first.filter(pl.col(REF_INDEX) == k)
            if mine.height:
                ids = read_rows(engine, index.records(), mine[REF_ROW].to_numpy(), "id",
                                desc=f"{desc} {index.name} ids")
                named = mine.join(ids, on=REF_ROW, how="left")
                out.append(named.select(ROW, (pl.lit(f"{index.name}:") + pl.col("id"))
                                        .alias(DUPLICATE_OF)))
        return pl.concat(out).sort(ROW)

    def stats(self, marks: pl.DataFrame) -> dict[str, Any]:
        """Per reference: its path, digest, rows, whether this run built its index, where it
        is, and how many new records duplicate it."""
        names = marks[DUPLICATE_OF].str.split_exact(":", 1).struct.field("field_0")
        counts = names.value_counts()
        counted = dict(zip(counts[names.name].to_list(), counts["count"].to_list()))
        return {i.name: {**i.stats(), "duplicates": int(counted.get(i.name, 0))}
                for i in self.indexes}


def read_rows(engine, records: Parts, rows, column: str, desc: str) -> pl.DataFrame:
    """``__ref`` and ``column`` of the reference records at positions ``rows`` (any order),
    sorted by position; each part read by a worker, the values copied out of it (a filtered
    frame would keep every string buffer of its part alive: a reference's texts, in full)."""
    import numpy as np

    wanted = np.unique(np.asarray(rows, dtype=np.int64))
    items = rows_of_pieces(records.pieces(), wanted)
    out = engine.map(partial(_read_piece, column=column), items, desc=desc,
                     sizes=[len(r) for _, r in items])
    empty = pl.DataFrame(schema={REF_ROW: pl.Int64, column: records.schema[column]})
    return pl.concat([empty, *out], how="vertical_relaxed")


def _read_piece(item, *, column: str) -> pl.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    piece, rows = item
    values = pq.read_table(piece.file, columns=[column]).column(column)
    picked = values.take(pa.array(rows - piece.offset + piece.start))
    return pl.DataFrame({REF_ROW: rows, column: pl.from_arrow(picked)}).cast(
        {REF_ROW: pl.Int64})


def reference_digests(stage) -> dict[str, Any]:
    """The content digest of each reference (for the stage's fingerprint: a changed release
    makes a resumed run dedup again); a missing one is left to the run's clear error."""
    if not stage.options.against:
        return {}
    return {"against": {name: content_digest(path) if Path(path).exists() else None
                        for name, path in stage.options.against.items()}}


def references(stage, ctx: StageContext, engine) -> list[ReferenceIndex]:
    """The index of each reference of ``stage.options.against``: from the cache, or built
    (by ``stage.build_index(tmp, source, ctx, engine)``) and cached."""
    out = []
    for name, given in stage.options.against.items():
        if is_url(given):
            raise CurateError(f"against.{name}: {given}: a reference must be a local path")
        path = Path(given)
        if not path.exists():
            raise CurateError(f"against.{name}: {given}: no such file or folder")
        digest = content_digest(path)
        folder = index_folder(digest, stage.id, stage.index_params())
        index = open_index(name, folder)
        if index is None:
            index = _build(stage, name, path, digest, folder, ctx, engine)
        out.append(index)
    return out


def _build(stage, name: str, path: Path, digest: str, folder: Path, ctx: StageContext,
           engine) -> ReferenceIndex:
    """The index of one reference built in a private folder and published (see
    :mod:`curate.dedup.reference`)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = building(folder)
    try:
        source, read, unread = _records(path, tmp / "convert", ctx, engine)
        made = stage.build_index(tmp, source, ctx, engine)
        shutil.rmtree(tmp / "convert", ignore_errors=True)
        meta = {"name": name, "path": str(path), "digest": digest, "stage": stage.id,
                "params": stage.index_params(), "rows_read": read, "rows_unread": unread,
                **made}
        return publish(name, tmp, folder, meta)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _records(path: Path, work: Path, ctx: StageContext, engine) -> tuple[Parts, Any, Any]:
    """A reference's records as parts, with the rows read and left unread (None when read in
    place): curate's own records (a run folder, a records parquet) where they are; anything
    else converted by curate's readers, an export folder's splits one after another."""
    from ..convert import convert_parts  # startup

    files = reference_files(path)
    if len(files) == 1 and is_record_input(files[0]):
        return record_parts(files[0]), None, None
    read = unread = 0
    kept = work / "kept"
    kept.mkdir(parents=True)
    for i, file in enumerate(files):
        done = convert_parts(file, work / f"{i}" / "kept", work / f"{i}" / "rejected",
                             engine=engine, on_error=ctx.on_error, scratch=work / f"{i}" / "tmp")
        read, unread = read + done.rows_in, unread + done.rows_in - done.rows_out
        for part in done.kept.files:  # the splits' parts, in order, as one dataset
            part.rename(kept / part_name(len(list(kept.iterdir()))))
    return Parts(kept), read, unread


def match_keyed(stage, keyed: pl.DataFrame) -> None:
    """A keyed stage's keyed rows of a piece looked up in its references' keys, the matches
    written as ``<first row>.parquet`` into ``stage.against_lookup``'s folder (when its run
    has references: folder, and per reference what :meth:`ReferenceIndex.keys` gives)."""
    target = getattr(stage, "against_lookup", None)
    if target is None or keyed.height == 0:
        return
    folder, keys = target
    found = [lookup(keyed, *where, key=stage.ref_key).with_columns(
        pl.lit(k, pl.Int32).alias(REF_INDEX)) for k, where in enumerate(keys)]
    pl.concat(found).select(ROW, REF_INDEX, REF_ROW).write_parquet(
        Path(folder) / f"{int(keyed[ROW].min()):012d}.parquet")


def run_keyed(stage, data: StageData, ctx: StageContext, engine) -> StageOutput:
    """A keyed dedup stage's run (see :mod:`curate.stages.keyed`) with its references: the
    stage's ``sign`` also looks its keys up in the references' (see :func:`match_keyed`);
    ``stage.finish(..., against=...)`` decides."""
    stage.prepare(data.source.schema, ctx)
    indexes = references(stage, ctx, engine)
    if not indexes:
        return stage.finish(data, group_by_key(stage, data, ctx, engine), ctx, engine)
    folder = data.scratch / "against"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    stage.against_lookup = (str(folder), [i.keys() for i in indexes])
    try:
        grouped = group_by_key(stage, data, ctx, engine)
    finally:
        stage.against_lookup = None
    against = Against(indexes)
    files = sorted(str(f) for f in folder.glob("*.parquet"))
    if files:
        against.candidates = pl.read_parquet(files).unique().sort(ROW, REF_INDEX, REF_ROW)
    shutil.rmtree(folder, ignore_errors=True)
    return stage.finish(data, grouped, ctx, engine, against=against)
