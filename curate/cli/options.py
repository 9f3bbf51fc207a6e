"""Click options generated from stages' options models, so that a stage's ``with:`` keys and
its command's flags are one list: the type, the range, the choices and the help text (the
field's docstring) and the default (the field's default) are written once, in the model.

A stage appears on a command through its declaration (:mod:`curate.stages.base`):
``command`` (which command), ``cli_name`` (its switch, e.g. ``--toxicity``, or its
``--method``/``--task`` value, and the default prefix of its flags), ``cli_prefix`` and
``cli_names`` (exceptions), ``cli_switch`` (a field whose flag is the switch itself: ``--pii
redact``), ``cli_hidden`` (fields without a flag), ``cli_default_on`` and ``cli_order``. A
list field marked ``json_schema_extra={"repeat": True}`` is a repeatable flag (``--judge A
--judge B``) rather than a comma list.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

import annotated_types
import click
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ..stages.base import Choices

_NONE_WORDS = ("none", "off")


class _Nullable(click.ParamType):
    """A value that can also be switched off with ``none``/``off``."""

    def __init__(self, inner: click.ParamType):
        self.inner, self.name = inner, f"{inner.name}|none"

    def convert(self, value, param, ctx):
        if isinstance(value, str) and value.lower() in _NONE_WORDS:
            return None
        return self.inner.convert(value, param, ctx)


class _Choice(click.Choice):
    """A Literal's values; ``best-worst`` is also taken for a value spelled ``best_worst``."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and value not in self.choices:
            spelled = value.replace("-", "_")
            if spelled in self.choices:
                return spelled
        return super().convert(value, param, ctx)


class _KeyValue(click.ParamType):
    """``KEY=VALUE`` with a value of ``inner``'s type; a repeated option gives a dict."""

    name = "KEY=VALUE"

    def __init__(self, inner: click.ParamType, example: str | None = None):
        self.inner, self.example = inner, example

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        key, sep, raw = str(value).partition("=")
        if not sep or not key:
            example = f", e.g. {self.example}" if self.example else ""
            self.fail(f"{value!r}: expected KEY=VALUE{example}", param, ctx)
        try:
            return key, self.inner.convert(raw, param, ctx)
        except click.BadParameter as exc:
            self.fail(f"{value!r}: {exc.message}", param, ctx)


class _CommaList(click.ParamType):
    """A list given as ``a,b,c`` (each item of ``inner``'s type)."""

    def __init__(self, inner: click.ParamType):
        self.inner, self.name = inner, f"{inner.name},..."

    def convert(self, value, param, ctx):
        if isinstance(value, list):
            return value
        items = [v.strip() for v in str(value).split(",") if v.strip()]
        return [self.inner.convert(v, param, ctx) for v in items]


class _NumberOrWord(click.ParamType):
    """A number (of ``number``'s type and range) or one of ``words`` (e.g. ``auto``)."""

    def __init__(self, number: click.ParamType, words: list[str]):
        self.number, self.words = number, words
        self.name = f"{number.name}|{'|'.join(words)}"

    def convert(self, value, param, ctx):
        if isinstance(value, str) and value.lower() in self.words:
            return value.lower()
        try:
            return self.number.convert(value, param, ctx)
        except click.BadParameter as exc:
            self.fail(f"{exc.message.rstrip('.')}; or one of: {', '.join(self.words)}",
                      param, ctx)


def _unwrap(annotation) -> tuple[Any, bool]:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]), True
    return annotation, False


def _bounds(info: FieldInfo) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in info.metadata:
        if isinstance(m, annotated_types.Ge):
            out["min"] = m.ge
        elif isinstance(m, annotated_types.Gt):
            out["min"], out["min_open"] = m.gt, True
        elif isinstance(m, annotated_types.Le):
            out["max"] = m.le
        elif isinstance(m, annotated_types.Lt):
            out["max"], out["max_open"] = m.lt, True
    return out


