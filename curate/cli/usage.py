"""Stage options given as flags: which stage a flag goes to, and a refused value said as the flag
the user typed (``--min-margin: ...``) rather than as its recipe place
(``stages[1].with.min_margin``). The one place that maps validation errors back to flags."""

from __future__ import annotations

import re
from typing import Any

import click
from pydantic import ValidationError

from ..errors import RecipeError
from ..recipe import as_recipe_error
from ..stages.registry import stage_class
from .options import Flag, flag_name, given


def usage_error(exc: RecipeError, stages: list[dict[str, Any]]) -> click.ClickException:
    """A stage option (or an input setting) a recipe check refused, as the flag of the
    stage's declaration (``cli_prefix``, ``cli_names``, ``cli_switch``); ``stages`` are the
    recipe's stages (``{"use": id, ...}``) the path counts in."""
    found = re.fullmatch(r"inputs?(?:\[\d+\])?\.(\w+)", exc.path or "")
    if found:
        flag = "INPUT" if found[1] == "path" else f"--{found[1]}"
        return click.UsageError(f"{flag}: {exc.detail}")
    found = re.fullmatch(r"stages\[(\d+)\]\.with\.(\w+)(.*)", exc.path or "")
    if not found:  # not a flag's value (a column the data lacks): an error, said without the
        return click.ClickException(exc.detail)  # recipe place the user never wrote
    cls = stage_class(stages[int(found[1])]["use"])
    return click.UsageError(f"{flag_name(cls, found[2])}{found[3]}: {exc.detail}")


def built(cls, options: dict[str, Any]):
    """The stage ``cls`` with the options given; a refused value is said as its flag."""
    try:
        return cls(options)
    except ValidationError as exc:
        error = as_recipe_error(exc, prefix="stages[0].with")
        raise usage_error(error, [{"use": cls.id}]) from None


def options_for(cls, flags: list[Flag], values: dict[str, Any], switch: str
                ) -> dict[str, Any]:
    """The options of ``cls``, the stage ``switch`` (e.g. ``--method near``) chose among
    those ``flags`` were made of; a flag given that is not one of its options is a usage
    error naming the stages it is of."""
    chosen, options = given(flags, values), {}
    for flag in flags:
        if flag.param not in chosen:
            continue
        fields = [name for owner, name in flag.members if owner is cls]
        if not fields:
            owners = "/".join(owner.cli_name for owner, _ in flag.members)
            raise click.UsageError(f"{flag.name} does not apply to {switch} (only to "
                                   f"{owners})")
        options[fields[0]] = chosen[flag.param]
    return options
