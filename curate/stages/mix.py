"""Stage ``mix``: draw the dataset by per-input quotas, in records or tokens."""

from __future__ import annotations

import zlib
from functools import partial
from typing import Any, Literal

import numpy as np
import polars as pl
from pydantic import Field, field_validator, model_validator

from ..errors import StageError
from ..io.parts import ROW, Piece
from .base import (DROP_REASON, Stage, StageContext, StageData, StageOptions, StageOutput,
                   StageResult, field_error)
from .marks import apply_marks, finish_marks

REASON = "over_quota"
DATASET, TOKENS, COPY = "dataset", "tokens", "mix_copy"
_TIMES = "__mix_times"


class MixOptions(StageOptions):
    """Options of ``mix``."""

    quotas: dict[str, int | float] = Field(
        description="Per input (its name): a count of records or tokens (an int, e.g. 4000) "
        "or a share of that input's own rows or tokens (a float, e.g. 0.25). Inputs not "
        "named are kept whole.")
    unit: Literal["records", "tokens"] = Field(
        "records", description="What quotas count: records, or tokens (adds the tokens "
        "column).")
    by: str = Field("random", description="Which rows of an input come first: random (seeded) "
                    "or a numeric score column, highest first.")
    repeat: bool = Field(False, description="Take an input's rows again (as copies with their "
                         "own ids) when its quota asks for more than it has.")
    tokenizer: str | None = Field(
        None, description="unit tokens: a tokenizer folder or tokenizer.json (local); default "
        "the embedded model's tokenizer (SmolLM2-135M-Instruct).",
        json_schema_extra={"path": "file"})
    seed: int | None = Field(None, description="Seed of the random order; the run's seed "
                             "when unset.")

    @field_validator("quotas")
    @classmethod
    def _quotas(cls, quotas: dict[str, int | float]) -> dict[str, int | float]:
        from ..convert.dataset import INPUT_NAME  # startup

        if not quotas:
            raise ValueError("name at least one input and its quota")
        for name in quotas:
            if not INPUT_NAME.match(name):
                raise ValueError(f"{name!r} is not an input name")
        return quotas

    @model_validator(mode="after")
    def _checked(self) -> "MixOptions":
        from ..mix import quota_problem  # startup

        for name, value in self.quotas.items():
            problem = quota_problem(value, repeat=self.repeat)
            if problem is not None:
                raise field_error(type(self), "quotas", f"{name}: {problem}")
        if self.tokenizer is not None and self.unit != "tokens":
            raise field_error(type(self), "tokenizer", "counts tokens: it goes with unit: "
                              "tokens")
        return self


