"""Which record of a cluster of duplicates survives: the dedup stages' ``keep`` option.

``keep`` is one word or column (``first``, ``longest``, a numeric column: highest value wins,
nulls last) or a priority of inputs ``{prefer: [ours, ultrachat], then: first|longest|<column>}``:
the survivor is the record from the most preferred input (the ``dataset`` column that named
inputs stamp on every record), and inside that input the one ``then`` picks. Records whose
``dataset`` is not listed, or null, rank after every listed input. Ties go to input order.

    rank_keys(keep, taken, lengths)   # sort keys and their descending flags for survivors()
"""

from __future__ import annotations

from typing import Annotated, Union

import polars as pl
from pydantic import Discriminator, Field, Tag, field_validator

from ..errors import CurateError
from ..io.parts import ROW
from .base import StageOptions

DATASET = "dataset"
WORDS = ("first", "longest")


class KeepPolicy(StageOptions):
    """``keep: {prefer: [...], then: ...}``: prefer records of some inputs."""

    prefer: list[str] = Field(min_length=1)
    """Input names (the ``dataset`` column), most preferred first; unlisted inputs rank last."""
    then: str = "first"
    """Inside the same input: ``first``, ``longest`` or a numeric column (highest first)."""

    @field_validator("prefer")
    @classmethod
    def _distinct(cls, names: list[str]) -> list[str]:
        seen = [n for i, n in enumerate(names) if n in names[:i]]
        if seen:
            raise ValueError(f"input {seen[0]!r} is listed twice")
        if any(not n.strip() for n in names):
            raise ValueError("an input name is empty")
        return names


def _shape(value) -> str:
    return "policy" if isinstance(value, (dict, KeepPolicy)) else "word"


# a word or column, or a priority: a mapping is read as a priority only, so that its errors
# name its fields (keep.policy.prefer) instead of "not a string"
Keep = Annotated[Union[Annotated[str, Tag("word")], Annotated[KeepPolicy, Tag("policy")]],
                 Discriminator(_shape)]


def then_of(keep: Keep) -> str:
    """The word or column that ranks records of the same input (``keep`` itself for a plain
    ``keep``)."""
    return keep.then if isinstance(keep, KeepPolicy) else keep


def keep_columns(keep: Keep) -> tuple[str, ...]:
    """The columns a ``keep`` option reads (``dataset`` for a priority, a score column)."""
    then = then_of(keep)
    named = () if then in WORDS else (then,)
    return ((DATASET,) if isinstance(keep, KeepPolicy) else ()) + named


def check_keep(keep: Keep, schema: pl.Schema, *, longest: bool = True) -> None:
    """CurateError when ``keep`` names no numeric column of ``schema``, or asks for input
    priority on data without a ``dataset`` column: a bad keep fails before the work.
    ``longest``: whether the stage can rank by length."""
    then = then_of(keep)
    where = "keep.then" if isinstance(keep, KeepPolicy) else "keep"
    if isinstance(keep, KeepPolicy) and DATASET not in schema:
        raise CurateError("keep.prefer: the data has no 'dataset' column (the input's name, "
                          "which a recipe's inputs: stamp on every record)")
    if then == "longest" and not longest:
        raise CurateError(f"{where}: longest does not rank exact copies (they have the same "
                          "text); use first or a numeric column")
    if then in WORDS:
        return
    if then not in schema:
        raise CurateError(f"{where}: no column {then!r} to rank duplicates by "
                          f"(expected first, longest or a numeric column)")
    if not schema[then].is_numeric():
        raise CurateError(f"{where}: column {then!r} is {schema[then]}, expected a number")


def rank_keys(keep: Keep, taken: pl.DataFrame,
              lengths: pl.DataFrame | None) -> tuple[list[pl.Series], list[bool]]:
    """Sort keys of the rows of ``taken`` (``__row`` and the :func:`keep_columns`) and
    whether each sorts descending, for :func:`curate.dedup.components.survivors` (nulls
    last, ties by row); ``lengths``: ``__row`` and ``length`` (for ``longest``)."""
    keys: list[pl.Series] = []
    descending: list[bool] = []
    if isinstance(keep, KeepPolicy):
        order = {name: i for i, name in enumerate(keep.prefer)}
        dataset = taken[DATASET].cast(pl.String)
        keys.append(dataset.replace_strict(order, default=len(order), return_dtype=pl.Int64))
        descending.append(False)
    then = then_of(keep)
    if then == "longest":
        if lengths is None:
            raise ValueError("keep 'longest' needs the lengths")
        ranked = taken.select(ROW).join(lengths.select(ROW, "length").cast({ROW: pl.Int64}),
                                        on=ROW, how="left", maintain_order="left")
        keys.append(ranked["length"])
        descending.append(True)
    elif then != "first":
        keys.append(taken[then])
        descending.append(True)
    return keys, descending
