"""The passes of an export over data in storage (a :class:`~curate.io.parts.Parts`), each
piece a picklable task for ``engine.map``; nothing holds the whole dataset.

1. **check** (:func:`check_piece`): each piece's rows through the target's checks and the chat
   template; the rows not exported are written as a part (with ``drop_reason``), and of the
   rows exported only their position in the piece and their compact split keys
   (:func:`curate.export.split.split_keys`) and link values are written, with counts
   returned (reasons, kinds, tool use, who made the pairs).
2. **split** (:func:`curate.export.split_plan.decide_split`): the leakage-free split,
   decided by tasks over those files; the driver holds counts, the units of the few buckets it
   reads back and the rows of groups a shared ``dup_cluster`` or ``label_group`` links.
3. **write** (:func:`write_piece`): each piece's output rows of each split written as a
   piece file; the files of a split are then joined in piece order into
   ``<split>.parquet``/``<split>.jsonl`` (JSON Lines by their bytes, parquet row group by row
   group). Data that is one piece gives the very files one in-memory write gives.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ..columns import DROP_REASON
from ..io.jsonl import write_jsonl
from ..io.parquet import write_parquet
from ..io.parts import Parts, Piece, PartWriter, part_name
from .card_inputs import piece_counts
from ..judge.sources import NOT_RECORDED, _pair, source_label
from .split import SIDES, split_keys
from .split_plan import SplitRules
from .split_tasks import ROW, members_in, write_links
from .targets import get_target
from .templates import render_check
from .tools import json_row, tool_dtype


@dataclass(frozen=True)
class Plan:
    """What every piece task needs to know (picklable)."""

    target: str
    options: dict
    chat_template: str
    tokenizer: str | None
    max_tokens: int | None
    seed: int
    stratify: str | None
    formats: tuple[str, ...]
    scratch: str
    tools: bool = False  # set after the check pass: any exported record uses tools


def check_piece(item: tuple[Plan, Piece]) -> dict[str, Any]:
    """Pass 1 on one piece: rejected rows written, keys and counts returned."""
    plan, piece = item
    t = get_target(plan.target)
    df = piece.read().with_row_index(ROW)
    kept, rejected = t.partition(df, **plan.options)
    kept, unrendered = render_check(kept, chat_template=plan.chat_template,
                                    tokenizer=plan.tokenizer, max_tokens=plan.max_tokens)
    rejected = pl.concat([rejected, unrendered], how="vertical").drop(ROW)
    scratch = Path(plan.scratch)
    if rejected.height:
        PartWriter(scratch / "rejected").write(piece.index, rejected)
    records = kept.drop(ROW)
    keys, strata = split_keys(records, plan.seed, plan.stratify)
    PartWriter(scratch / "keys").write(piece.index, keys.with_columns(kept[ROW].alias(ROW)))
    write_links(plan.scratch, piece.index, keys)
    wrong = rejected.filter(pl.col(DROP_REASON) == "wrong_kind")
    return {"index": piece.index, "kept": kept.height,
            "skipped": Counter(rejected[DROP_REASON].to_list()),
            "wrong_kinds": set(wrong["kind"].drop_nulls().to_list()) if wrong.height else set(),
            "tools": t.uses_tools(records), "pairs": _pair_counts(records), "strata": strata,
            "stratified": plan.stratify in records.columns if plan.stratify else False}


def _pair_counts(df: pl.DataFrame) -> Counter:
    """Preference records per source label, in the order first seen."""
    if df.height == 0 or "kind" not in df.columns or "meta" not in df.columns:
        return Counter()
    metas = df.filter(pl.col("kind") == "preference")["meta"].to_list()
    return Counter(source_label(_pair(m)) for m in metas)


def pair_sources(counts: Counter) -> dict[str, int]:
    """:func:`curate.judge.sources.pair_sources` from counts gathered piece by piece."""
    if set(counts) <= {NOT_RECORDED}:
        return {}
    return dict(counts.most_common())


def write_piece(item: tuple[Plan, Piece, SplitRules, tuple[int, np.ndarray, np.ndarray]]
                ) -> dict[str, int]:
    """Pass 3 on one piece: its output rows of each split as piece files; rows per split.
    ``rules`` and ``decided`` (the piece's first export position, the rows decided one by one
    as positions among its exported rows, their sides) give each exported row's split."""
    plan, piece, rules, (start, decided, decided_sides) = item
    t = get_target(plan.target)
    keys = pl.read_parquet(Path(plan.scratch) / "keys" / part_name(piece.index))
    members = members_in(plan.scratch, rules.ranges, start, start + keys.height)
    sides = SIDES[rules.sides(keys, members, decided, decided_sides)]
    kept = piece.read()[keys[ROW].to_list()].with_columns(
        pl.Series("split", sides, dtype=pl.String))
    out = t.output(kept, tools=plan.tools, **plan.options)
    counts = {}
    for name in ("train", "validation", "test"):
        part = out.filter(pl.col("split") == name).drop("split")
        if part.height == 0:
            continue
        counts[name] = part.height
        for key, n in piece_counts(kept.filter(pl.col("split") == name)).items():
            counts[key] = counts.get(key, 0) + n
        for ext in plan.formats:
            folder = Path(plan.scratch) / "out" / f"{name}.{ext}"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"part-{piece.index:05d}.{ext}"
            _writer(part, ext)(path)
    return counts


def join_pieces(files: list[Path], ext: str, tmp: Path) -> None:
    """The piece files of one split, in order, as one file at ``tmp``: one piece file is
    copied as it is; JSON Lines are joined by their bytes, parquet row group by row group."""
    if len(files) == 1:
        shutil.copyfile(files[0], tmp)
        return
    if ext == "jsonl":
        with open(tmp, "wb") as dst:
            for f in files:
                with open(f, "rb") as src:
                    shutil.copyfileobj(src, dst, 1 << 20)
        return
    import pyarrow.parquet as pq  # startup

    writer = None
    try:
        for f in files:
            table = pq.read_table(f)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
            elif table.schema != writer.schema:
                table = table.cast(writer.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def keep_rejected(scratch: Path, pieces: list[Piece], folder: Path) -> Parts | None:
    """The rejected rows' parts moved into ``folder`` (numbered in piece order); None if
    there are none."""
    found = [scratch / "rejected" / part_name(p.index) for p in pieces
             if (scratch / "rejected" / part_name(p.index)).is_file()]
    if not found:
        return None
    writer = PartWriter(folder)
    writer.clear()
    for i, f in enumerate(found):
        os.replace(f, folder / part_name(i))
    return writer.finish()


def write_rejected_file(scratch: Path, pieces: list[Piece], path: Path) -> bool:
    """The rejected rows as one parquet file at ``path`` (through a temporary file)."""
    found = [scratch / "rejected" / part_name(p.index) for p in pieces
             if (scratch / "rejected" / part_name(p.index)).is_file()]
    if not found:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        if len(found) == 1:
            df = pl.read_parquet(found[0])
            write_parquet(df, tmp)  # as one in-memory write does
        else:
            join_pieces(found, "parquet", tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return True


def _writer(part: pl.DataFrame, ext: str):
    if ext == "parquet":
        return lambda tmp: write_parquet(part, tmp)
    rows = part.iter_rows(named=True)
    if any(tool_dtype(t) for t in part.schema.values()):  # no null tool fields in JSON turns
        rows = map(json_row, rows)
    return lambda tmp: write_jsonl(rows, tmp)