def _click_type(annotation, info: FieldInfo) -> click.ParamType:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return _Choice([str(a) for a in typing.get_args(annotation)])
    if origin is list:
        return _CommaList(_click_type(typing.get_args(annotation)[0], FieldInfo()))
    if origin in (typing.Union, types.UnionType):  # a number, or a word such as auto
        args = typing.get_args(annotation)
        words = [str(w) for a in args if typing.get_origin(a) is Literal
                 for w in typing.get_args(a)]
        numbers = [a for a in args if typing.get_origin(a) is not Literal]
        if words and len(numbers) == 1:
            return _NumberOrWord(_click_type(numbers[0], info), words)
        return click.STRING
    if typing.get_origin(annotation) is typing.Annotated:
        base, *meta = typing.get_args(annotation)
        merged = FieldInfo.merge_field_infos(FieldInfo.from_annotation(annotation), info)
        return _click_type(base, merged)
    choices = _choices(info)
    if choices is not None:
        return _Choice(choices.names())
    bounds = _bounds(info)
    if annotation is float:
        return click.FloatRange(**bounds) if bounds else click.FLOAT
    if annotation is int:
        bounds = {k: v for k, v in bounds.items() if not k.endswith("_open")}
        return click.IntRange(**bounds) if bounds else click.INT
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if extra.get("path") == "file":
        return click.Path(exists=True, dir_okay=False)
    if extra.get("path") == "dir":
        return click.Path(exists=True, file_okay=False)
    return click.STRING


def _choices(info: FieldInfo) -> Choices | None:
    return next((m for m in info.metadata if isinstance(m, Choices)), None)


def describe(info: FieldInfo) -> str:
    """A field's help: the first sentence of its description (or its :class:`Choices`' help),
    markup removed."""
    choices = _choices(info)
    if choices is not None and choices.help is not None:
        return re.sub(r"\s+", " ", choices.help()).strip()
    text = re.sub(r"\s+", " ", info.description or "").strip().replace("``", "")
    return re.split(r"(?<=[.!?])\s+(?=[A-Z(])", text, maxsplit=1)[0]


def _default(info: FieldInfo) -> Any:
    if info.default_factory is not None:
        return info.default_factory()
    return info.default


@dataclass
class Flag:
    """One command-line option and the stage fields it sets."""

    name: str                  # --name
    param: str                 # click's parameter name
    info: FieldInfo
    annotation: Any
    members: list[tuple[type, str]] = field(default_factory=list)  # (stage class, field)
    # stages' fields of different types share the flag: click takes any value of the base
    # type, the options model checks it (and the error is said as this flag)
    loose: bool = False

    @property
    def repeat(self) -> bool:
        extra = self.info.json_schema_extra
        return isinstance(extra, dict) and bool(extra.get("repeat"))

    def option(self, help_text: str):
        annotation, nullable = _unwrap(self.annotation)
        if self.loose:
            nullable = any(_unwrap(cls.Options.model_fields[name].annotation)[1]
                           for cls, name in self.members)
            ptype = _click_type(annotation, FieldInfo())
            return click.option(self.name, self.param, default=None, help=help_text,
                                type=_Nullable(ptype) if nullable else ptype)
        if self.repeat and typing.get_origin(annotation) is list:
            inner = _click_type(typing.get_args(annotation)[0], FieldInfo())
            return click.option(self.name, self.param, type=inner, multiple=True,
                                metavar=self.info.json_schema_extra.get("metavar"),
                                help=help_text)
        if annotation is bool:
            neg = self.name.replace("--", "--no-", 1)
            return click.option(f"{self.name}/{neg}", self.param, default=None, help=help_text)
        if typing.get_origin(annotation) is dict:
            inner = _click_type(typing.get_args(annotation)[1], FieldInfo())
            extra = self.info.json_schema_extra if isinstance(self.info.json_schema_extra,
                                                              dict) else {}
            if extra.get("path") == "values":
                inner = click.Path(exists=True)
            example = next((" ".join(f"{k}={v}" for k, v in e.items())
                            for e in self.info.examples or [] if isinstance(e, dict)), None)
            return click.option(self.name, self.param, type=_KeyValue(inner, example),
                                multiple=True, help=help_text + " Repeatable.")
        ptype = _click_type(annotation, self.info)
        if nullable:
            ptype = _Nullable(ptype)
            if self.info.default is not None:
                help_text += " ('none' turns it off)"
        return click.option(self.name, self.param, type=ptype, default=None, help=help_text)


