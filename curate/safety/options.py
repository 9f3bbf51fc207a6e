"""Option values and record text that the safety stages share."""

from __future__ import annotations

from typing import Annotated, Any

import polars as pl
from pydantic import Field

from ..messages import prompt_messages, response_messages

Threshold = Annotated[float, Field(ge=0, le=1)]
AUTO = "auto"
_PARTS = {"prompt": prompt_messages, "response": response_messages}


def part_text(part: str) -> pl.Expr:
    """The text of a record's ``prompt`` (turns before the reply) or ``response`` (the last SFT
    turn, or the chosen reply of a pair): the turns' contents joined by newlines, no roles."""
    return (_PARTS[part]().list.eval(pl.element().struct.field("content").fill_null(""))
            .list.join("\n").fill_null(""))


def threshold_or_auto(value: Any) -> Any:
    """A threshold option that may be ``auto``, as given in a recipe or as a flag's text:
    ``auto``, null, or a number in [0, 1]. A bad value is a ValueError (a field validator's
    error: the recipe check names its place, the CLI the flag the user typed)."""
    if value is None or value == AUTO or isinstance(value, bool):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not 0 <= number <= 1:
        raise ValueError(f"expected a number between 0 and 1, 'auto' or 'none', not {value!r}")
    return number