class Mix(Stage):
    """Draws the final mixture by per-input quotas.

    Each input named in ``quotas`` (the records' ``dataset`` column, set by the recipe's
    ``inputs:``) gives rows in the order ``by`` says (a seeded random order, or a score
    column, highest first; ties by position) until its quota is met: a count of records or
    tokens, or a share of the input's own rows or tokens at this stage. In tokens an input
    ends at most one record over its quota. With ``repeat: true`` an input that has too few
    rows is taken again from the start: each copy is a row of its own, with the id
    ``<id>#<k>`` and ``mix_copy`` = k (0 on the rows themselves), counted as made rows
    (``added``). Rows not drawn go to rejected/ with ``drop_reason = "over_quota"``. Inputs
    not named are kept whole.

    Input columns:
        - dataset (str): the input's name (named inputs).
        - the ``by`` column (numeric) when it is not random.
        - tokens (int, optional): used when present instead of counting again.

    Output columns:
        - tokens (int): with ``unit: tokens``, every row's tokens (see
          :mod:`curate.mix.tokens`).
        - mix_copy (int): with ``repeat: true``.
        - drop_reason (str): ``over_quota`` on rejected rows.

    Stats:
        ``unit``, ``by``, ``tokenizer``, ``inputs`` (per input: quota, target, available,
        rows, drawn, copies, units) and ``copies``.

    Examples:
        In a recipe:

        ```yaml
        stages:
          - use: mix
            with: {quotas: {ours: 4000, ultrachat: 0.25}, unit: records, by: random}
        ```
    """

    id = "mix"
    Options = MixOptions
    summary = "Draw the dataset by per-input quotas (records or tokens, shares or counts)."
    reads = (DATASET,)
    report_section = "mix"

    options: MixOptions

    def columns_read(self) -> tuple[str, ...]:
        o = self.options
        own = o.by == "random" or (o.by == TOKENS and o.unit == "tokens")  # it counts them
        return (DATASET,) + (() if own else (o.by,))

    def columns_written(self) -> tuple[str, ...]:
        o = self.options
        return ((TOKENS,) if o.unit == "tokens" else ()) + ((COPY,) if o.repeat else ())

    def resolved(self) -> dict[str, Any]:
        if self.options.unit != "tokens":
            return {}
        from ..mix.tokens import tokenizer_path  # startup

        return {"tokenizer": tokenizer_path(self.options.tokenizer)}

    def run(self, data: StageData, ctx: StageContext, engine) -> StageOutput:
        """Compact columns (dataset, score, tokens) in the driver; tokens counted per piece
        by ``engine.map``; the draw as marks applied piece by piece."""
        from ..mix import draw_mixture  # startup

        o = self.options
        schema = data.source.schema
        if DATASET not in schema:
            raise StageError(f"{ctx.name}: no column 'dataset': mix draws from named inputs "
                             "(a recipe's inputs:, or NAME=PATH arguments)")
        if o.repeat and COPY in schema:
            raise StageError(f"{ctx.name}: the input already has a {COPY!r} column (from "
                             "an earlier mix with repeat)")
        by_tokens = o.by == TOKENS and o.unit == "tokens"
        named = [DATASET] + ([o.by] if o.by != "random" and not by_tokens else [])
        if len(named) > 1:
            if o.by not in schema:
                raise StageError(f"{ctx.name}: by: no column {o.by!r} in the input")
            if not (schema[o.by].is_numeric() or schema[o.by] == pl.Boolean):
                raise StageError(f"{ctx.name}: by: column {o.by!r} must be numeric, got "
                                 f"{schema[o.by]}")
        compact = data.source.scan().select(named).collect()
        groups = compact[DATASET].to_numpy()
        present = set(compact[DATASET].drop_nulls().unique().to_list())
        missing = [n for n in o.quotas if n not in present]
        tokenizer, tokens, from_column = None, None, False
        if o.unit == "tokens":
            if TOKENS in schema:
                tokens, from_column = data.source.scan().select(
                    pl.col(TOKENS).cast(pl.Int64).fill_null(0)).collect()[TOKENS].to_numpy(), True
            else:
                tokenizer = self.resolved()["tokenizer"]
                pieces = data.source.pieces()
                counted = engine.map(partial(_piece_tokens, path=tokenizer), pieces,
                                     desc=f"{ctx.name} tokens", sizes=[p.length for p in pieces])
                tokens = np.concatenate([np.asarray(c, dtype=np.int64) for c in counted]) \
                    if counted else np.zeros(0, np.int64)
        weights = tokens if tokens is not None else np.ones(len(groups), dtype=np.int64)
        seed = ctx.seed if o.seed is None else o.seed
        order = (-weights.astype(np.float64) if by_tokens
                 else self._order(compact, groups, seed))
        draw = draw_mixture(groups, weights, o.quotas, order=order, repeat=o.repeat,
                            unit=o.unit)
        stats: dict[str, Any] = {"unit": o.unit, "by": o.by, "inputs": draw.per_input,
                                 "copies": draw.copies}
        if o.unit == "tokens":
            stats["tokenizer"] = "tokens column" if from_column else (
                o.tokenizer or "embedded (SmolLM2-135M-Instruct)")
        notes = [f"mix: no input named {n!r} in the data" for n in missing]
        for name, info in draw.per_input.items():
            if name not in missing and info["units"] < info["target"]:
                notes.append(f"mix: {name} has {info['available']} {o.unit}, under its quota "
                             f"({info['target']:g}): all of it taken (repeat: true takes "
                             "copies)")
        if notes:
            stats["notes"] = notes
        times = draw.times
        rows = np.flatnonzero((times != 1) | (tokens is not None and not from_column))
        marks = pl.DataFrame({ROW: rows, _TIMES: times[rows]},
                             schema={ROW: pl.Int64, _TIMES: pl.Int64}).with_columns(
            pl.when(pl.col(_TIMES) == 0).then(pl.lit(REASON)).otherwise(None)
            .cast(pl.String).alias(DROP_REASON))
        columns = {_TIMES: pl.Int64}
        if tokens is not None and not from_column:
            marks = marks.with_columns(pl.Series(TOKENS, tokens[rows], dtype=pl.Int64))
            columns[TOKENS] = pl.Int64
        total = apply_marks(data, marks, ctx, engine, columns=columns,
                            mark=partial(_mark, repeat=o.repeat), makes_rows=o.repeat)
        return finish_marks(data, total, stats)

    def _order(self, compact: pl.DataFrame, groups: np.ndarray, seed: int) -> np.ndarray:
        """Rank of each row within its input (lower first)."""
        n = compact.height
        if self.options.by != "random":
            score = compact[self.options.by].cast(pl.Float64).fill_null(np.nan).to_numpy()
            return np.where(np.isnan(score), np.inf, -score)
        order = np.zeros(n, dtype=np.float64)
        for name in self.options.quotas:  # each input its own stream: independent of the others
            rows = np.flatnonzero(groups == name)
            rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
            order[rows] = rng.permutation(len(rows))
        return order


def _piece_tokens(piece: Piece, *, path: str) -> list[int]:
    from ..mix.tokens import count_tokens  # startup

    return count_tokens(piece.read(), path)


def _mark(batch: pl.DataFrame, marks: pl.DataFrame, *, repeat: bool) -> pl.DataFrame:
    """A piece with its marks: rows not drawn get ``over_quota``; a row taken k times comes
    with its k - 1 copies right after it (ids ``<id>#<j>``, ``mix_copy`` = j)."""
    extra = [c for c in marks.columns if c not in (ROW, DROP_REASON, _TIMES)]
    out = batch.join(marks.select(ROW, DROP_REASON, _TIMES, *extra), on=ROW, how="left")
    out = out.with_columns(pl.col(_TIMES).fill_null(1))
    if repeat:
        out = (out.with_columns(pl.int_ranges(0, pl.max_horizontal(pl.col(_TIMES), 1))
                                .alias(COPY))
               .explode(COPY)
               .with_columns(pl.col(COPY).cast(pl.Int64),
                             pl.when(pl.col(COPY) > 0)
                             .then(pl.col("id") + "#" + pl.col(COPY).cast(pl.String))
                             .otherwise(pl.col("id")).alias("id")))
    return out.drop(_TIMES)


def mix(df: pl.DataFrame, **options) -> StageResult:
    """Library form of the ``mix`` stage; see :class:`Mix`."""
    return Mix(MixOptions(**options)).apply(df, StageContext(name=Mix.id))
