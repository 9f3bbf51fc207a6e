"""A recipe's stages checked against the columns they read and write, before data moves.

Every stage declares the columns it needs beyond the record columns
(:meth:`~curate.stages.base.Stage.columns_read`) and the columns it adds
(:meth:`~curate.stages.base.Stage.columns_written`, ``prefix*`` for a family). A stage that
reads a column that neither the input nor an earlier stage provides is an error that names the
stage and the column, and the stages that would provide it.

Examples:
    ```python
    check_columns([("safety.bias", Bias())], input_columns())
    # RecipeError: stages[0]: safety.bias reads toxicity, which no earlier stage writes;
    #              add safety.toxicity before it
    ```
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Iterable

from ..errors import RecipeError
from ..record_schema import RECORD_COLUMNS
from .registry import STAGES, discover

if TYPE_CHECKING:  # pragma: no cover
    from .base import Stage


def input_columns(extra: Iterable[str] = ()) -> set[str]:
    """The columns every converted input has (the record columns), and ``extra``."""
    return {*RECORD_COLUMNS, "kind", *extra}


def provides(written: Iterable[str], column: str) -> bool:
    """Whether a list of written columns (patterns allowed) includes ``column``."""
    return any(fnmatchcase(column, w) for w in written)


def writers_of(column: str) -> list[str]:
    """Ids of the registered stages that write ``column`` with their default options."""
    discover()
    found = []
    for stage_id, cls in sorted(STAGES.items()):
        try:
            written = cls().columns_written()
        except Exception:  # a stage that needs options to be built: not a default writer
            continue
        if provides(written, column):
            found.append(stage_id)
    return found


def check_columns(stages: list[tuple[str, Stage]], available: Iterable[str], *,
                  file: str | None = None, first: int = 0) -> None:
    """Raise a RecipeError naming the first stage that reads a column that is not there.

    ``stages`` are ``(name, stage)`` in run order, the recipe's ``stages[first:]``;
    ``available`` are the columns of the first one's input.
    """
    have = set(available)
    written: list[str] = []
    for i, (name, stage) in enumerate(stages):
        for column in stage.columns_read():
            if column in have or provides(written, column):
                continue
            writers = [w for w in writers_of(column) if w != stage.id]
            hint = (f"; add {' or '.join(writers)} before it" if writers
                    else "; the input has no such column either")
            raise RecipeError(f"{name} reads {column}, which no earlier stage writes{hint}",
                              path=f"stages[{first + i}]", file=file)
        written += stage.columns_written()
