"""What the report's sections read of a run: a stage's checkpoint or rejected rows (one
parquet file or a folder of part files), lazily, so that a section reads only the columns,
aggregates and first rows it shows, never a whole dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl


def scan(out_dir: Path, stage: dict[str, Any], key: str) -> pl.LazyFrame | None:
    """The stage's ``key`` file (``checkpoint`` or ``rejected``) as a LazyFrame; None when
    the stage names none or it is missing."""
    from ..io.parts import Parts  # startup

    rel = stage.get(key)
    path = Path(out_dir) / rel if rel else None
    if path is None or not path.exists():
        return None
    return Parts(path).scan()


def columns(lf: pl.LazyFrame) -> list[str]:
    return list(lf.collect_schema())


def collect(lf: pl.LazyFrame) -> pl.DataFrame:
    """A query's result, run by polars' streaming engine (bounded memory)."""
    return lf.collect(engine="streaming")


def heads(lf: pl.LazyFrame, by: str, n: int) -> list[tuple[Any, pl.DataFrame]]:
    """The first ``n`` rows of each value of ``by``, values in the order they first appear
    (as ``group_by(by, maintain_order=True)`` then ``head(n)``)."""
    values = collect(lf.select(pl.col(by)).unique(maintain_order=True))[by].to_list()
    out = []
    for v in values:
        match = pl.col(by).is_null() if v is None else pl.col(by) == v
        out.append((v, collect(lf.filter(match).head(n))))
    return out
