"""The run-wide bias audit's inputs, read piece by piece: compact rows, never the texts.

``safety.bias``'s :meth:`~curate.stages.safety_bias.Bias.finish_run` audits the records as they
entered the run: their group mentions and toxicity (scored now, with the run's score cache, for
records an earlier stage removed before the scorer saw them) and the groups of the records that
came out. Both are computed per piece, where the engine runs it; only ``id``, the groups and
the scores reach the driver.
"""

from __future__ import annotations

from functools import partial

import polars as pl

from ..io.parts import Parts, Piece
from .base import StageContext
from .rows import scored_batch

COMPACT = ("id", "bias_groups", "toxicity", "identity_attack")


def entered_compact(bias, first: Parts, scorer: tuple | None, engine) -> tuple[pl.DataFrame, int]:
    """``id``, ``bias_groups``, ``toxicity`` and ``identity_attack`` of every record of
    ``first``; ``scorer``: the toxicity stage and its context where the records lack scores.
    Also the number of texts scored for it (not found in the score cache)."""
    pieces = first.pieces()
    sizes = [p.length for p in pieces]
    if scorer is None:
        parts = engine.map(partial(_mentions, bias=bias, scorer=None, ctx=None), pieces,
                           desc="bias audit", sizes=sizes)
        return pl.concat(parts, how="vertical_relaxed"), 0
    stage, ctx = scorer
    before = getattr(stage, "texts_scored", 0)
    task = partial(_scored_mentions, bias=bias, ctx=ctx)
    try:
        parts = engine.map_model(stage, task, pieces, desc="bias audit", sizes=sizes)
    finally:
        stage.close()
    return (pl.concat(parts, how="vertical_relaxed"),
            getattr(stage, "texts_scored", 0) - before)


def _scored_mentions(scorer, piece: Piece, *, bias, ctx: StageContext) -> pl.DataFrame:
    return _mentions(piece, bias=bias, scorer=scorer, ctx=ctx)


def _mentions(piece: Piece, *, bias, scorer, ctx: StageContext | None) -> pl.DataFrame:
    batch = piece.read()
    if scorer is not None:
        batch = scored_batch(scorer, batch, ctx)
    return bias.score(batch).select(COMPACT)


def output_groups(bias, run) -> pl.Series:
    """The ``bias_groups`` of the records the run's last stage kept (a streaming query)."""
    last = run.stages[-1][2].get("checkpoint") if run.stages else None
    parts = Parts(run.out_dir / (last or run.entries[0]["checkpoint"]))
    return parts.scan().select(bias.mentions().alias("bias_groups")).collect(
        engine="streaming")["bias_groups"]
