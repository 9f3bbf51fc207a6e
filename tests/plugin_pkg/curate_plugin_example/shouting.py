"""``caps.shouting``: drops replies written in capitals. A row stage: it runs on both engines
and its options are flags of ``curate filter`` (``--shouting``, ``--shouting-max-caps``)."""

from __future__ import annotations

import polars as pl
from pydantic import Field

from curate import RowScorer, StageOptions


class ShoutingOptions(StageOptions):
    max_caps: float = Field(0.5, ge=0, le=1)
    """Drop replies whose share of upper-case letters is above this: reason ``shouting``."""


class Shouting(RowScorer):
    """Drops replies written in capitals.

    Input columns:
        - messages (SFT records; other kinds pass).

    Output columns:
        - caps_ratio (f64): the share of upper-case letters of the last reply.
    """

    id = "caps.shouting"
    Options = ShoutingOptions
    summary = "Drop replies written in capitals."
    writes = ("caps_ratio",)
    command, cli_name = "filter", "shouting"

    def score(self, batch: pl.DataFrame, ctx) -> pl.DataFrame:
        reply = pl.col("messages").list.last().struct.field("content").fill_null("")
        letters = reply.str.count_matches(r"\p{L}")
        caps = reply.str.count_matches(r"\p{Lu}")
        ratio = pl.when(letters > 0).then(caps / letters).otherwise(0.0)
        return batch.with_columns(ratio.cast(pl.Float64).alias("caps_ratio"))

    def checks(self, columns: list[str]) -> list[tuple[str, pl.Expr]]:
        return [("shouting", pl.col("caps_ratio") > self.options.max_caps)]
