"""Column maps: which input field is the prompt, the response, the pair's replies, ...

A map is written ``prompt=question,response=answer`` (the ``--columns`` flag) or given as a
mapping (``input: {columns: {prompt: question, response: answer}}`` in a recipe). Each target
names one input field; a field inside a nested value is a dotted path (``conversation.0.text``:
key ``conversation``, element 0, key ``text``). A field whose own name has a dot is taken as it
is first.

Targets, and the shapes they make (anything else is an error that names the shapes):

    prompt + response [+ system, history]            SFT: [system] + history + user + assistant
    prompt + chosen + rejected [+ system, history]   a preference pair
    chosen + rejected                                 a pair of whole conversations (hh-rlhf)
    messages [+ system]                               SFT: a list of turns
    text                                              a document: the docs converter's sections

plus ``id`` (the record id), ``chosen_score``/``rejected_score`` and ``meta.NAME`` (a field
kept in ``meta`` under NAME) with any shape. The input's other top-level fields are kept in
``meta`` as with every format.

:func:`detect_columns` finds the map of the common shapes from a row's keys: a prompt-like field
(``prompt``, ``question``, ``query``, ``problem``, ``instruction``, ``input``) with a
response-like one (``response``, ``answer``, ``completion``, ``solution``, ``target``,
``output``) or with ``chosen`` and ``rejected`` (and ``system`` and ``history`` when there);
else a ``text`` field.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Mapping

from ..errors import CurateError
from .common import RESERVED

ROLE_TARGETS = ("prompt", "response", "system", "history", "messages", "chosen", "rejected",
                "text")
TARGETS = (*ROLE_TARGETS, "id", "chosen_score", "rejected_score")
SHAPES = ("prompt and response", "prompt, chosen and rejected", "chosen and rejected",
          "messages", "text")
PROMPT_KEYS = ("prompt", "question", "query", "problem", "instruction", "input")
RESPONSE_KEYS = ("response", "answer", "completion", "solution", "target", "output")
MISSING = object()
MISSING_KEY = "__missing__"

# the targets each shape needs, and those it may also have (besides id, scores and meta.*)
_SHAPES: tuple[tuple[frozenset, frozenset], ...] = (
    (frozenset({"prompt", "response"}), frozenset({"system", "history"})),
    (frozenset({"prompt", "chosen", "rejected"}), frozenset({"system", "history"})),
    (frozenset({"chosen", "rejected"}), frozenset()),
    (frozenset({"messages"}), frozenset({"system"})),
    (frozenset({"text"}), frozenset()),
)


@dataclass(frozen=True)
class ColumnMap:
    """target -> source path, in the order given."""

    items: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, spec: str | Mapping[str, str], *, where: str = "--columns") -> ColumnMap:
        """A map from ``"prompt=question,response=answer"`` or a mapping; CurateError names
        what is wrong (after ``where``, the flag, when given)."""
        where = f"{where}: " if where else ""
        if isinstance(spec, str):
            pairs = []
            for part in (p.strip() for p in spec.split(",")):
                if not part:
                    continue
                target, sep, source = (s.strip() for s in part.partition("="))
                if not sep or not target or not source:
                    raise CurateError(f"{where}{part!r} is not TARGET=FIELD, e.g. "
                                      "prompt=question,response=answer")
                pairs.append((target, source))
        elif isinstance(spec, Mapping):
            pairs = list(spec.items())
        else:
            raise CurateError(f"{where}expected TARGET=FIELD pairs, got {type(spec).__name__}")
        seen: dict[str, str] = {}
        for target, source in pairs:
            if not isinstance(source, str) or not source.strip():
                raise CurateError(f"{where}{target} needs a field name, got {source!r}")
            if target not in TARGETS and not (target.startswith("meta.") and len(target) > 5):
                raise CurateError(f"{where}unknown target {target!r}; targets: "
                                  f"{', '.join(TARGETS)}, meta.NAME")
            if target in seen:
                raise CurateError(f"{where}{target} is given twice ({seen[target]}, {source})")
            seen[target] = source
        out = cls(tuple(seen.items()))
        out.shape(where)
        return out

    @cached_property
    def mapping(self) -> dict[str, str]:
        return dict(self.items)

    @cached_property
    def shape_index(self) -> int:
        """The index of the shape in ``_SHAPES`` this map makes."""
        return self.shape()

    def shape(self, where: str = "--columns: ") -> int:
        """The index of the shape in ``_SHAPES`` this map makes; CurateError if none."""
        roles = {t for t, _ in self.items if t in ROLE_TARGETS}
        for i, (needs, may) in enumerate(_SHAPES):
            if needs <= roles and roles <= needs | may:
                return i
        got = ", ".join(sorted(roles)) or "no prompt or conversation field"
        raise CurateError(f"{where}give {'; or '.join(SHAPES)} (with system, history, id, "
                          f"meta.NAME where they fit); got {got}")

    @property
    def kind(self) -> str:
        """sft, preference, or docs (``text``)."""
        return ("sft", "preference", "preference", "sft", "docs")[self.shape_index]

    def __str__(self) -> str:
        return ",".join(f"{t}={s}" for t, s in self.items)

    def source(self, target: str) -> str:
        return self.mapping.get(target, target)

    def row(self, data: dict) -> dict:
        """The row in targets: ``{target: value or None}`` for the role targets, ``id``,
        ``source`` and ``__split__`` (the input's own, unless mapped), and ``meta``: the
        ``meta.*`` fields and the input's top-level fields the map does not use. ``MISSING_KEY``
        holds, per target whose field is not there, where the path ends."""
        out: dict[str, Any] = {MISSING_KEY: {}}
        meta: dict[str, Any] = {}
        used = set()
        for target, path in self.items:
            value = lookup(data, path)
            used.add(path if path in data else path.split(".", 1)[0])
            if target.startswith("meta."):
                if value is not MISSING:
                    meta[target[5:]] = value
            else:
                out[target] = None if value is MISSING else value
                if value is MISSING:
                    out[MISSING_KEY][target] = explain_missing(data, path)
        for key in ("id", "source", "__split__"):
            if key not in out and data.get(key) is not None:
                out[key] = data[key]
        skip = RESERVED | used
        out["meta"] = {**{k: v for k, v in data.items() if k not in skip}, **meta}
        return out


def lookup(data: dict, path: str) -> Any:
    """The value at ``path`` (a key, or a dotted path of keys and list indexes), or MISSING."""
    if path in data:
        return data[path]
    value: Any = data
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, (list, tuple)) and _index(part, len(value)) is not None:
            value = value[_index(part, len(value))]
        else:
            return MISSING
    return value


def explain_missing(data: dict, path: str) -> str:
    """Where the path ``path`` ends in ``data``: ``no key 'txt' in conversation.0 (its keys:
    role, text)``."""
    value: Any = data
    done: list[str] = []
    for part in path.split("."):
        where = ".".join(done) or "the row"
        if isinstance(value, dict):
            if part not in value:
                keys = ", ".join(sorted(map(str, value))[:12]) or "none"
                return f"no key '{part}' in {where} (its keys: {keys})"
            value = value[part]
        elif isinstance(value, (list, tuple)):
            i = _index(part, len(value))
            if i is None:
                return f"{where} is a list of {len(value)}, with no element {part!r}"
            value = value[i]
        else:
            return f"{where} is {type(value).__name__}, not an object or a list"
        done.append(part)
    return "not there"


def _index(part: str, n: int) -> int | None:
    try:
        i = int(part)
    except ValueError:
        return None
    return i if -n <= i < n else None


def detect_columns(keys: set[str]) -> ColumnMap | None:
    """The map of a common shape from a row's keys, or None."""
    prompt = next((k for k in PROMPT_KEYS if k in keys), None)
    items: list[tuple[str, str]] = []
    if prompt is not None and {"chosen", "rejected"} <= keys:
        items = [("prompt", prompt), ("chosen", "chosen"), ("rejected", "rejected")]
    elif prompt is not None:
        response = next((k for k in RESPONSE_KEYS if k in keys and k != prompt), None)
        if response is not None:
            items = [("prompt", prompt), ("response", response)]
    if items:
        if "history" in keys and prompt != "history":
            items.insert(0, ("history", "history"))
        if "system" in keys:
            items.insert(0, ("system", "system"))
        return ColumnMap(tuple(items))
    if "text" in keys:
        return ColumnMap((("text", "text"),))
    return None
