"""The turns of a batch's record parts (prompt, response, chosen, rejected), read straight from
its Arrow columns: per turn column, the contents as one Arrow string array (no Python string
and no exploded frame), each turn's row and its part.

    part_columns(batch) -> [PartColumn, ...]     messages, prompt, chosen, rejected
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

RECORD_PARTS = ("prompt", "response", "chosen", "rejected")
SKIP = -1  # the part of a turn that is not searched (a column the record's kind does not use)


@dataclass
class PartColumn:
    """The turns of one column: turn ``i`` is ``texts[i]``, of row ``rows[i]``, part
    ``RECORD_PARTS[part[i]]`` (or ``SKIP``)."""

    texts: pa.Array  # large_string
    rows: np.ndarray  # int64
    part: np.ndarray  # int8


def _contents(column: pl.Series) -> tuple[pa.Array, np.ndarray]:
    """The ``content`` of every turn of a list-of-messages column, and each turn's row.
    (Flattened by polars first: a batch is a slice of the run's frame, and converting a slice
    of a list column to Arrow costs as much as the whole frame.)"""
    if column.null_count() == column.len():  # e.g. the pair columns of an SFT batch
        return pa.array([], pa.large_string()), np.zeros(0, np.int64)
    lengths = column.list.len().fill_null(0).to_numpy()
    rows = np.repeat(np.arange(column.len(), dtype=np.int64), lengths)
    turns = column.explode(empty_as_null=False, keep_nulls=False)
    texts = turns.struct.field("content").fill_null("").to_arrow()
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if texts.type != pa.large_string():
        texts = texts.cast(pa.large_string())
    return texts, rows


def part_columns(batch: pl.DataFrame) -> list[PartColumn]:
    """The batch's turns by part: an SFT record's messages (all but the last are its prompt, the
    last its response), a pair's prompt, chosen and rejected turns."""
    sft = (batch["kind"] == "sft").fill_null(False).to_numpy()
    out = []
    texts, rows = _contents(batch["messages"])
    last = np.ones(rows.shape[0], bool)
    last[:-1] = rows[1:] != rows[:-1]
    part = np.where(last, RECORD_PARTS.index("response"), RECORD_PARTS.index("prompt"))
    out.append(PartColumn(texts, rows, np.where(sft[rows], part, SKIP).astype(np.int8)))
    for name in ("prompt", "chosen", "rejected"):
        texts, rows = _contents(batch[name])
        part = np.where(sft[rows], SKIP, RECORD_PARTS.index(name)).astype(np.int8)
        out.append(PartColumn(texts, rows, part))
    return out
