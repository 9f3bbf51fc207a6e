"""Curate's own record rows: ``messages`` (SFT) or ``prompt``/``chosen``/``rejected``
(preference), ``kind`` optional when inferable. ``meta`` may be an object or a JSON string;
a string prompt is a user turn and a string reply an assistant turn."""

from __future__ import annotations

import json

from ..errors import RowError
from ..record_schema import KINDS
from .common import content_text, extras, messages, number, preference, require, sft, turn

NAME = "records"
KIND = "mixed"
USED = ("kind", "messages", "prompt", "chosen", "rejected", "chosen_score", "rejected_score",
        "meta")
ROLES = {r: r for r in ("system", "user", "assistant", "tool")}


def matches(keys: set[str]) -> bool:
    return ("kind" in keys and "messages" in keys) or {"prompt", "chosen", "rejected"} <= keys


def _meta(value: object) -> dict:
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise RowError("wrong_type", "meta is not a JSON object", field="meta") from None
    if not isinstance(value, dict):
        raise RowError("wrong_type", f"meta must be an object, got {type(value).__name__}",
                       field="meta")
    return dict(value)


def _conversation(value: object, field: str, role: str) -> list[dict]:
    if isinstance(value, str):
        return [turn(role, content_text(value, field))]
    return messages(value, field, ROLES)


def to_records(data: dict) -> list[dict]:
    kind = data.get("kind") or ("sft" if data.get("messages") is not None else "preference")
    if kind not in KINDS:
        raise RowError("wrong_type", f"kind must be one of {', '.join(KINDS)}, got {kind!r}",
                       field="kind")
    meta = _meta(data.get("meta"))
    meta.update(extras(data, USED))
    if kind == "sft":
        return [sft(messages(require(data, "messages"), "messages", ROLES), "messages", meta)]
    if kind in ("prompt", "passage"):  # rows waiting for generation
        turns = _conversation(require(data, "prompt"), "prompt", "user")
        return [{"kind": kind, "prompt": turns, "meta": meta}]
    return [preference(
        _conversation(require(data, "prompt"), "prompt", "user"),
        _conversation(require(data, "chosen"), "chosen", "assistant"),
        _conversation(require(data, "rejected"), "rejected", "assistant"),
        meta,
        chosen_score=number(data.get("chosen_score"), "chosen_score"),
        rejected_score=number(data.get("rejected_score"), "rejected_score"))]
