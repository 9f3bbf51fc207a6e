"""Keyed grouping stages (shape ``keyed``): sign each row, bring equal keys together, decide.

The dedup stages that compare records by a key work in three steps, each the stage's own
function, which every engine calls the same way:

1. :meth:`KeyedGrouping.sign` turns a batch of rows (with their positions in ``__row``) into
   keyed rows: one or more per record, whose ``key`` columns say which rows must meet (the
   normalised text for exact dedup, a (band, bucket) per MinHash band for near dedup);
2. :meth:`KeyedGrouping.group` gets keyed rows such that all rows of a key are in the same
   part (in ``__row`` order within a key), and returns what it found (the first row of each
   key, candidate pairs, ...); its outputs over all parts are concatenated;
3. :meth:`KeyedGrouping.finish` turns the input and the concatenated group outputs into the
   stage's result, on the driver.

The local engine signs in batches and calls ``group`` once on all keyed rows; the Ray engine
signs in ``map_batches``, shuffles the keyed rows by a hash of the key into partitions and
calls ``group`` on each. Both give ``finish`` the same input, so the results are the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import polars as pl

from .base import ROW, Shape, Stage, StageContext, StageResult

if TYPE_CHECKING:  # pragma: no cover
    from ..engines.local import LocalEngine as Engine


class KeyedGrouping(Stage):
    """Base of the keyed stages; see the module docs. Subclasses set ``key`` and implement
    :meth:`sign`, :meth:`group` and :meth:`finish`."""

    shape = Shape.KEYED
    key: ClassVar[tuple[str, ...]] = ()
    sign_batch_size: ClassVar[int] = 20_000

    def prepare(self, df: pl.DataFrame, ctx: StageContext) -> None:
        """Raise a StageError for an input the stage cannot take (before any work)."""

    def sign(self, batch: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """Keyed rows of ``batch`` (which has ``__row``): ``__row``, the ``key`` columns and
        whatever :meth:`group` reads."""
        raise NotImplementedError

    def group(self, part: pl.DataFrame) -> pl.DataFrame:
        """What one part of the keyed rows gives (all rows of a key are in one part)."""
        raise NotImplementedError

    def finish(self, df: pl.DataFrame, grouped: pl.DataFrame, ctx: StageContext) -> StageResult:
        """The result from the input and the groups' outputs."""
        raise NotImplementedError

    def run(self, df: pl.DataFrame, ctx: StageContext, engine: Engine) -> StageResult:
        self.prepare(df, ctx)
        return self.finish(df, engine.group_by_key(self, df, ctx), ctx)


def positions(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with each row's position as ``__row`` (Int64), as engines hand it to ``sign``."""
    return df.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))
