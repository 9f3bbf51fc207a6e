"""Click options generated from a stage's pydantic options model, so that a stage's
``with:`` keys and its command's flags are one list."""

from __future__ import annotations

import types
import typing
from typing import Any, Literal

import click
from pydantic import BaseModel

_NONE_WORDS = ("none", "off")


class _Nullable(click.ParamType):
    """A number that can also be switched off with ``none``/``off``."""

    def __init__(self, inner: click.ParamType):
        self.inner, self.name = inner, f"{inner.name}|none"

    def convert(self, value, param, ctx):
        if isinstance(value, str) and value.lower() in _NONE_WORDS:
            return None
        return self.inner.convert(value, param, ctx)


def _unwrap(annotation) -> tuple[Any, bool]:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0], True
    return annotation, False


def _click_type(annotation) -> click.ParamType:
    if typing.get_origin(annotation) is Literal:
        return click.Choice([str(a) for a in typing.get_args(annotation)])
    return {int: click.INT, float: click.FLOAT}.get(annotation, click.STRING)


def model_options(model: type[BaseModel], *, prefix: str = "", exclude: tuple[str, ...] = ()):
    """A decorator adding one ``--<prefix><field>`` option per field of ``model``.

    Unset options are None and leave the model's default in place (see :func:`set_options`).
    """

    def decorate(fn):
        for name, field in reversed(list(model.model_fields.items())):
            if name in exclude:
                continue
            flag = f"--{prefix}{name}".replace("_", "-")
            annotation, nullable = _unwrap(field.annotation)
            default = field.default
            help_text = f"{field.description or ''} [default: {default}]".strip()
            if annotation is bool:
                neg = f"--no-{prefix}{name}".replace("_", "-")
                opt = click.option(f"{flag}/{neg}", f"{prefix}{name}", default=None,
                                   help=help_text)
            else:
                ptype = _click_type(annotation)
                if nullable:
                    ptype = _Nullable(ptype)
                    help_text += " ('none' turns it off)"
                opt = click.option(flag, f"{prefix}{name}", type=ptype, default=None,
                                   help=help_text)
            fn = opt(fn)
        return fn

    return decorate


def set_options(model: type[BaseModel], values: dict[str, Any], *, prefix: str = "") -> dict[str, Any]:
    """The options the user gave (including an explicit ``none``), keyed by field name."""
    ctx = click.get_current_context()
    out = {}
    for name in model.model_fields:
        key = f"{prefix}{name}"
        if key not in values:
            continue
        source = ctx.get_parameter_source(key)
        if source is not None and source.name != "DEFAULT":
            out[name] = values[key]
    return out