def flag_name(cls, name: str) -> str:
    """The flag of a stage's option field: ``cli_names`` or the prefix + the field name."""
    if name in cls.cli_names:
        return "--" + cls.cli_names[name]
    if name == getattr(cls, "cli_switch", None):
        return f"--{cls.cli_name}"
    prefix = cls.cli_prefix if cls.cli_prefix is not None else (
        f"{cls.cli_name}-" if cls.cli_name else "")
    return f"--{prefix}{name}".replace("_", "-")


def stage_flags(stages: list[type], *, exclude: tuple[str, ...] = ()) -> list[Flag]:
    """The flags of ``stages``' options; stages sharing a flag name share one option."""
    flags: dict[str, Flag] = {}
    for cls in stages:
        for name, info in cls.Options.model_fields.items():
            if name in exclude or name in getattr(cls, "cli_hidden", ()):
                continue
            flag = flag_name(cls, name)
            if flag not in flags:
                param = flag[2:].replace("-", "_")
                flags[flag] = Flag(flag, param, info, info.annotation)
            elif (info.annotation, info.metadata) != (flags[flag].annotation,
                                                     flags[flag].info.metadata):
                flags[flag].loose = True
            flags[flag].members.append((cls, name))
    return list(flags.values())


def _help(flag: Flag, label: bool, everyone: int = 0) -> str:
    """The flag's help; with ``label``, each text says which stages it is of, unless it is
    the same for all ``everyone`` stages of the command."""
    texts = {}
    for cls, name in flag.members:
        info = cls.Options.model_fields[name]
        default = _default(info)
        text = f"{describe(info)} [default: {'none' if default is None else default}]"
        texts.setdefault(text, []).append(cls.cli_name)
    if len(texts) == 1 and (not label or len(flag.members) == everyone):
        return next(iter(texts))
    return "; ".join(f"{'/'.join(owners)}: {text}" for text, owners in texts.items())


def options_of(stages: list[type], *, exclude: tuple[str, ...] = (), label: bool = False):
    """A decorator adding one option per flag of ``stages`` (see :func:`stage_flags`); with
    ``label``, each help text says which stages (by ``cli_name``) an option applies to, unless
    it applies to all alike."""
    flags = stage_flags(stages, exclude=exclude)
    shared = label or any(len(f.members) > 1 for f in flags)

    def decorate(fn):
        for flag in reversed(flags):
            fn = flag.option(_help(flag, shared and len(stages) > 1, len(stages)))(fn)
        return fn
    return decorate


def given(flags: list[Flag], values: dict[str, Any]) -> dict[str, Any]:
    """The flags the user gave (an explicit ``none`` included), by parameter name; a
    repeated ``KEY=VALUE`` option as a dict."""
    ctx = click.get_current_context()
    out = {}
    for flag in flags:
        source = ctx.get_parameter_source(flag.param)
        if source is None or source.name == "DEFAULT" or flag.param not in values:
            continue
        value = values[flag.param]
        if isinstance(value, tuple) and value and isinstance(value[0], tuple):
            value = dict(value)
        elif isinstance(value, tuple) and not value:
            continue
        elif isinstance(value, tuple):  # a repeated flag
            value = list(value)
        out[flag.param] = value
    return out


def _holder(model: type[BaseModel], prefix: str) -> type:
    """A stand-in stage declaration for an options model that is not a stage's."""
    return type("Options", (), {"Options": model, "cli_name": "", "cli_prefix": prefix,
                                "cli_names": {}})


def model_options(model: type[BaseModel], *, prefix: str = "", exclude: tuple[str, ...] = ()):
    """A decorator adding one ``--<prefix><field>`` option per field of ``model``."""
    return options_of([_holder(model, prefix)], exclude=exclude)


def set_options(model: type[BaseModel], values: dict[str, Any], *,
                prefix: str = "") -> dict[str, Any]:
    """The options of ``model`` the user gave (including an explicit ``none``), by field."""
    return fields_given(stage_flags([_holder(model, prefix)]), values)


def fields_given(flags: list[Flag], values: dict[str, Any], cls: type | None = None
                 ) -> dict[str, Any]:
    """What :func:`given` found, by field name (of ``cls`` only, when given)."""
    chosen = given(flags, values)
    return {name: chosen[f.param] for f in flags for owner, name in f.members
            if f.param in chosen and (cls is None or owner is cls)}
